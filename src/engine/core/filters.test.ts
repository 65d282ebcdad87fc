import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  CategoryMap,
  categoryMapProblems,
  EmaFilter,
  HampelFilter,
  isHampelOutlier,
  madOfSorted,
  MAD_SCALE,
  MAX_WINDOW_SAMPLES,
  mapCategory,
  medianOfSorted,
  quantile,
  OneEuroFilter,
  oneEuroAlpha,
  percentileOfSorted,
  RateOfChange,
  RollingPercentiles,
  SlewLimiter,
  SortedMultiset,
  type OutlierAction,
} from './filters.ts';
import { emaStep } from './conditioning.ts';

const asc = (xs: readonly number[]): number[] => [...xs].sort((a, b) => a - b);

/** Brute force: the p-th percentile by sorting a copy (same definition: linear between closest ranks). */
function brutePercentile(xs: readonly number[], p: number): number {
  const s = asc(xs);
  if (s.length === 0) return NaN;
  const h = ((s.length - 1) * p) / 100;
  const lo = Math.floor(h);
  const hi = Math.ceil(h);
  return s[lo]! + (h - lo) * (s[hi]! - s[lo]!);
}

function bruteMedian(xs: readonly number[]): number {
  const s = asc(xs);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function bruteMad(xs: readonly number[]): number {
  const med = bruteMedian(xs);
  return bruteMedian(xs.map((x) => Math.abs(x - med)));
}

/** Numeric equality (+0 equals −0), for results of the same arithmetic on the same values. */
const same = (a: number, b: number): boolean => a === b || (Number.isNaN(a) && Number.isNaN(b));

describe('percentileOfSorted', () => {
  it('interpolates linearly between the closest ranks (h = (n − 1)·p/100)', () => {
    const s = [1, 2, 3, 4];
    expect(percentileOfSorted(s, 0)).toBe(1);
    expect(percentileOfSorted(s, 100)).toBe(4);
    expect(percentileOfSorted(s, 50)).toBe(2.5); // h = 1.5
    expect(percentileOfSorted(s, 25)).toBe(1.75); // h = 0.75
    expect(percentileOfSorted([10, 20, 30, 40, 50], 5)).toBeCloseTo(12, 12); // h = 0.2
    expect(percentileOfSorted([10, 20, 30, 40, 50], 95)).toBeCloseTo(48, 12); // h = 3.8
    expect(percentileOfSorted([7], 37)).toBe(7);
    expect(percentileOfSorted([], 50)).toBeNaN();
  });

  it('does not overflow at the limits of a double', () => {
    expect(percentileOfSorted([-1e308, 1e308], 50)).toBe(0);
    expect(percentileOfSorted([-Number.MAX_VALUE, Number.MAX_VALUE], 75)).toBeCloseTo(Number.MAX_VALUE / 2, -300);
  });

  it('equals a brute-force sort (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -1000, max: 1000 }), { minLength: 1, maxLength: 50 }), fc.double({ min: 0, max: 100, noNaN: true }), (xs, p) => {
        expect(same(percentileOfSorted(asc(xs), p), brutePercentile(xs, p))).toBe(true);
      }),
    );
  });
});

describe('quantile', () => {
  it('takes values in any order, leaves them so, and agrees with percentileOfSorted', () => {
    const xs = [9, 1, 4, 2];
    expect(quantile(xs, 0.5)).toBe(3);
    expect(quantile(xs, 0)).toBe(1);
    expect(quantile(xs, 1)).toBe(9);
    expect(quantile(xs, 0.25)).toBeCloseTo(1.75, 12);
    expect(xs).toStrictEqual([9, 1, 4, 2]);
    expect(quantile([], 0.5)).toBeNaN();
  });
});

describe('median and MAD', () => {
  it('median of odd and even lengths', () => {
    expect(medianOfSorted([1, 2, 9])).toBe(2);
    expect(medianOfSorted([1, 2, 4, 9])).toBe(3);
    expect(medianOfSorted([])).toBeNaN();
  });

  it('MAD by hand: [1, 1, 2, 2, 4, 6, 9] → deviations from 2 are [0, 0, 1, 1, 2, 4, 7] → 1', () => {
    expect(madOfSorted([1, 1, 2, 2, 4, 6, 9], 2)).toBe(1);
    // even: [1, 2, 3, 4], median 2.5, deviations [0.5, 0.5, 1.5, 1.5] → 1
    expect(madOfSorted([1, 2, 3, 4], 2.5)).toBe(1);
    expect(madOfSorted([5, 5, 5], 5)).toBe(0);
    expect(madOfSorted([], 0)).toBeNaN();
  });

  it('median and MAD equal brute force (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: -1e6, max: 1e6, noNaN: true }), { minLength: 1, maxLength: 40 }), (xs) => {
        const s = asc(xs);
        const med = medianOfSorted(s);
        expect(med).toBeCloseTo(bruteMedian(xs), 6);
        expect(madOfSorted(s, med)).toBeCloseTo(bruteMad(xs), 6);
      }),
    );
  });

  it('MAD is exact for integers (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -50, max: 50 }), { minLength: 1, maxLength: 40 }), (xs) => {
        const s = asc(xs);
        expect(madOfSorted(s, medianOfSorted(s))).toBe(bruteMad(xs));
      }),
    );
  });
});

