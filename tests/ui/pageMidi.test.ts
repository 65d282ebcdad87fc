/**
 * A MIDI controller on the machine that shows the page (not the session's):
 * the page reads it through Web MIDI and sends it as `midiIn`, and the session
 * learns, binds and plays it as it does its own ports. Headless Chromium has no
 * MIDI devices, so the page gets a fake `navigator.requestMIDIAccess` with one
 * input the test fires messages from (the one allowed mock: hardware we cannot
 * have); the session, server and browser are real.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { openMidiSystem } from '../../src/engine/node/midi/system.ts';
import { until } from '../support/wait.ts';
import { ARTIFACTS, startShow, type Show } from './support.ts';

const dir = mkdtempSync(join(tmpdir(), 'ecosym-ui-page-midi-'));
let show: Show;

/** Runs in the page before its scripts: a Web MIDI access with one input, "Front Knobs". */
function fakeWebMidi(): void {
  type Listener = ((e: unknown) => void) | null;
  const input = {
    id: 'front-knobs-1',
    name: 'Front Knobs',
    manufacturer: 'Test',
    version: '1',
    type: 'input',
    state: 'connected',
    connection: 'closed',
    onmidimessage: null as Listener,
    onstatechange: null as Listener,
    open() {
      this.connection = 'open';
      return Promise.resolve(this);
    },
    close() {
      this.connection = 'closed';
      return Promise.resolve(this);
    },
    addEventListener() {},
    removeEventListener() {},
  };
  const access = { inputs: new Map([[input.id, input]]), outputs: new Map(), sysexEnabled: false, onstatechange: null as Listener };
  Object.defineProperty(navigator, 'requestMIDIAccess', { configurable: true, value: () => Promise.resolve(access) });
  (window as unknown as { fireMidi: (bytes: number[]) => void }).fireMidi = (bytes) => input.onmidimessage?.({ data: new Uint8Array(bytes), timeStamp: performance.now() });
}

const fire = (page: Page, bytes: number[]) => page.evaluate((b) => (window as unknown as { fireMidi: (bytes: number[]) => void }).fireMidi(b), bytes);

beforeAll(async () => {
  // The session's own MIDI: JavaScript ports only, the same on every machine.
  const s = await openMidiSystem({ virtual: true });
  if ('unavailable' in s) throw new Error(s.unavailable);
  const file = join(dir, 'front.yaml');
  // density 0: the voice is silent until MIDI plays it
  writeFileSync(
    file,
    `name: front
streams:
  wind: { default: 3 }
voices:
  pad: { synth: synth, oscillator: sine, volume: -6, density: 0, rhythm: { pattern: 'x...' } }
midi:
  play: { pad: all }
`,
  );
  show = await startShow(file, { midi: true });
  await until(() => show.session.bridges.midi !== undefined, 'the MIDI bridge');
}, 120_000);
afterAll(async () => {
  await show?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function volumeNear(db: number): Promise<number | undefined> {
  let v: number | undefined;
  for (let i = 0; i < 300 && (v === undefined || Math.abs(v - db) > 0.5); i++) {
    await new Promise((r) => setTimeout(r, 50));
    v = (await show.state()).params?.['master.volume'];
  }
  return v;
}

describe('UI: MIDI on the page', () => {
  it('lists the page\'s MIDI input in Settings; a control learnt from it drives the session, and its notes play the patch', async () => {
    const { page, problems } = await show.page({ width: 1024, height: 768 });
    await page.addInitScript(fakeWebMidi);
    await page.goto(`${show.server.baseUrl}?token=${show.server.token}#/Settings`);
    await page.getByRole('status', { name: 'Connection' }).getByText('connected').waitFor();
    await page.getByRole('button', { name: "Use this page's MIDI inputs" }).click();
    const sw = page.getByRole('switch', { name: 'Forward Front Knobs' });
    await sw.waitFor();
    expect(await sw.isChecked()).toBe(true);
    await page.getByRole('heading', { name: 'MIDI on this page' }).scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(ARTIFACTS, 'settings-page-midi-1024.png'), fullPage: true });

    // MIDI learn from the Perform screen, with a control moved on the page's controller.
    await page.goto(`${show.server.baseUrl}?token=${show.server.token}#/Perform`);
    await page.getByRole('button', { name: 'MIDI learn Master volume' }).click();
    await page.getByText('MIDI learn: move a control').waitFor();
    for (let i = 0; i < 100 && (show.session.bridges.midi?.learnedBindings.length ?? 0) === 0; i++) {
      await fire(page, [0xb0, 22, 64 + (i % 2) * 2]);
      await new Promise((r) => setTimeout(r, 60));
    }
    expect(show.session.bridges.midi?.learnedBindings).toMatchObject([{ cc: 22, to: 'master.volume' }]);
    await fire(page, [0xb0, 22, 0]);
    expect(await volumeNear(-30)).toBeCloseTo(-30, 0);
    await fire(page, [0xb0, 22, 127]);
    expect(await volumeNear(0)).toBeCloseTo(0, 0);

    // A note from the page plays the patch's MIDI-played voice (silent before).
    const before = show.session.outputLevels().peak;
    expect(before).toBeLessThan(0.001);
    await fire(page, [0x90, 60, 110]);
    await until(() => show.session.outputLevels().peak > 0.05, 'the note to sound', 20_000);
    await fire(page, [0x80, 60, 0]);

    // Switched off, the input sends nothing more.
    await page.goto(`${show.server.baseUrl}?token=${show.server.token}#/Settings`);
    await sw.uncheck();
    const messages = show.session.bridges.midi!.stats.in.messages;
    await fire(page, [0xb0, 22, 0]);
    await new Promise((r) => setTimeout(r, 300));
    expect(show.session.bridges.midi!.stats.in.messages).toBe(messages);
    expect(problems).toEqual([]);
    await page.context().close();
  }, 120_000);
});
