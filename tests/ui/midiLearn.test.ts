/**
 * MIDI learn from the Perform screen: `MIDI learn Master volume`, then a
 * control moved on a controller (a JZZ virtual port: no hardware) is bound to
 * the master volume, and moving it moves the session's value and the slider.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openMidiSystem, virtualPorts } from '../../src/engine/node/midi/system.ts';
import { until } from '../support/wait.ts';
import { startShow, type Show } from './support.ts';

const dir = mkdtempSync(join(tmpdir(), 'ecosym-ui-midi-'));
let show: Show;
let send: (bytes: number[]) => void;

beforeAll(async () => {
  const s = await openMidiSystem({ virtual: true });
  if ('unavailable' in s) throw new Error(s.unavailable);
  send = (await virtualPorts()).addInput('UI Knobs');
  const file = join(dir, 'learn.yaml');
  writeFileSync(
    file,
    `name: learn
streams:
  wind: { default: 3 }
voices:
  pad: { synth: synth, oscillator: sine, volume: -12, rhythm: { hold: true } }
midi:
  input: UI Knobs
`,
  );
  show = await startShow(file, { midi: true });
  await until(() => show.session.bridges.midi?.ports.input === 'UI Knobs', 'the MIDI input to open', 30_000);
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

describe('UI: MIDI learn', () => {
  it('binds the next control moved to Master volume, which then moves the session value and the slider', async () => {
    const { page, problems } = await show.page();
    await page.goto(`${show.server.baseUrl}?token=${show.server.token}#/Perform`);
    await page.getByRole('status', { name: 'Connection' }).getByText('connected').waitFor();
    await page.getByRole('button', { name: 'MIDI learn Master volume' }).click();
    await page.getByText('MIDI learn: move a control').waitFor();
    await until(() => show.session.bridges.midi !== undefined, 'the bridge');
    // Learning is armed by the reply; move CC 21 until it is bound (a move: two different values).
    for (let i = 0; i < 100 && (show.session.bridges.midi?.learnedBindings.length ?? 0) === 0; i++) {
      send([0xb0, 21, 64 + (i % 2) * 2]);
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(show.session.bridges.midi?.learnedBindings.length).toBe(1);
    const range = [-30, 0]; // master.volume's mapping range (targets.ts)
    send([0xb0, 21, 0]);
    expect(await volumeNear(range[0]!)).toBeCloseTo(range[0]!, 0);
    send([0xb0, 21, 127]);
    expect(await volumeNear(range[1]!)).toBeCloseTo(range[1]!, 0);
    // The slider follows the session.
    await page.waitForFunction(() => Math.abs(Number((document.getElementById('master-volume') as HTMLInputElement).value)) < 0.6, undefined, { timeout: 30_000 });
    expect(problems).toEqual([]);
    await page.context().close();
  }, 120_000);
});