describe('SortedMultiset', () => {
  it('keeps duplicates in order and removes one at a time', () => {
    const m = new SortedMultiset();
    for (const x of [3, 1, 2, 3, -1]) m.insert(x);
    expect(m.sorted).toStrictEqual([-1, 1, 2, 3, 3]);
    expect(m.remove(3)).toBe(true);
    expect(m.sorted).toStrictEqual([-1, 1, 2, 3]);
    expect(m.remove(7)).toBe(false);
    expect(m.remove(0)).toBe(false);
    expect(m.size).toBe(4);
  });
});

describe('RollingPercentiles', () => {
  it('is NaN before any sample', () => {
    expect(new RollingPercentiles(10).percentile(50)).toBeNaN();
  });

  it('keeps samples with time ≥ latest − window (inclusive) and forgets the rest', () => {
    const r = new RollingPercentiles(10);
    r.push(0, 100); // a spike
    for (let t = 1; t <= 10; t++) r.push(t, t);
    // 11 samples: 100, 1…10 → 0th = 1, 100th = 100, 50th = 6
    expect([r.percentile(0), r.percentile(50), r.percentile(100)]).toStrictEqual([1, 6, 100]);
    expect(r.percentile(90)).toBe(10); // h = 9 → the 10th smallest
    r.push(11, 11); // horizon 1: the spike at t = 0 expires
    expect(r.size).toBe(11);
    expect(r.percentile(100)).toBe(11);
    expect(r.percentile(5)).toBeCloseTo(1.5, 12); // h = 0.5 between 1 and 2
  });

  it('keeps at most maxSamples (the oldest go first), 10,000 by default', () => {
    expect(MAX_WINDOW_SAMPLES).toBe(10_000);
    expect(new RollingPercentiles(Infinity).maxSamples).toBe(10_000);
    const r = new RollingPercentiles(Infinity, 5);
    for (let i = 1; i <= 8; i++) r.push(i, i * 10);
    expect(r.size).toBe(5);
    expect([r.percentile(0), r.percentile(100)]).toStrictEqual([40, 80]);
  });

  it('equals brute force over random sequences with random time gaps (property)', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0, max: 50, noNaN: true }),
        fc.double({ min: 0, max: 100, noNaN: true }),
        fc.integer({ min: 1, max: 30 }),
        fc.array(fc.tuple(fc.oneof(fc.constant(0), fc.double({ min: 0, max: 20, noNaN: true })), fc.integer({ min: -100, max: 100 })), { minLength: 1, maxLength: 150 }),
        (window, p, cap, steps) => {
          const r = new RollingPercentiles(window, cap);
          const seen: Array<[number, number]> = [];
          let t = 0;
          for (const [dt, x] of steps) {
            t += dt;
            r.push(t, x);
            seen.push([t, x]);
            const inside = seen.filter(([ts]) => ts >= t - window).slice(-cap).map(([, v]) => v);
            expect(r.size).toBe(inside.length);
            expect(same(r.percentile(p), brutePercentile(inside, p))).toBe(true);
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('stays exact past its internal compaction, also in a window capped at 10,000 samples', () => {
    const r = new RollingPercentiles(50);
    for (let t = 0; t < 5000; t++) r.push(t, (t * 7919) % 101);
    const inside = Array.from({ length: 51 }, (_, i) => ((4949 + i) * 7919) % 101);
    for (const p of [0, 5, 50, 95, 100]) expect(r.percentile(p)).toBe(brutePercentile(inside, p));

    // Its speed (50,000 pushes with two percentiles each) is the rolling-percentiles-* bench row.
    const big = new RollingPercentiles(Infinity);
    for (let i = 0; i < 50_000; i++) {
      big.push(i, Math.sin(i) * 1000);
      big.percentile(5);
      big.percentile(95);
    }
    expect(big.size).toBe(10_000);
    const last = Array.from({ length: 10_000 }, (_, k) => Math.sin(40_000 + k) * 1000);
    for (const p of [5, 95]) expect(big.percentile(p)).toBe(brutePercentile(last, p));
  });
});

describe('HampelFilter', () => {
  it('by hand: window 5, threshold 3 — a spike of 50 among ~11 is an outlier', () => {
    // window [10, 11, 10, 12, 50]: median 11, deviations [1, 0, 1, 1, 39] → MAD 1,
    // bound 3 · 1.4826 · 1 = 4.4478 < |50 − 11| = 39
    const reject = new HampelFilter(5, 3, 'reject');
    const replace = new HampelFilter(5, 3, 'replace');
    for (const x of [10, 11, 10, 12]) {
      expect(reject.push(x)).toStrictEqual({ outlier: false, value: x });
      expect(replace.push(x)).toStrictEqual({ outlier: false, value: x });
    }
    expect(reject.push(50)).toStrictEqual({ outlier: true, value: undefined });
    expect(replace.push(50)).toStrictEqual({ outlier: true, value: 11 });
    // window [11, 10, 12, 50, 15]: median 12, deviations [1, 2, 0, 38, 3] → MAD 2, bound 8.8956 ≥ 3
    expect(replace.push(15)).toStrictEqual({ outlier: false, value: 15 });
  });

  it('nothing is an outlier before the window is full', () => {
    const h = new HampelFilter(5, 1, 'reject');
    for (const x of [0, 1000, -1000, 5]) expect(h.push(x).outlier).toBe(false);
  });

  it('the boundary is strict, and MAD 0 makes every other value an outlier', () => {
    expect(isHampelOutlier(3 * MAD_SCALE, 0, 1, 3)).toBe(false);
    expect(isHampelOutlier(-3 * MAD_SCALE, 0, 1, 3)).toBe(false);
    expect(isHampelOutlier(3 * MAD_SCALE + 1e-9, 0, 1, 3)).toBe(true);
    const h = new HampelFilter(3, 3, 'replace');
    h.push(5);
    h.push(5);
    expect(h.push(5)).toStrictEqual({ outlier: false, value: 5 });
    expect(h.push(6)).toStrictEqual({ outlier: true, value: 5 });
  });

  it('outliers stay in the window, so a level shift is followed after half a window', () => {
    const h = new HampelFilter(5, 3, 'reject');
    for (const x of [1, 1, 1, 1, 1]) h.push(x);
    expect(h.push(9).outlier).toBe(true); // [1, 1, 1, 1, 9]
    expect(h.push(9).outlier).toBe(true); // [1, 1, 1, 9, 9]: median 1, MAD 0
    expect(h.push(9).outlier).toBe(false); // [1, 1, 9, 9, 9]: median 9
  });

  it('equals a brute-force median/MAD over the last `window` samples (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 3, max: 12 }),
        fc.double({ min: 0.5, max: 5, noNaN: true }),
        fc.constantFrom<OutlierAction>('reject', 'replace'),
        fc.array(fc.oneof(fc.integer({ min: -20, max: 20 }), fc.integer({ min: -1000, max: 1000 })), { minLength: 1, maxLength: 80 }),
        (window, threshold, action, xs) => {
          const h = new HampelFilter(window, threshold, action);
          xs.forEach((x, i) => {
            const v = h.push(x);
            if (i < window - 1) return expect(v).toStrictEqual({ outlier: false, value: x });
            const win = xs.slice(i - window + 1, i + 1);
            const med = bruteMedian(win);
            const outlier = Math.abs(x - med) > threshold * 1.4826 * bruteMad(win);
            expect(v.outlier).toBe(outlier);
            expect(v.value).toBe(!outlier ? x : action === 'replace' ? med : undefined);
          });
        },
      ),
    );
  });
});

