/**
 * quake-week plays one gong stroke per quake: rendered at a pace where quakes
 * are apart (5 minutes of the feed a second), the onsets measured in the audio
 * match the quakes in the rendered window, and a quake's magnitude sets its
 * stroke's level.
 */
import { describe, expect, it } from 'vitest';
import '../src/engine/node/platform/installGlobals.ts';
import { loadPatchFile, resolvePatchPath } from '../src/engine/node/files.ts';
import { collectFeeds } from '../src/engine/node/sources/collect.ts';
import { renderOffline } from '../src/engine/node/render.ts';
import { onsets, rms } from '../src/engine/core/analysis.ts';

const SR = 16000;
const DURATION = 40;
/** Data seconds per audio second: a quake every ~1.2 s of audio on average. */
const SPEED = 300;

function pearson(a: number[], b: number[]): number {
  const n = a.length;
  const ma = a.reduce((s, v) => s + v, 0) / n;
  const mb = b.reduce((s, v) => s + v, 0) / n;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    sab += (a[i]! - ma) * (b[i]! - mb);
    saa += (a[i]! - ma) ** 2;
    sbb += (b[i]! - mb) ** 2;
  }
  return sab / Math.sqrt(saa * sbb);
}

describe('quake-week: one sound per quake', () => {
  it('onsets ≈ quakes in the window, and louder strokes for bigger quakes', { timeout: 300_000 }, async () => {
    const pf = loadPatchFile(resolvePatchPath('quake-week'));
    const feeds = (await collectFeeds(pf.patch, pf.dir, new Map(), { duration: DURATION, speed: SPEED })).map((c) => c.feed);
    const quakes = feeds.find((f) => f.stream === 'magnitude')!.points.filter((p) => p.time < DURATION - 0.5);
    let strokes = 0;
    const out = await renderOffline({ patch: pf.patch, duration: DURATION, sampleRate: SR, data: feeds, onEvent: (e) => void (e.type === 'note' && e.voice === 'gong' && strokes++) });
    const x = out.channels[0]!;

    // Each quake is a note event too (counted, and seen by MIDI out and lights).
    expect(strokes).toBe(feeds.find((f) => f.stream === 'magnitude')!.points.filter((p) => p.time < DURATION).length);
    // Quakes closer than the onset detector's 50 ms gap are heard as one stroke.
    const apart = quakes.filter((q, i) => i === 0 || q.time - quakes[i - 1]!.time >= 0.05);
    const found = onsets(x, SR).filter((t) => t < DURATION - 0.5);
    expect(apart.length).toBeGreaterThan(15);
    expect(Math.abs(found.length - apart.length), `${found.length} onsets for ${apart.length} quakes`).toBeLessThanOrEqual(Math.ceil(apart.length * 0.15));
    // Nearly every quake has an onset at its time (measured 15-40 ms late: the 10 ms
    // frames of the detector and the stroke's rise).
    const heard = apart.filter((q) => found.some((t) => t - q.time >= -0.02 && t - q.time <= 0.07));
    expect(heard.length / apart.length).toBeGreaterThanOrEqual(0.85);

    // Level of each stroke (the first 60 ms after the quake) against its magnitude,
    // for quakes with 300 ms of quiet before the next.
    const alone = quakes.filter((q, i) => i + 1 >= quakes.length || quakes[i + 1]!.time - q.time >= 0.3);
    const levels = alone.map((q) => 20 * Math.log10(rms(x, Math.round(q.time * SR), Math.round((q.time + 0.06) * SR)) + 1e-9));
    const r = pearson(
      alone.map((q) => q.value as number),
      levels,
    );
    expect(r, `correlation of magnitude and stroke level over ${alone.length} quakes`).toBeGreaterThan(0.6);
  });
});
