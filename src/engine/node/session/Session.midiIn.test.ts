/**
 * A session on a machine without MIDI ports (ECOSYM_MIDI=off here) still takes
 * MIDI from a controller elsewhere (`midiIn`, a page's Web MIDI): its bridge
 * runs without ports, plays notes and learns, and `list midiPorts` says why
 * there are no ports.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadPatchFile } from '../files.ts';
import { Session } from './Session.ts';
import { until } from '../../../../tests/support/wait.ts';

const dir = mkdtempSync(join(tmpdir(), 'ecosym-session-midiin-'));
let session: Session;
const logs: string[] = [];
const before = process.env.ECOSYM_MIDI;

beforeAll(async () => {
  process.env.ECOSYM_MIDI = 'off';
  const file = join(dir, 'keys.yaml');
  writeFileSync(
    file,
    `name: keys
streams:
  wind: { default: 3 }
voices:
  keys: { synth: synth, oscillator: sine, density: 0, rhythm: { pattern: 'x' } }
midi:
  input: Some Keyboard
  play: { keys: all }
`,
  );
  session = await Session.open({ patch: loadPatchFile(file), sink: 'none', cacheDir: false, log: (l: string) => logs.push(l) });
  await session.start();
}, 60_000);
afterAll(async () => {
  await session?.stop();
  if (before === undefined) delete process.env.ECOSYM_MIDI;
  else process.env.ECOSYM_MIDI = before;
  rmSync(dir, { recursive: true, force: true });
});

describe('Session: MIDI from elsewhere without MIDI ports', () => {
  it('plays and learns from midiIn; says why there are no ports', async () => {
    expect(session.bridges.midi).toBeDefined();
    expect(await session.handle({ type: 'list', what: 'midiPorts' })).toMatchObject({ ok: true, data: { available: false, reason: 'MIDI is turned off (ECOSYM_MIDI=off)' } });
    expect((await session.handle({ type: 'midiIn', port: 'Front Keys', messages: [[0x90, 60, 100]] })).ok).toBe(true);
    expect(session.engine.heldNotes).toBe(1);
    expect((await session.handle({ type: 'midiIn', port: 'Front Keys', messages: [[0x80, 60, 0]] })).ok).toBe(true);
    expect(session.engine.heldNotes).toBe(0);

    expect((await session.handle({ type: 'midiLearn', target: 'master.volume' })).ok).toBe(true);
    for (let i = 0; i < 50 && session.bridges.midi!.learnedBindings.length === 0; i++) {
      await session.handle({ type: 'midiIn', port: 'Front Keys', messages: [[0xb0, 30, 10 + (i % 2) * 2]] });
      await new Promise((r) => setTimeout(r, 30));
    }
    expect(session.bridges.midi!.learnedBindings).toMatchObject([{ cc: 30, to: 'master.volume' }]);
    await session.handle({ type: 'midiIn', port: 'Front Keys', messages: [[0xb0, 30, 0]] });
    await until(() => Math.abs((session.snapshot().params?.['master.volume'] ?? 0) + 30) < 0.5, 'CC 0 to set master.volume to -30 dB');
  }, 30_000);
});