describe('RateOfChange', () => {
  it('first sample gives none; then (x − x_prev)/(t − t_prev) · perSeconds', () => {
    const r = new RateOfChange(3600);
    expect(r.push(1.0, 0)).toBe('first');
    expect(r.push(1.5, 1800)).toBe(1); // +0.5 in half an hour = 1 per hour
    expect(r.push(1.5, 3600)).toBe(0);
    expect(r.push(0.5, 7200)).toBe(-1);
    const s = new RateOfChange();
    s.push(10, 100);
    expect(s.push(13, 102)).toBe(1.5);
  });

  it('a data time not after the previous one gives no rate and changes nothing', () => {
    const r = new RateOfChange();
    r.push(0, 10);
    expect(r.accepts(10)).toBe(false);
    expect(r.accepts(9)).toBe(false);
    expect(r.push(100, 10)).toBe('not-after');
    expect(r.push(-50, 5)).toBe('not-after');
    expect(r.accepts(11)).toBe(true);
    expect(r.push(4, 12)).toBe(2); // from (10, 0), untouched
  });

  it('holds overflowing rates at ±Number.MAX_VALUE', () => {
    const r = new RateOfChange();
    r.push(-1e308, 0);
    expect(r.push(1e308, 1)).toBe(Number.MAX_VALUE);
    expect(r.push(0, 1 + 2 ** -40)).toBe(-Number.MAX_VALUE); // 1e308 in ~1e-12 s
  });
});

