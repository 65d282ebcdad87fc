/**
 * The soak's leak statistics (benchmarks/stats.ts): one slope common to every
 * process life, each life with its own level, so a new process settling higher
 * than the one killed is not read as growth.
 */
import { describe, expect, it } from 'vitest';
import { pooledSlope, type Group } from '../benchmarks/stats.ts';
import { mulberry32 as rng } from '../src/engine/core/random.ts';

/** Roughly normal noise of standard deviation `sd` (sum of 12 uniforms). */
const noise = (r: () => number, sd: number) => (Array.from({ length: 12 }, r).reduce((a, b) => a + b, 0) - 6) * sd;

/**
 * A soak's samples: `lives` lives of `perLife` samples 10 s apart over one
 * hour, life k at level `level(k)`, growing `slope` MB/h inside each life.
 */
function soak(lives: number, perLife: number, level: (k: number) => number, slope: number, sd: number, seed = 1): Group[] {
  const r = rng(seed);
  return Array.from({ length: lives }, (_, k) => {
    const start = k / lives;
    const xs = Array.from({ length: perLife }, (_, i) => start + (i * 10) / 3600);
    return { xs, ys: xs.map((x) => level(k) + slope * (x - start) + noise(r, sd)) };
  });
}

const oneLine = (groups: Group[]): Group[] => [{ xs: groups.flatMap((g) => g.xs), ys: groups.flatMap((g) => g.ys) }];

describe('bench stats: pooled within-group slope', () => {
  it('matches the slope, standard error and residual SD worked out by hand', () => {
    // Centred: dx = [-1, 0, 1] in both; Sxy = 3 + 1, Sxx = 2 + 2 → slope 1; residuals
    // [-1/3, -1/3, 2/3] and [2/3, -1/3, -1/3] → SSE 4/3 on 6 − 2 − 1 = 3 df → SD 2/3, SE (2/3)/√4.
    const fit = pooledSlope([
      { xs: [0, 1, 2], ys: [1, 2, 4] },
      { xs: [0, 1, 2], ys: [5, 5, 6] },
    ]);
    expect(fit.slope).toBeCloseTo(1, 12);
    expect(fit.residualSd).toBeCloseTo(2 / 3, 12);
    expect(fit.se).toBeCloseTo(1 / 3, 12);
    expect(fit).toMatchObject({ n: 6, groups: 2, verdict: 'GROWING' });
    // Over half the unit the growth (0.5) stays inside the scatter (0.67): flat.
    expect(pooledSlope([{ xs: [0, 1, 2], ys: [1, 2, 4] }, { xs: [0, 1, 2], ys: [5, 5, 6] }], 0.5).verdict).toBe('flat within noise');
  });

  it('flat lives at levels that step up from one kill to the next: slope ≈ 0, where one line through every sample grows', () => {
    // Six lives of 10 min, each flat, each new process settling 8 MB above the last.
    const groups = soak(6, 50, (k) => 200 + 8 * k, 0, 1);
    const fit = pooledSlope(groups);
    expect(Math.abs(fit.slope)).toBeLessThanOrEqual(2 * fit.se);
    expect(Math.abs(fit.slope)).toBeLessThan(5);
    expect(fit.verdict).toBe('flat within noise');
    expect(fit.groups).toBe(6);
    // The old single line reads the steps as ~48 MB/h of growth.
    const line = pooledSlope(oneLine(groups));
    expect(line.slope).toBeGreaterThan(30);
    expect(line.verdict).toBe('GROWING');
  });

  it('recovers a real slope common to all lives, whatever their levels', () => {
    const groups = soak(6, 50, (k) => [210, 190, 230, 200, 185, 220][k]!, 12, 1, 7);
    const fit = pooledSlope(groups);
    expect(fit.slope).toBeGreaterThan(12 - 3 * fit.se);
    expect(fit.slope).toBeLessThan(12 + 3 * fit.se);
    expect(fit.se).toBeLessThan(2);
    expect(fit.residualSd).toBeGreaterThan(0.7);
    expect(fit.residualSd).toBeLessThan(1.3);
    expect(fit.verdict).toBe('GROWING');
  });

  it('noise alone is flat: in one life (no kills) and across lives, for several seeds', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      expect(pooledSlope(soak(1, 360, () => 300, 0, 3, seed)).verdict).toBe('flat within noise');
      expect(pooledSlope(soak(6, 50, () => 300, 0, 3, seed)).verdict).toBe('flat within noise');
    }
  });

  it('a life of one sample says nothing about a slope and is left out; too few samples throw', () => {
    const fit = pooledSlope([{ xs: [0, 1, 2], ys: [1, 2, 4] }, { xs: [0, 1, 2], ys: [5, 5, 6] }, { xs: [3], ys: [100] }]);
    expect(fit).toMatchObject({ n: 6, groups: 2 });
    expect(fit.slope).toBeCloseTo(1, 12);
    expect(() => pooledSlope([{ xs: [0, 1], ys: [1, 2] }])).toThrow(/no degree of freedom/);
    expect(() => pooledSlope([])).toThrow(/no degree of freedom/);
  });
});
