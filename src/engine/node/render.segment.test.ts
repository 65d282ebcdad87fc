/**
 * Issue 14: a render cut into segments equals the same render in one piece.
 * Each segment is a fresh context started a pre-roll early (render.ts); the
 * audio must match the one-piece render to below −90 dBFS. Not bit-exact: a
 * param's automation under way at a segment's origin is restarted there from
 * its value at that time (platform/origin.ts), the same exponential curve to
 * float rounding (measured: about −120 dBFS at most).
 */
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { preRollSeconds, renderOffline, segmentPlan, type RenderOptions } from './render.ts';
import { loadPatchFile, loadPatchSamples, PATCHES_DIR } from './files.ts';
import { defaultFeeds } from './sources/collect.ts';
import type { Patch } from '../core/patchSchema.ts';

const SR = 48000;
const LIMIT_DB = -90;

async function builtin(id: string) {
  const pf = loadPatchFile(join(PATCHES_DIR, `${id}.yaml`));
  return { pf, samples: await loadPatchSamples(pf, { sampleRate: SR }) };
}

/** Largest |a − b| over all channels, in dBFS (−Infinity when equal). */
function maxDiffDb(a: Float32Array[], b: Float32Array[]): number {
  let m = 0;
  for (let c = 0; c < a.length; c++) {
    const x = a[c]!;
    const y = b[c]!;
    expect(y.length).toBe(x.length);
    for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i]! - y[i]!));
  }
  return m === 0 ? -Infinity : 20 * Math.log10(m);
}

async function compare(opts: Omit<RenderOptions, 'segmentSeconds'>, segments: number[]) {
  const one = await renderOffline({ ...opts, segmentSeconds: 0 });
  expect(one.errors).toEqual([]);
  for (const seg of segments) {
    const plan = segmentPlan({ ...opts, segmentSeconds: seg });
    // The cut is real: at least one segment's context starts after the piece's start.
    expect(plan.reason).toBeUndefined();
    expect(plan.starts.some((s) => s - plan.preRoll > 0)).toBe(true);
    const cut = await renderOffline({ ...opts, segmentSeconds: seg });
    expect(cut.errors).toEqual([]);
    expect(cut.notes).toBe(one.notes);
    const db = maxDiffDb(one.channels, cut.channels);
    expect(db, `${opts.patch.name} in ${seg} s segments: max difference ${db.toFixed(1)} dBFS`).toBeLessThan(LIMIT_DB);
  }
}

describe('segmented render equals one piece', () => {
  // carbon-pulse: a reverb and a delay bus, a noise voice, FM, metal and membrane voices, pools that steal.
  it('carbon-pulse (reverb, delay, noise loop, stealing pools), 40 s in 7 s and 13 s segments', async () => {
    const { pf, samples } = await builtin('carbon-pulse');
    await compare({ patch: pf.patch, duration: 40, samples }, [7, 13]);
  }, 600_000);

  it('warming-stripes, 45 s in 7 s segments', async () => {
    const { pf, samples } = await builtin('warming-stripes');
    await compare({ patch: pf.patch, duration: 45, samples }, [7]);
  }, 600_000);

  it('seattle-drift (long held notes: a 50 s pre-roll), 60 s in 7 s segments', async () => {
    const { pf, samples } = await builtin('seattle-drift');
    await compare({ patch: pf.patch, duration: 60, samples }, [7]);
  }, 600_000);

  // Data drives tempo, a filter, densities and a scene (denser stabs: pools that steal all the time).
  it('carbon-pulse on its own data, 30 s in 7 s segments', async () => {
    const { pf, samples } = await builtin('carbon-pulse');
    const data = await defaultFeeds(pf.patch, pf.dir, 30);
    await compare({ patch: pf.patch, duration: 30, samples, data }, [7]);
  }, 600_000);

  it('warming-stripes on its own data, 45 s in 13 s segments', async () => {
    const { pf, samples } = await builtin('warming-stripes');
    const data = await defaultFeeds(pf.patch, pf.dir, 45);
    await compare({ patch: pf.patch, duration: 45, samples, data }, [13]);
  }, 600_000);
});

describe('segment plan', () => {
  it('cuts long renders by default, on scheduler windows, and says why it does not', async () => {
    const { pf } = await builtin('carbon-pulse');
    const win = Math.round(0.25 / (128 / SR)) * (128 / SR);
    const long = segmentPlan({ patch: pf.patch, duration: 300 });
    expect(long.starts.length).toBe(5);
    for (const s of long.starts) expect(Math.abs(s / win - Math.round(s / win))).toBeLessThan(1e-6);
    expect(Math.abs(long.preRoll / win - Math.round(long.preRoll / win))).toBeLessThan(1e-6);
    expect(long.preRoll).toBeGreaterThanOrEqual(preRollSeconds(pf.patch));
    expect(segmentPlan({ patch: pf.patch, duration: 100 }).starts).toEqual([0]);
    expect(segmentPlan({ patch: pf.patch, duration: 300, segmentSeconds: 0 }).starts).toEqual([0]);
    const acted = segmentPlan({ patch: pf.patch, duration: 300, actions: [{ time: 1, run: () => undefined }] });
    expect(acted.starts).toEqual([0]);
    expect(acted.reason).toMatch(/actions/);
  });

  it('a longer reverb or slower tempo asks for a longer pre-roll', async () => {
    const { pf } = await builtin('carbon-pulse');
    const base = preRollSeconds(pf.patch);
    const wetter: Patch = { ...pf.patch, buses: { ...pf.patch.buses, room: { ...pf.patch.buses.room!, decay: 8 } } };
    expect(preRollSeconds(wetter)).toBeGreaterThan(base + 5);
    expect(preRollSeconds({ ...pf.patch, tempo: 40, mappings: [] })).toBeGreaterThan(preRollSeconds({ ...pf.patch, mappings: [] }));
  });
});
