/**
 * Every built-in patch is heard following its data: rendered on its own data
 * and on a flat series (each stream held at its median, or its most frequent
 * category), at least one measured feature differs by 20 % or more, and every
 * scene the patch declares is reached on its own data.
 */
import { describe, expect, it } from 'vitest';
import '../src/engine/node/platform/installGlobals.ts';
import { listBuiltinPatchFiles, loadPatchFile, loadPatchSamples, patchId } from '../src/engine/node/files.ts';
import { collectFeeds } from '../src/engine/node/sources/collect.ts';
import { renderOffline, type StreamFeed } from '../src/engine/node/render.ts';
import { onsets, rms, spectralCentroid } from '../src/engine/core/analysis.ts';

const SR = 16000;
/** Seconds of audio per patch (the whole record spread over it), kept short for CI. */
const DURATION: Record<string, number> = { 'seattle-drift': 12, 'carbon-pulse': 16, 'seattle-sky': 20, 'four-chapters': 16 };

function flat(feed: StreamFeed): StreamFeed {
  const numbers = feed.points.flatMap((p) => (typeof p.value === 'number' ? [p.value] : [])).sort((a, b) => a - b);
  let value: number | string;
  if (numbers.length) value = numbers[Math.floor(numbers.length / 2)]!;
  else {
    const counts = new Map<string, number>();
    for (const p of feed.points) counts.set(String(p.value), (counts.get(String(p.value)) ?? 0) + 1);
    value = [...counts].sort((a, b) => b[1] - a[1])[0]![0];
  }
  return { stream: feed.stream, points: feed.points.map((p) => ({ ...p, value })) };
}

interface Features {
  centroid: number;
  onsetRate: number;
  level: number;
  centroidSwing: number;
  levelSwing: number;
}

function features(x: Float32Array, seconds: number): Features {
  const win = SR;
  const cents: number[] = [];
  const levels: number[] = [];
  for (let i = 0; i + win <= x.length; i += win) {
    const r = rms(x, i, i + win);
    levels.push(20 * Math.log10(Math.max(r, 1e-6)));
    if (r > 1e-4) cents.push(spectralCentroid(x, SR, i, i + win));
  }
  const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / Math.max(1, a.length);
  const swing = (a: number[]) => (a.length ? Math.max(...a) - Math.min(...a) : 0);
  return { centroid: mean(cents), onsetRate: onsets(x, SR).length / seconds, level: rms(x), centroidSwing: swing(cents), levelSwing: swing(levels) };
}

/** The largest relative difference of the features, and which. */
function largestDifference(a: Features, b: Features): { feature: string; ratio: number } {
  const diffs = (Object.keys(a) as (keyof Features)[]).map((k) => {
    const base = Math.max(Math.abs(b[k]), k === 'levelSwing' ? 3 : k === 'centroidSwing' ? 100 : 1e-9);
    return { feature: k, ratio: Math.abs(a[k] - b[k]) / base };
  });
  return diffs.sort((x, y) => y.ratio - x.ratio)[0]!;
}

describe('built-in patches follow their data', () => {
  for (const file of listBuiltinPatchFiles()) {
    const id = patchId(file);
    it(`${id}: real data vs a flat series differ by ≥ 20 % in a measured feature, and every scene is reached`, { timeout: 300_000 }, async () => {
      const pf = loadPatchFile(file);
      const duration = DURATION[id] ?? 8;
      const feeds = (await collectFeeds(pf.patch, pf.dir, new Map(), { duration })).map((c) => c.feed);
      const samples = await loadPatchSamples(pf, { sampleRate: SR });
      const scenes = new Set<string>();
      const real = await renderOffline({ patch: pf.patch, duration, sampleRate: SR, samples, data: feeds, onEvent: (e) => void (e.type === 'scene' && scenes.add(e.scene)) });
      const still = await renderOffline({ patch: pf.patch, duration, sampleRate: SR, samples, data: feeds.map(flat) });
      const d = largestDifference(features(real.channels[0]!, duration), features(still.channels[0]!, duration));
      expect(d.ratio, `largest difference: ${d.feature}`).toBeGreaterThanOrEqual(0.2);
      expect([...scenes].sort()).toStrictEqual(Object.keys(pf.patch.scenes).sort());
    });
  }
});