describe('EmaFilter', () => {
  it('matches emaStep, starting from the first sample', () => {
    const f = new EmaFilter(2);
    expect(f.push(1, 0)).toBe(1);
    expect(f.push(0, 2)).toBe(emaStep(1, 0, 2, 2));
    expect(f.push(0, 2)).toBe(emaStep(1, 0, 2, 2)); // dt 0
    expect(new EmaFilter(0).push(0.3, 0)).toBe(0.3);
  });
});

describe('OneEuroFilter', () => {
  it('α = 1 / (1 + τ/Te) with τ = 1/(2π·fc)', () => {
    expect(oneEuroAlpha(1, 1 / (2 * Math.PI))).toBeCloseTo(0.5, 15); // τ = Te
    expect(oneEuroAlpha(1, 0.1)).toBeCloseTo(0.3858695450950375, 15);
  });

  it('follows the paper step by step (minCutoff 1, beta 0.5, dCutoff 1; irregular steps)', () => {
    const f = new OneEuroFilter({ minCutoff: 1, beta: 0.5, dCutoff: 1 });
    const alpha = (fc: number, te: number) => 1 / (1 + 1 / (2 * Math.PI * fc) / te);
    const samples: Array<[number, number]> = [[0, 0], [0.1, 1], [0.3, 1], [0.35, 0.5], [1.35, 0.5]];
    // reference recursion, written out from the paper
    let xHat = NaN;
    let dxHat = 0;
    let tPrev = NaN;
    const expected: number[] = [];
    for (const [t, x] of samples) {
      if (Number.isNaN(xHat)) {
        xHat = x;
      } else {
        const te = t - tPrev;
        const dx = (x - xHat) / te;
        dxHat = alpha(1, te) * dx + (1 - alpha(1, te)) * dxHat;
        const fc = 1 + 0.5 * Math.abs(dxHat);
        xHat = alpha(fc, te) * x + (1 - alpha(fc, te)) * xHat;
      }
      tPrev = t;
      expected.push(xHat);
    }
    const got = samples.map(([t, x]) => f.push(x, t));
    got.forEach((g, i) => expect(g).toBeCloseTo(expected[i]!, 14));
    // and pinned numbers (computed independently): step 2 has dx = 10, dx̂ = 3.8587, fc = 2.9293
    expect(got[0]).toBe(0);
    expect(got[1]).toBeCloseTo(0.6479571695923358, 14);
    expect(got[2]).toBeCloseTo(0.9108051242252495, 14);
    expect(got[3]).toBeCloseTo(0.8095314797069741, 14);
    expect(got[4]).toBeCloseTo(0.5382783851158707, 14);
  });

  it('with beta 0 it is an exponential smoother with α(minCutoff, Te)', () => {
    const f = new OneEuroFilter({ minCutoff: 2, beta: 0, dCutoff: 1 });
    f.push(1, 0);
    const a = oneEuroAlpha(2, 0.25);
    expect(f.push(0, 0.25)).toBeCloseTo(1 - a, 15);
  });

  it('a sample not later than the previous one returns the previous output and changes nothing', () => {
    const f = new OneEuroFilter({ minCutoff: 1, beta: 0.5, dCutoff: 1 });
    const g = new OneEuroFilter({ minCutoff: 1, beta: 0.5, dCutoff: 1 });
    f.push(0, 0);
    g.push(0, 0);
    const y = f.push(1, 0.1);
    g.push(1, 0.1);
    expect(f.push(5, 0.1)).toBe(y);
    expect(f.push(-5, 0.05)).toBe(y);
    expect(f.push(1, 0.3)).toBe(g.push(1, 0.3));
  });

  it('stays within the range of its inputs, finite, for any times (property)', () => {
    fc.assert(
      fc.property(
        fc.record({ minCutoff: fc.double({ min: 1e-3, max: 1000, noNaN: true }), beta: fc.double({ min: 0, max: 1000, noNaN: true }), dCutoff: fc.double({ min: 1e-3, max: 1000, noNaN: true }) }),
        fc.array(fc.tuple(fc.double({ min: -1e300, max: 1e300, noNaN: true }), fc.double({ min: 0, max: 100, noNaN: true })), { minLength: 1, maxLength: 60 }),
        (params, samples) => {
          const f = new OneEuroFilter(params);
          let t = 0;
          let lo = Infinity;
          let hi = -Infinity;
          for (const [x, dt] of samples) {
            t += dt;
            lo = Math.min(lo, x);
            hi = Math.max(hi, x);
            const y = f.push(x, t);
            expect(Number.isFinite(y)).toBe(true);
            expect(y).toBeGreaterThanOrEqual(lo - 1e-9 * Math.abs(lo));
            expect(y).toBeLessThanOrEqual(hi + 1e-9 * Math.abs(hi));
          }
        },
      ),
    );
  });
});

