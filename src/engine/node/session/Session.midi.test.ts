/**
 * A MIDI control bound to a stream, through the session: the value passes the
 * stream's gate like a feed's (JZZ's JavaScript ports, no hardware; real time
 * on a context with no device).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadPatchFile } from '../files.ts';
import { openMidiSystem, virtualPorts } from '../midi/system.ts';
import { Session } from './Session.ts';
import { until } from '../../../../tests/support/wait.ts';

const dir = mkdtempSync(join(tmpdir(), 'ecosym-session-midi-'));
let session: Session;
let send: (bytes: number[]) => void;

beforeAll(async () => {
  // The session opens the MIDI system the process has open: here, JavaScript ports only.
  const s = await openMidiSystem({ virtual: true });
  if ('unavailable' in s) throw new Error(s.unavailable);
  const ports = await virtualPorts();
  send = ports.addInput('Session Knobs');
  const file = join(dir, 'knob.yaml');
  writeFileSync(
    file,
    `name: knob
streams:
  knob: { default: 0.6, valid: [0.5, 1] }
signals:
  k: { from: knob, range: [0, 1] }
voices:
  pad: { synth: synth, oscillator: sine, rhythm: { hold: true } }
midi:
  input: Session Knobs
  controls: [{ cc: 74, stream: knob }]
`,
  );
  session = await Session.open({ patch: loadPatchFile(file), sink: 'none', cacheDir: false });
  await session.start();
  await until(() => session.bridges.midi?.ports.input === 'Session Knobs', 'the MIDI input to open', 20_000);
}, 60_000);
afterAll(async () => {
  await session?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('Session and MIDI', () => {
  it('a control value outside the stream\'s valid range is refused at the gate and counted; one inside reaches the engine', async () => {
    send([0xb0, 74, 127]); // 1.0: valid
    await until(() => session.snapshot().streams.knob!.raw === 1, 'CC 127 to reach the stream');
    expect(session.engine.values().streams.knob).toBe(1);
    await new Promise((r) => setTimeout(r, 50));
    send([0xb0, 74, 0]); // 0.0: below valid [0.5, 1]
    await until(() => (session.snapshot().streams.knob!.rejected['out-of-range'] ?? 0) === 1, 'CC 0 to be refused');
    expect(session.engine.values().streams.knob).toBe(1);
    expect(session.snapshot().streams.knob!.raw).toBe(1);
  }, 30_000);

  it('midiIn (a page\'s controller) goes through the same bindings as the port; bad bytes get an error saying where, and nothing stops', async () => {
    await new Promise((r) => setTimeout(r, 50));
    const ok = await session.handle({ type: 'midiIn', port: 'Page Knobs', messages: [[0xb0, 74, 100]] });
    expect(ok).toMatchObject({ ok: true });
    await until(() => session.snapshot().streams.knob!.raw === 100 / 127, 'CC 100 from the page to reach the stream');
    const bad: [unknown, RegExp][] = [
      [[[0x30, 74, 1]], /messages\.0.*status byte/],
      [[[0xb0, 74, 200]], /messages\.0/],
      [[[0xb0, 74]], /takes 3 bytes, got 2/],
      [[[0xf0, 1, 0xf7]], /SysEx/],
      [[], /messages/],
      ['b0 4a 01', /messages/],
    ];
    for (const [messages, error] of bad) {
      const r = await session.handle({ type: 'midiIn', port: 'Page Knobs', messages });
      expect(r.ok, JSON.stringify(messages)).toBe(false);
      expect(r.ok ? '' : r.error).toMatch(error);
    }
    expect((await session.handle({ type: 'midiIn', port: '', messages: [[0xb0, 74, 1]] })).ok).toBe(false);
    // the bad ones reached nothing; the session still takes the page's messages
    expect(session.snapshot().streams.knob!.raw).toBe(100 / 127);
    await new Promise((r) => setTimeout(r, 50));
    expect((await session.handle({ type: 'midiIn', port: 'Page Knobs', messages: [[0xb0, 74, 127]] })).ok).toBe(true);
    await until(() => session.snapshot().streams.knob!.raw === 1, 'CC 127 from the page');
  }, 30_000);
});
