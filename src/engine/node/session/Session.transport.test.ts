/**
 * The file streams' transport through the session's commands (the Live
 * screen's timeline): `seek`, `loop`, `speed` and `fileSeries`, what the
 * snapshot and telemetry say of the play head, and the errors of bad input.
 * Positions are checked against the series itself, never against wall time;
 * a seek's jump in value is heard without a click (measured on a recording).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadPatchFile } from '../files.ts';
import { Session } from './Session.ts';
import { Snapshot, TelemetryFrame, type FileSeriesEntry, type FileTransport } from '../../../shared/protocol.ts';
import { until } from '../../../../tests/support/wait.ts';
import { maxKink, readWav } from '../../../../tests/support/recording.ts';

const dir = mkdtempSync(join(tmpdir(), 'ecosym-transport-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
// 1,000 yearly-ish values a day apart: value i at day i. Spread over 10 min, a day lasts 0.6 s.
const T0 = Date.UTC(2000, 0, 1) / 1000;
const DAY = 86400;
writeFileSync(join(dir, 'co2.csv'), 'time,ppm\n' + Array.from({ length: 1000 }, (_, i) => `${T0 + i * DAY},${300 + i / 10}`).join('\n'));
writeFileSync(join(dir, 'wind.csv'), 'time,ms\n' + Array.from({ length: 100 }, (_, i) => `${T0 + i * DAY},${i}`).join('\n'));
writeFileSync(
  join(dir, 'p.yaml'),
  `name: transport
tempo: 90
streams:
  co2: { source: "co2.csv#ppm", default: 400, valid: [0, 2000] }
  wind: { source: "wind.csv#ms", default: 3 }
  manual: { default: 1 }
signals:
  level: { from: co2, range: [300, 400] }
voices:
  pad:
    synth: synth
    oscillator: sine
    volume: -12
    notes: { mode: chord, octave: 3 }
    rhythm: { hold: true }
mappings:
  - { from: level, to: pad.volume, range: [-30, -6] }
`,
);

let session: Session;
async function ok(cmd: unknown): Promise<{ streams: Record<string, FileTransport>; skipped?: Record<string, string> }> {
  const r = await session.handle(cmd);
  if (!r.ok) throw new Error(`${JSON.stringify(cmd)}: ${r.error}`);
  return r.data as never;
}
async function fails(cmd: unknown): Promise<string> {
  const r = await session.handle(cmd);
  if (r.ok) throw new Error(`${JSON.stringify(cmd)} was accepted`);
  return r.error;
}
const file = (stream: string) => Snapshot.parse(session.snapshot()).streams[stream]!.file!;

beforeAll(async () => {
  session = await Session.open({ patch: loadPatchFile(join(dir, 'p.yaml')), sink: 'none', cacheDir: false, midi: false, loopSeconds: 600, patchesDir: dir });
  await session.start();
  await until(() => session.snapshot().streams.co2?.file !== undefined && session.snapshot().streams.wind?.file !== undefined, 'both files read', 30_000);
}, 60_000);
afterAll(async () => {
  await session?.stop();
});

describe('the file transport', () => {
  it('the snapshot reports each file stream\'s play head, span, loop and speed; a stream with no file has none', () => {
    const s = Snapshot.parse(session.snapshot());
    expect(s.streams.co2!.file).toMatchObject({ count: 1000, first: T0, last: T0 + 999 * DAY, loop: null, speed: 1, playing: true });
    expect(s.streams.wind!.file).toMatchObject({ count: 100, first: T0 });
    expect(s.streams.manual!.file).toBeUndefined();
  });

  it('seek to a fraction moves every file stream; the value there reaches the engine', async () => {
    const r = await ok({ type: 'seek', fraction: 0.75 });
    // Both dated files play on one time axis, the union of their loops (co2's 1,000 days):
    // 75 % of it is day 750 for both; wind's 100 days are over by then, so it holds its last.
    expect(r.streams.co2!.index).toBe(750);
    expect(r.streams.wind!.index).toBe(99);
    expect(r.streams.wind!.time).toBe(r.streams.co2!.time);
    expect(session.snapshot().streams.co2!.raw).toBeCloseTo(375, 6);
    expect(session.snapshot().streams.wind!.raw).toBe(99);
    // Day 50 is day 50 in both.
    const back = await ok({ type: 'seek', fraction: 0.05 });
    expect([back.streams.co2!.index, back.streams.wind!.index]).toEqual([50, 50]);
    expect(session.snapshot().streams.wind!.raw).toBe(50);
    await ok({ type: 'seek', fraction: 0.75 });
    expect(file('co2').index).toBeGreaterThanOrEqual(750);
  });

  it('seek to a data time: the shared axis; a file the time is past is clamped to its end', async () => {
    const r = await ok({ type: 'seek', time: T0 + 500.5 * DAY });
    expect(r.streams.co2).toMatchObject({ index: 500 });
    expect(r.streams.co2!.time).toBeCloseTo(T0 + 500.5 * DAY, 3);
    expect(r.streams.wind!.index).toBe(99);
    expect(session.snapshot().streams.co2!.raw).toBeCloseTo(350, 6);
    // One stream alone.
    await ok({ type: 'seek', stream: 'co2', time: T0 + 10 * DAY });
    expect(session.snapshot().streams.co2!.raw).toBeCloseTo(301, 6);
    expect(session.snapshot().streams.wind!.raw).toBeGreaterThanOrEqual(99);
  });

  it('speed sets the factor of the pace for all file streams, and the snapshot says so', async () => {
    const before = file('co2').dataSpeed;
    const r = await ok({ type: 'speed', factor: 2 });
    expect(r.streams.co2).toMatchObject({ speed: 2 });
    expect(file('co2').speed).toBe(2);
    expect(file('co2').dataSpeed).toBeCloseTo(before * 2, 6);
    expect(file('wind').speed).toBe(2);
    await ok({ type: 'speed', stream: 'wind', factor: 0.25 });
    expect([file('co2').speed, file('wind').speed]).toEqual([2, 0.25]);
  });

  it('loop sets a region in data time; the play head moves into it; null loops the whole file again', async () => {
    const region = [T0 + 50 * DAY, T0 + 150 * DAY];
    const r = await ok({ type: 'loop', region });
    expect(r.streams.co2!.loop).toEqual(region);
    expect(file('co2').loop).toEqual(region);
    const t = file('co2').time;
    expect(t).toBeGreaterThanOrEqual(region[0]!);
    expect(t).toBeLessThan(region[1]!);
    // wind's 100 days end at day 99, but it loops the same region of the shared axis (holding its last value past its end).
    expect(file('wind').loop).toEqual(region);
    expect(file('wind').time).toBe(t);
    await ok({ type: 'loop', region: null });
    expect(file('co2').loop).toBeNull();
  });

  it('a region past a file\'s end is still on the shared axis (it holds its last value); outside the axis, the reply says why', async () => {
    const r = await ok({ type: 'loop', region: [T0 + 500 * DAY, T0 + 600 * DAY] });
    expect(Object.keys(r.streams)).toEqual(['co2', 'wind']);
    expect(r.streams.wind!.index).toBe(99);
    expect(await fails({ type: 'loop', region: [T0 - 9e6, T0 - 8e6] })).toMatch(/outside the data/);
    await ok({ type: 'loop', region: null });
  });

  it('fileSeries: each file downsampled for drawing, with its transport', async () => {
    const r = (await ok({ type: 'fileSeries', buckets: 50 })) as unknown as { streams: Record<string, FileSeriesEntry> };
    expect(r.streams.co2!.points.length).toBeLessThanOrEqual(100);
    expect(r.streams.co2!.points[0]).toEqual([T0, 300]);
    expect(r.streams.co2!.points.at(-1)![1]).toBeCloseTo(399.9, 6);
    expect(r.streams.co2!.transport.count).toBe(1000);
  });

  it('bad input: a clear error naming what and where', async () => {
    expect(await fails({ type: 'seek', fraction: 1.5 })).toMatch(/seek\.fraction/);
    expect(await fails({ type: 'seek' })).toMatch(/a time .* or a fraction/);
    expect(await fails({ type: 'seek', time: 1, fraction: 0.5 })).toMatch(/not both/);
    expect(await fails({ type: 'speed', factor: 0 })).toMatch(/speed\.factor/);
    expect(await fails({ type: 'loop', region: [5, 1] })).toMatch(/loop\.region: the region's start must be before its end/);
    expect(await fails({ type: 'seek', stream: 'manual', fraction: 0.5 })).toMatch(/"manual" does not play from a file/);
    expect(await fails({ type: 'seek', stream: 'nope', fraction: 0.5 })).toMatch(/no stream "nope"/);
  });

  it('telemetry frames carry the play heads', async () => {
    const frame = await new Promise<TelemetryFrame>((resolve) => {
      const off = session.onTelemetry((f) => {
        off();
        resolve(f);
      });
    });
    const f = TelemetryFrame.parse(frame);
    expect(Object.keys(f.playheads ?? {}).sort()).toEqual(['co2', 'wind']);
    expect(f.playheads!.co2![0]).toBeGreaterThanOrEqual(T0);
  });

  it('a seek changes the sound without a click: the jump in value is ramped like any data change', async () => {
    await ok({ type: 'loop', region: null });
    await ok({ type: 'speed', factor: 1 });
    await ok({ type: 'seek', time: T0 });
    await until(() => (session.snapshot().rmsDb ?? -Infinity) > -60, 'the pad to sound', 30_000);
    // Recordings go inside the session's output folder (<patchesDir>/out), named by the client.
    const path = join(dir, 'out', 'seek.wav');
    await ok({ type: 'record', action: 'start', path: 'seek.wav' });
    await until(() => (session.snapshot().recording?.seconds ?? 0) > 1.5, 'a second and a half before the seek', 20_000);
    const seekAt = session.snapshot().recording!.seconds;
    // From 300 ppm (the pad at −30 dB) to 380 (about −11 dB) at once.
    await ok({ type: 'seek', time: T0 + 800 * DAY });
    expect(session.snapshot().streams.co2!.raw).toBeCloseTo(380, 6);
    await until(() => (session.snapshot().recording?.seconds ?? 0) > seekAt + 2.5, 'the change to settle', 20_000);
    await session.handle({ type: 'record', action: 'stop' });
    const { left, sampleRate } = readWav(path);
    const at = Math.round(seekAt * sampleRate);
    const before = maxKink(left, Math.round(0.3 * sampleRate), at - sampleRate * 0.2);
    const after = maxKink(left, at + sampleRate * 1.5, at + sampleRate * 2.4);
    const during = maxKink(left, at - sampleRate * 0.2, at + sampleRate * 1.5);
    const rms = (a: number, b: number) => Math.sqrt(left.subarray(Math.round(a), Math.round(b)).reduce((p, v) => p + v * v, 0) / (b - a));
    expect(before).toBeGreaterThan(0);
    // The pad got louder (by ~19 dB; at least 12 dB here, its smoothing may not be done yet).
    expect(rms(at + sampleRate * 1.5, at + sampleRate * 2.4) / rms(sampleRate * 0.3, at - sampleRate * 0.2)).toBeGreaterThan(4);
    // A click is a kink far above both steady states; a ramp stays between them.
    expect(during).toBeLessThan(2 * Math.max(before, after));
  }, 60_000);
});