describe('SlewLimiter', () => {
  it('by hand: 0.5 per second', () => {
    const s = new SlewLimiter(0.5);
    expect(s.push(0, 0)).toBe(0); // first passes
    expect(s.push(1, 1)).toBe(0.5);
    expect(s.push(1, 1.5)).toBe(0.75);
    expect(s.push(0.8, 2)).toBe(0.8); // within reach
    expect(s.push(0, 2.2)).toBeCloseTo(0.7, 12);
    expect(s.push(0, 2.2)).toBeCloseTo(0.7, 12); // no time, no move
    expect(s.push(1, 1)).toBeCloseTo(0.7, 12); // earlier time: no move
    expect(s.push(0, 100)).toBe(0);
  });

  it('never exceeds its rate, and reaches a held input (property)', () => {
    // Once failed in CI (seed 2064548436): the bound used the sampled dt, not the step the limiter saw.
    const counterexample: [number, Array<[number, number]>] = [36.02948981677742, [[0, 0.24999999946652968], [1.9220665587112102e-8, 5.334703512271944e-10]]];
    fc.assert(
      fc.property(
        fc.double({ min: 1e-3, max: 100, noNaN: true }),
        fc.array(fc.tuple(fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 0, max: 2, noNaN: true })), { minLength: 1, maxLength: 80 }),
        (rate, samples) => {
          const s = new SlewLimiter(rate);
          let t = 0;
          let prev = NaN;
          for (const [x, dt] of samples) {
            const before = t;
            t += dt;
            const y = s.push(x, t);
            // The step it was given is t − before, not dt: at t ≈ 0.25 a dt of 5e-10 loses 1e-7 of itself to rounding.
            if (!Number.isNaN(prev)) expect(Math.abs(y - prev)).toBeLessThanOrEqual(rate * (t - before) * (1 + 1e-12) + 1e-15);
            prev = y;
          }
          const last = samples[samples.length - 1]![0];
          expect(s.push(last, t + 1 / rate + 1)).toBe(last);
        },
      ),
      { examples: [counterexample] },
    );
  });
});

describe('categories', () => {
  it('maps text ignoring case and surrounding spaces', () => {
    const m = new CategoryMap({ rain: 0.8, Snow: 1, clear: 0 });
    expect(m.lookup('rain')).toBe(0.8);
    expect(m.lookup('  RAIN ')).toBe(0.8);
    expect(m.lookup('snow')).toBe(1);
    expect(m.lookup('clear')).toBe(0);
    expect(m.lookup('hail')).toBeUndefined();
    expect(m.lookup('')).toBeUndefined();
    expect(mapCategory(' Snow', { rain: 0.8, SNOW: 1 })).toBe(1);
    expect(mapCategory('fog', { rain: 0.8 })).toBeUndefined();
  });

  it('refuses names that clash once folded, empty names and non-finite values', () => {
    expect(categoryMapProblems({ rain: 1, clear: 0 })).toStrictEqual([]);
    expect(categoryMapProblems({ Rain: 1, ' rain ': 0 })).toStrictEqual(['categories "Rain" and " rain " are the same ignoring case and spaces']);
    expect(categoryMapProblems({ '  ': 1 })).toStrictEqual(['category "  " is empty once trimmed']);
    expect(categoryMapProblems({ fog: NaN })).toStrictEqual(['category "fog" needs a finite number']);
    expect(() => new CategoryMap({ a: 1, A: 2 })).toThrow(/same ignoring case/);
  });
});
