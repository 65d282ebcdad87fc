/**
 * An installation's maxLevel: the session's master ceiling. No patch, no
 * parameter and no command can take the output above it (measured on a
 * recording of the real-time output), while the same commands without a
 * ceiling go well above it.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadPatchFile } from '../files.ts';
import { Session } from './Session.ts';
import { until } from '../../../../tests/support/wait.ts';

const dir = mkdtempSync(join(tmpdir(), 'ecosym-maxlevel-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const LOUD = (name: string) => `name: ${name}
tempo: 120
streams:
  x: { default: 1 }
voices:
  saw:
    synth: synth
    oscillator: sawtooth
    volume: 0
    envelope: { attack: 0.01, release: 0.2 }
    notes: { mode: chord, octave: 3 }
    rhythm: { hold: true }
master: { volume: 12, ceiling: -0.1 }
`;
writeFileSync(join(dir, 'loud.yaml'), LOUD('loud'));
writeFileSync(join(dir, 'louder.yaml'), LOUD('louder'));

/** Peak (dBFS) of a float stereo WAV written by the session's recorder. */
function peakDb(path: string): number {
  const b = readFileSync(path);
  const all = new Float32Array(b.buffer.slice(b.byteOffset + 44, b.byteOffset + 44 + b.readUInt32LE(40)));
  let p = 0;
  for (const x of all) p = Math.max(p, Math.abs(x));
  return 20 * Math.log10(p);
}

async function loudestTake(maxLevelDb: number | undefined, name: string): Promise<number> {
  const session = await Session.open({ patch: loadPatchFile(join(dir, 'loud.yaml')), sink: 'none', cacheDir: false, midi: false, patchesDir: dir, maxLevelDb });
  try {
    await session.start();
    await until(() => (session.snapshot().rmsDb ?? -Infinity) > -40, 'the saw to sound', 30_000);
    const path = join(dir, 'out', `${name}.wav`);
    const ok = async (c: unknown) => {
      const r = await session.handle(c);
      if (!r.ok) throw new Error(`${JSON.stringify(c)}: ${r.error}`);
    };
    await ok({ type: 'record', action: 'start', path: `${name}.wav` });
    // Everything a UI or an OSC message could do to make it louder.
    await ok({ type: 'param', target: 'master.volume', value: 12 });
    await ok({ type: 'param', target: 'saw.volume', value: 6 });
    await ok({ type: 'load', patch: { path: join(dir, 'louder.yaml') }, crossfade: 0.2 });
    await until(() => (session.snapshot().recording?.seconds ?? 0) > 1.5, '1.5 s recorded', 30_000);
    await ok({ type: 'record', action: 'stop' });
    return peakDb(path);
  } finally {
    await session.stop();
  }
}

describe('maxLevel (the session master ceiling)', () => {
  it('no patch, parameter or load goes above it; without it the same commands do', async () => {
    const capped = await loudestTake(-24, 'capped');
    const free = await loudestTake(undefined, 'free');
    expect(capped).toBeLessThanOrEqual(-24 + 1e-3);
    expect(capped).toBeGreaterThan(-30); // it still plays, at the cap
    expect(free).toBeGreaterThan(-6);
  }, 120_000);

  it('a level cap (quiet hours) is measured lower on the real-time output; a cap above maxLevel does not lift it', async () => {
    const session = await Session.open({ patch: loadPatchFile(join(dir, 'loud.yaml')), sink: 'none', cacheDir: false, midi: false, patchesDir: dir, maxLevelDb: -6, fadeIn: 0.5 });
    try {
      await session.start();
      await until(() => (session.snapshot().rmsDb ?? -Infinity) > -20, 'the saw to sound', 30_000);
      const take = async (name: string) => {
        const path = join(dir, 'out', `${name}.wav`);
        await session.handle({ type: 'record', action: 'start', path: `${name}.wav` });
        await until(() => (session.snapshot().recording?.seconds ?? 0) > 0.5, '0.5 s recorded', 30_000);
        await session.handle({ type: 'record', action: 'stop' });
        return peakDb(path);
      };
      const free = await take('uncapped');
      const r = await session.handle({ type: 'levelCap', db: -30 });
      expect(r).toMatchObject({ ok: true, data: { db: -30, ceiling: -6 } });
      expect(session.snapshot().levelCapDb).toBe(-30);
      await new Promise((res) => setTimeout(res, 200));
      const capped = await take('quiet');
      // A cap above maxLevel is maxLevel: it does not make the output louder than the ceiling.
      await session.handle({ type: 'levelCap', db: -1 });
      await session.handle({ type: 'param', target: 'master.volume', value: 12 });
      await new Promise((res) => setTimeout(res, 1500));
      const lifted = await take('lifted');
      expect(free).toBeGreaterThan(-9);
      expect(capped).toBeLessThanOrEqual(-30 + 1e-3);
      expect(capped).toBeLessThan(free - 20);
      expect(lifted).toBeLessThanOrEqual(-6 + 1e-3);
      expect(lifted).toBeGreaterThan(-9);
    } finally {
      await session.stop();
    }
  }, 120_000);
});
