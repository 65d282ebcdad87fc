/**
 * What the UI reads from a session's snapshot beside levels and streams: the
 * patch's scenes with their fades, its mappings with each target's value now,
 * the performer's parameters (`master.volume`), and the streams' descriptions.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadPatchFile } from '../files.ts';
import { Session } from './Session.ts';
import { Snapshot } from '../../../shared/protocol.ts';
import { until } from '../../../../tests/support/wait.ts';

const dir = mkdtempSync(join(tmpdir(), 'ecosym-snapshot-'));
const file = join(dir, 'm.yaml');
writeFileSync(
  file,
  `name: mapped
description: CO2 opens the filter
tempo: 90
streams:
  co2: { unit: ppm, default: 400, valid: [0, 2000], description: Carbon dioxide at the station }
signals:
  level: { from: co2, range: [300, 500] }
voices:
  pad:
    synth: synth
    oscillator: sine
    volume: -6
    notes: { mode: chord, octave: 3 }
    rhythm: { hold: true }
mappings:
  - { from: level, to: pad.filter.frequency, range: [200, 4000], glide: 0.01 }
scenes:
  calm: { fade: 3 }
  storm: { fade: 0.5 }
`,
);

let session: Session;
beforeAll(async () => {
  session = await Session.open({ patch: loadPatchFile(file), sink: 'none', cacheDir: false, midi: false });
  await session.start();
}, 60_000);
afterAll(async () => {
  await session?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('Session snapshot for the UI', () => {
  it('lists scenes with fades, mappings with live values, master volume and stream descriptions', async () => {
    const s = session.snapshot();
    expect(Snapshot.safeParse(s).error).toBeUndefined();
    expect(s.patch).toMatchObject({ name: 'mapped', description: 'CO2 opens the filter', scenes: [{ name: 'calm', fade: 3 }, { name: 'storm', fade: 0.5 }] });
    expect(s.streams.co2?.description).toBe('Carbon dioxide at the station');
    expect(s.mappings).toEqual([{ from: 'level', stream: 'co2', to: 'pad.filter.frequency', value: expect.any(Number) }]);

    // The mapped value follows the data: low CO2 → near 200 Hz, high → near 4 kHz.
    const r1 = await session.handle({ type: 'inject', stream: 'co2', value: 300 });
    expect(r1.ok).toBe(true);
    await until(() => (session.snapshot().mappings![0]!.value ?? 1e9) < 400, 'the filter to close with low CO2', 20_000);
    const r2 = await session.handle({ type: 'inject', stream: 'co2', value: 500 });
    expect(r2.ok).toBe(true);
    await until(() => (session.snapshot().mappings![0]!.value ?? 0) > 3000, 'the filter to open with high CO2', 20_000);

    await session.handle({ type: 'param', target: 'master.volume', value: -17 });
    await until(() => Math.abs((session.snapshot().params?.['master.volume'] ?? 0) + 17) < 0.5, 'master.volume −17 dB in params', 20_000);
  }, 60_000);
});
