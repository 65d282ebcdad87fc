import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  applyCurve,
  Conditioner,
  emaStep,
  Hysteresis,
  mapToRange,
  normalize,
  RollingRange,
  type ConditionSpec,
} from './conditioning.ts';

const unit = fc.double({ min: 0, max: 1, noNaN: true });
/** Finite doubles of any realistic magnitude (data values, times). */
const finite = fc.double({ min: -1e12, max: 1e12, noNaN: true, noDefaultInfinity: true });

function spec(over: Partial<ConditionSpec> = {}): ConditionSpec {
  return { range: { fixed: [0, 10] }, curve: 'lin', smoothSeconds: 0, clamp: true, invert: false, ...over };
}

describe('applyCurve', () => {
  it('lin is the identity', () => {
    expect(applyCurve(0, 'lin')).toBe(0);
    expect(applyCurve(0.5, 'lin')).toBe(0.5);
    expect(applyCurve(1, 'lin')).toBe(1);
    expect(applyCurve(0.3, 'lin')).toBe(0.3);
  });

  it('exp is (2^(4x) - 1) / 15', () => {
    expect(applyCurve(0, 'exp')).toBe(0);
    expect(applyCurve(0.5, 'exp')).toBeCloseTo(3 / 15, 15); // (4 - 1) / 15 = 0.2
    expect(applyCurve(1, 'exp')).toBe(1);
    expect(applyCurve(0.25, 'exp')).toBeCloseTo(1 / 15, 15); // (2 - 1) / 15
  });

  it('log is log2(1 + 15x) / 4', () => {
    expect(applyCurve(0, 'log')).toBe(0);
    expect(applyCurve(0.5, 'log')).toBeCloseTo(Math.log2(8.5) / 4, 15); // ≈ 0.7718
    expect(applyCurve(0.5, 'log')).toBeCloseTo(0.771866, 5);
    expect(applyCurve(1, 'log')).toBe(1);
    expect(applyCurve(1 / 15, 'log')).toBeCloseTo(0.25, 15); // log2(2) / 4
  });

  it('exp is slow-start and log fast-start (below and above the diagonal inside (0, 1))', () => {
    fc.assert(
      fc.property(fc.double({ min: 0.001, max: 0.999, noNaN: true }), (x) => {
        expect(applyCurve(x, 'exp')).toBeLessThan(x);
        expect(applyCurve(x, 'log')).toBeGreaterThan(x);
      }),
    );
  });

  it('exp and log are inverses on [0, 1] (property)', () => {
    fc.assert(
      fc.property(unit, (x) => {
        expect(applyCurve(applyCurve(x, 'exp'), 'log')).toBeCloseTo(x, 9);
        expect(applyCurve(applyCurve(x, 'log'), 'exp')).toBeCloseTo(x, 9);
      }),
    );
  });

  it('all curves are monotonic non-decreasing on [0, 1] (property)', () => {
    fc.assert(
      fc.property(unit, unit, fc.constantFrom('lin', 'exp', 'log') as fc.Arbitrary<'lin' | 'exp' | 'log'>, (a, b, c) => {
        const [lo, hi] = a <= b ? [a, b] : [b, a];
        expect(applyCurve(lo, c)).toBeLessThanOrEqual(applyCurve(hi, c));
      }),
    );
  });
});

describe('normalize', () => {
  it('maps lo → 0, hi → 1, midpoint → 0.5, and extrapolates outside', () => {
    expect(normalize(10, 10, 20)).toBe(0);
    expect(normalize(20, 10, 20)).toBe(1);
    expect(normalize(15, 10, 20)).toBe(0.5);
    expect(normalize(25, 10, 20)).toBe(1.5);
    expect(normalize(5, 10, 20)).toBe(-0.5);
  });

  it('works for reversed ranges', () => {
    expect(normalize(20, 20, 10)).toBeCloseTo(0, 15); // -0
    expect(normalize(10, 20, 10)).toBe(1);
    expect(normalize(12.5, 20, 10)).toBe(0.75);
  });

  it('a degenerate range gives 0.5 whatever the value', () => {
    expect(normalize(3, 3, 3)).toBe(0.5);
    expect(normalize(-100, 3, 3)).toBe(0.5);
    expect(normalize(1e9, 0, 0)).toBe(0.5);
  });
});

describe('emaStep', () => {
  it('tau 0 (or negative) means no smoothing: returns x', () => {
    expect(emaStep(0, 7, 0.1, 0)).toBe(7);
    expect(emaStep(3, -2, 5, -1)).toBe(-2);
  });

  it('dt = tau moves (1 - e^-1) of the way from prev to x', () => {
    const expected = 2 + (1 - Math.exp(-1)) * (10 - 2);
    expect(emaStep(2, 10, 0.5, 0.5)).toBeCloseTo(expected, 12);
    expect(emaStep(2, 10, 0.5, 0.5)).toBeCloseTo(7.056964, 5);
  });

  it('dt 0 (or a negative dt) does not move; a huge dt reaches x', () => {
    expect(emaStep(2, 10, 0, 1)).toBe(2);
    expect(emaStep(2, 10, -5, 1)).toBe(2);
    expect(emaStep(2, 10, 1e6, 1)).toBe(10);
  });

  it('two steps of dt equal one step of 2·dt (irregular sampling is consistent)', () => {
    const one = emaStep(0, 1, 2, 3);
    const two = emaStep(emaStep(0, 1, 1, 3), 1, 1, 3);
    expect(two).toBeCloseTo(one, 12);
  });

  it('the result lies between prev and x (property)', () => {
    fc.assert(
      fc.property(finite, finite, fc.double({ min: 0, max: 1e6, noNaN: true }), fc.double({ min: 1e-6, max: 1e6, noNaN: true }), (prev, x, dt, tau) => {
        const y = emaStep(prev, x, dt, tau);
        expect(y).toBeGreaterThanOrEqual(Math.min(prev, x) - 1e-6 * Math.abs(prev - x));
        expect(y).toBeLessThanOrEqual(Math.max(prev, x) + 1e-6 * Math.abs(prev - x));
      }),
    );
  });
});

describe('mapToRange', () => {
  it('lin interpolates', () => {
    expect(mapToRange(0, -40, 0, 'lin')).toBe(-40);
    expect(mapToRange(1, -40, 0, 'lin')).toBe(0);
    expect(mapToRange(0.25, -40, 0, 'lin')).toBe(-30);
  });

  it('exp with positive ends is geometric: 100…10000 at 0.5 → 1000', () => {
    expect(mapToRange(0.5, 100, 10000, 'exp')).toBeCloseTo(1000, 9);
    expect(mapToRange(0, 100, 10000, 'exp')).toBeCloseTo(100, 12);
    expect(mapToRange(1, 100, 10000, 'exp')).toBeCloseTo(10000, 9);
    expect(mapToRange(0.25, 200, 3200, 'exp')).toBeCloseTo(400, 9); // one octave of four
  });

  it('exp with a non-positive end shapes x with the exp curve instead', () => {
    expect(mapToRange(0.5, -10, 20, 'exp')).toBeCloseTo(-10 + 30 * 0.2, 12);
    expect(mapToRange(0.5, 0, 15, 'exp')).toBeCloseTo(3, 12);
  });

  it('log shapes x with the log curve', () => {
    expect(mapToRange(1 / 15, 0, 8, 'log')).toBeCloseTo(2, 12);
  });
});

describe('RollingRange', () => {
  it('is NaN before any sample', () => {
    const r = new RollingRange(10);
    expect(r.min).toBeNaN();
    expect(r.max).toBeNaN();
  });

  it('tracks the exact min/max over a window as samples expire', () => {
    const r = new RollingRange(10);
    r.push(0, 5);
    expect([r.min, r.max]).toStrictEqual([5, 5]);
    r.push(1, 1);
    expect([r.min, r.max]).toStrictEqual([1, 5]);
    r.push(5, 9);
    expect([r.min, r.max]).toStrictEqual([1, 9]);
    r.push(10, 3); // horizon 0: the sample at t=0 is still inside (inclusive)
    expect([r.min, r.max]).toStrictEqual([1, 9]);
    r.push(11, 4); // horizon 1: t=0 expired, t=1 still inside
    expect([r.min, r.max]).toStrictEqual([1, 9]);
    r.push(12, 4); // horizon 2: t=1 (value 1) expired → min 3
    expect([r.min, r.max]).toStrictEqual([3, 9]);
    r.push(15.5, 6); // horizon 5.5: t=5 (value 9) expired → max 6
    expect([r.min, r.max]).toStrictEqual([3, 6]);
    r.push(100, 2); // everything else expired
    expect([r.min, r.max]).toStrictEqual([2, 2]);
  });

  it('an infinite window keeps the all-time range', () => {
    const r = new RollingRange(Infinity);
    r.push(0, 5);
    r.push(1e9, 7);
    r.push(2e9, 6);
    expect([r.min, r.max]).toStrictEqual([5, 7]);
  });

  it('a window of 0 keeps only samples at the latest time', () => {
    const r = new RollingRange(0);
    r.push(1, 5);
    r.push(1, 2);
    r.push(1, 8);
    expect([r.min, r.max]).toStrictEqual([2, 8]);
    r.push(2, 4);
    expect([r.min, r.max]).toStrictEqual([4, 4]);
  });

  it('stays exact over long monotonic runs (past its internal compaction)', () => {
    // Rising values make the min deque long and its head advance past 1024 expired entries;
    // falling values do the same to the max deque.
    const up = new RollingRange(50);
    const down = new RollingRange(50);
    for (let t = 0; t < 5000; t++) {
      up.push(t, t * 2);
      down.push(t, -t * 2);
      const lo = Math.max(0, t - 50) * 2;
      if (up.min !== lo || up.max !== t * 2 || down.max !== -lo || down.min !== -t * 2) throw new Error(`wrong range at t=${t}`);
    }
    expect([up.min, up.max]).toStrictEqual([9898, 9998]);
    expect([down.min, down.max]).toStrictEqual([-9998, -9898]);
  });

  // BUG (conditioning.ts:71-72 with pushMono at :106): pushMono pops dominated entries from the
  // tail without stopping at minHead/maxHead, so when a new sample dominates every live entry
  // AND an expired entry still stored before the head, the deque becomes shorter than the head
  // index: min/max read NaN, and later pushes read the wrong entry. Fix: stop popping at the
  // head (`while (q.length > head && dominated(...)) q.pop()`), or after the push clamp the head
  // to `q.length - 1`.
  it('a new extreme after an old one expired is still seen (min)', () => {
    const r = new RollingRange(10);
    r.push(0, 5);
    r.push(20, 6); // t=0 expires; the stored (0, 5) is kept behind the head
    expect([r.min, r.max]).toStrictEqual([6, 6]);
    r.push(21, 1); // dominates (20, 6) and the expired (0, 5): min is NaN
    expect([r.min, r.max]).toStrictEqual([1, 6]);
  });

  it('a new extreme after an old one expired is still seen (max, and later pushes)', () => {
    const r = new RollingRange(10);
    r.push(0, 5);
    r.push(20, 4);
    r.push(21, 9);
    r.push(22, 3);
    expect([r.min, r.max]).toStrictEqual([3, 9]);
  });

  // Same bug as above, found by this property (seeded so it fails deterministically until fixed).
  it('equals a brute-force min/max over the samples within the window (property)', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0, max: 100, noNaN: true }),
        fc.array(fc.tuple(fc.double({ min: 0, max: 20, noNaN: true }), fc.integer({ min: -50, max: 50 })), { minLength: 1, maxLength: 200 }),
        (window, steps) => {
          const r = new RollingRange(window);
          const seen: Array<[number, number]> = [];
          let t = 0;
          for (const [dt, x] of steps) {
            t += dt;
            r.push(t, x);
            seen.push([t, x]);
            const inside = seen.filter(([ts]) => ts >= t - window).map(([, v]) => v);
            expect(r.min).toBe(Math.min(...inside));
            expect(r.max).toBe(Math.max(...inside));
          }
        },
      ),
      { seed: 12345, numRuns: 300 },
    );
  });
});

describe('Hysteresis', () => {
  it('turns on at ≥ above and off only at ≤ above − hysteresis', () => {
    const h = new Hysteresis(0.8, 0.1);
    expect(h.push(0.79)).toBeUndefined();
    expect(h.state).toBe(false);
    expect(h.push(0.8)).toBe('on');
    expect(h.state).toBe(true);
    expect(h.push(0.95)).toBeUndefined();
    expect(h.push(0.75)).toBeUndefined();
    expect(h.push(0.71)).toBeUndefined();
    expect(h.state).toBe(true);
    expect(h.push(0.7 - 1e-9)).toBe('off');
    expect(h.state).toBe(false);
    expect(h.push(0.79)).toBeUndefined();
    expect(h.push(0.81)).toBe('on');
  });

  it('turns off exactly at above − hysteresis', () => {
    const h = new Hysteresis(0.5, 0.25);
    expect(h.push(0.5)).toBe('on');
    expect(h.push(0.25)).toBe('off');
  });

  it('never chatters for values oscillating strictly inside the band (property)', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0.2, max: 1, noNaN: true }),
        fc.double({ min: 0.01, max: 0.2, noNaN: true }),
        fc.boolean(),
        fc.array(fc.double({ min: 0.001, max: 0.999, noNaN: true }), { minLength: 1, maxLength: 100 }),
        (above, hyst, startOn, fractions) => {
          const h = new Hysteresis(above, hyst);
          if (startOn) expect(h.push(above)).toBe('on');
          for (const f of fractions) {
            // strictly between above − hysteresis and above
            const x = above - hyst + f * hyst;
            if (!(x > above - hyst && x < above)) continue;
            expect(h.push(x)).toBeUndefined();
            expect(h.state).toBe(startOn);
          }
        },
      ),
    );
  });

  it('events alternate on/off and match state changes (property)', () => {
    fc.assert(
      fc.property(fc.array(unit, { maxLength: 200 }), (xs) => {
        const h = new Hysteresis(0.6, 0.1);
        let last: 'on' | 'off' = 'off';
        for (const x of xs) {
          const before = h.state;
          const e = h.push(x);
          if (e) {
            expect(e).not.toBe(last);
            last = e;
            expect(h.state).toBe(e === 'on');
          } else expect(h.state).toBe(before);
        }
      }),
    );
  });
});

describe('Conditioner', () => {
  it('auto-range windows run on the data clock, smoothing on the engine clock', () => {
    const DAY = 86400;
    // A day of data every engine second; the window is a day and a half of data.
    const c = new Conditioner(spec({ range: { autoWindowSeconds: 1.5 * DAY } }));
    c.push(0, 0, 0 * DAY);
    c.push(10, 1, 1 * DAY);
    c.push(5, 2, 2 * DAY);
    // the 0 from two days ago has left the window: range [5, 10] (it would still be [0, 10] on the engine clock)
    expect(c.push(7.5, 3, 2.5 * DAY)).toStrictEqual({ value: 0.5 });
    // without a data time the engine time is used: all four seconds are within the window
    const e = new Conditioner(spec({ range: { autoWindowSeconds: 1.5 * DAY } }));
    for (const [v, t] of [[0, 0], [10, 1], [5, 2]] as const) e.push(v, t);
    expect(e.push(7.5, 3)).toStrictEqual({ value: 0.75 });
    // a non-finite data time is refused like a non-finite value
    expect(c.push(1, 4, NaN)).toBeUndefined();
  });

  it('rejects NaN, ±Infinity and non-numbers, counts them and keeps its value', () => {
    const c = new Conditioner(spec(), 0.25);
    expect(c.push(NaN, 0)).toBeUndefined();
    expect(c.push(Infinity, 1)).toBeUndefined();
    expect(c.push(-Infinity, 2)).toBeUndefined();
    expect(c.push('5' as unknown as number, 3)).toBeUndefined();
    expect(c.push(undefined as unknown as number, 4)).toBeUndefined();
    expect(c.push(null as unknown as number, 5)).toBeUndefined();
    expect(c.push(5, NaN)).toBeUndefined(); // a non-finite time too
    expect(c.rejected).toBe(7);
    expect(c.value).toBe(0.25);
    expect(c.push(5, 6)).toStrictEqual({ value: 0.5 });
    expect(c.rejected).toBe(7);
  });

  it('a rejected sample does not disturb smoothing state (the time of the last good sample is kept)', () => {
    const c = new Conditioner(spec({ smoothSeconds: 1 }));
    c.push(0, 0); // first sample is taken as is → 0
    c.push(NaN, 0.5);
    const r = c.push(10, 1); // dt = 1 from the last accepted sample
    expect(r?.value).toBeCloseTo(1 - Math.exp(-1), 12);
  });

  it('fixed range normalises and clamps', () => {
    const c = new Conditioner(spec({ range: { fixed: [10, 20] } }));
    expect(c.push(15, 0)).toStrictEqual({ value: 0.5 });
    expect(c.push(12.5, 1)).toStrictEqual({ value: 0.25 });
    expect(c.push(30, 2)).toStrictEqual({ value: 1 });
    expect(c.push(-5, 3)).toStrictEqual({ value: 0 });
  });

  it('without clamp the value extrapolates', () => {
    const c = new Conditioner(spec({ range: { fixed: [10, 20] }, clamp: false }));
    expect(c.push(30, 0)?.value).toBe(2);
    expect(c.push(5, 1)?.value).toBe(-0.5);
  });

  it('applies the curve after normalising, and invert after the curve', () => {
    const c = new Conditioner(spec({ range: { fixed: [0, 10] }, curve: 'exp' }));
    expect(c.push(5, 0)?.value).toBeCloseTo(0.2, 12);
    const i = new Conditioner(spec({ range: { fixed: [0, 10] }, curve: 'exp', invert: true }));
    expect(i.push(5, 0)?.value).toBeCloseTo(0.8, 12);
    expect(i.push(10, 1)?.value).toBe(0);
    expect(i.push(0, 2)?.value).toBe(1);
  });

  it('auto range: first sample 0.5 (degenerate), then min/max seen so far', () => {
    const c = new Conditioner(spec({ range: { autoWindowSeconds: Infinity } }));
    expect(c.push(10, 0)).toStrictEqual({ value: 0.5 });
    expect(c.push(20, 1)).toStrictEqual({ value: 1 });
    expect(c.push(15, 2)).toStrictEqual({ value: 0.5 });
    expect(c.push(0, 3)).toStrictEqual({ value: 0 });
    expect(c.push(5, 4)).toStrictEqual({ value: 0.25 });
  });

  it('auto range with a window forgets old extremes', () => {
    const c = new Conditioner(spec({ range: { autoWindowSeconds: 10 } }));
    c.push(0, 0);
    c.push(100, 1);
    expect(c.push(50, 2)?.value).toBe(0.5);
    c.push(50, 12);
    c.push(60, 15);
    // at t = 20 the extremes from t = 0 and t = 1 have expired: the range is [50, 60]
    expect(c.push(55, 20)?.value).toBe(0.5);
  });

  it('smooths with the EMA after the first sample', () => {
    const c = new Conditioner(spec({ range: { fixed: [0, 1] }, smoothSeconds: 2 }));
    expect(c.push(1, 0)?.value).toBe(1);
    const v = c.push(0, 2)?.value;
    expect(v).toBeCloseTo(Math.exp(-1), 12);
  });

  it('emits a threshold event once per crossing', () => {
    const c = new Conditioner(spec({ range: { fixed: [0, 1] }, threshold: { above: 0.8, hysteresis: 0.1 } }));
    const events = [0.1, 0.85, 0.9, 0.75, 0.95, 0.65, 0.6, 0.8, 0.81].map((x, i) => c.push(x, i)?.event);
    expect(events).toStrictEqual([undefined, 'on', undefined, undefined, undefined, 'off', undefined, 'on', undefined]);
  });

  it('the threshold sees the smoothed value', () => {
    const c = new Conditioner(spec({ range: { fixed: [0, 1] }, smoothSeconds: 10, threshold: { above: 0.8, hysteresis: 0.1 } }), 0);
    expect(c.push(0, 0)?.event).toBeUndefined();
    // one step of dt = 1 s towards 1 only reaches ≈ 0.095
    expect(c.push(1, 1)).toStrictEqual({ value: 1 - Math.exp(-0.1) });
  });

  it('with clamp on, the output is always within [0, 1] for finite inputs (property)', () => {
    const rangeArb = fc.oneof(
      fc.tuple(finite, finite).map(([a, b]) => ({ fixed: [a, b] as [number, number] })),
      // a finite auto window hits the RollingRange bug (it.fails below)
      fc.constant({ autoWindowSeconds: Infinity }),
    );
    fc.assert(
      fc.property(
        rangeArb,
        fc.constantFrom('lin', 'exp', 'log') as fc.Arbitrary<'lin' | 'exp' | 'log'>,
        fc.double({ min: 0, max: 100, noNaN: true }),
        fc.boolean(),
        fc.array(fc.tuple(finite, fc.double({ min: 0, max: 100, noNaN: true })), { minLength: 1, maxLength: 60 }),
        (range, curve, smoothSeconds, invert, samples) => {
          const c = new Conditioner({ range, curve, smoothSeconds, invert, clamp: true, threshold: { above: 0.5, hysteresis: 0.1 } });
          let t = 0;
          for (const [x, dt] of samples) {
            t += dt;
            const r = c.push(x, t);
            expect(r).toBeDefined();
            expect(r!.value).toBeGreaterThanOrEqual(0);
            expect(r!.value).toBeLessThanOrEqual(1);
            expect(c.value).toBe(r!.value);
          }
          expect(c.rejected).toBe(0);
        },
      ),
    );
  });

  // BUG: the RollingRange deque bug above reaches the Conditioner: an auto range with a window
  // produces NaN (and with smoothing, NaN forever after, since every EMA step from NaN is NaN).
  it('auto range with a window never outputs NaN when a new extreme follows an expired one', () => {
    const c = new Conditioner(spec({ range: { autoWindowSeconds: 10 }, smoothSeconds: 1 }));
    c.push(5, 0);
    c.push(6, 20);
    c.push(1, 21);
    const r = c.push(3, 22);
    expect(Number.isFinite(c.value)).toBe(true);
    expect(r!.value).toBeGreaterThanOrEqual(0);
    expect(r!.value).toBeLessThanOrEqual(1);
  });

  // BUG (conditioning.ts:35, used at :191): normalize computes (x − lo) / (hi − lo) directly, so finite
  // but huge inputs overflow: the span becomes Infinity, Infinity / Infinity = NaN, the clamp
  // (Math.min/Math.max) passes NaN through, and the NaN sticks in `value` (every later EMA step
  // from NaN is NaN) although the class promises non-finite values never reach audio.
  it('finite inputs at the edge of the double range still give a value in [0, 1] (overflow → NaN)', () => {
    const c = new Conditioner(spec({ range: { fixed: [-1e308, 1e308] } }));
    const r = c.push(1e308, 0);
    expect(r!.value).toBeGreaterThanOrEqual(0);
    expect(r!.value).toBeLessThanOrEqual(1);
  });
});

describe('Hysteresis below a level', () => {
  it('turns on at ≤ level and off only at ≥ level + hysteresis', () => {
    const h = new Hysteresis(0.25, 0.25, 'below');
    expect([0.75, 0.25, 0.1, 0.4, 0.5, 0.6, 0.2].map((x) => h.push(x))).toStrictEqual([undefined, 'on', undefined, undefined, 'off', undefined, 'on']);
  });

  it('defaults to above (the two-argument form keeps its meaning)', () => {
    expect(new Hysteresis(0.5, 0.1).direction).toBe('above');
  });
});

describe('Conditioner stages', () => {
  it('auto range by percentiles: one spike does not squash the range', () => {
    const p = new Conditioner(spec({ range: { autoWindowSeconds: 100, percentiles: [25, 75] } }));
    const m = new Conditioner(spec({ range: { autoWindowSeconds: 100 } }));
    [1, 2, 3, 4].forEach((x, t) => {
      p.push(x, t);
      m.push(x, t);
    });
    // [1, 2, 3, 4, 100]: P25 = 2, P75 = 4 → 100 is far above: clamped to 1
    expect(p.push(100, 4)).toStrictEqual({ value: 1 });
    m.push(100, 4);
    // [1, 2, 3, 3, 4, 100]: P25 (h = 1.25) = 2.25, P75 (h = 3.75) = 3.75 → 3 is the middle
    expect(p.push(3, 5)).toStrictEqual({ value: 0.5 });
    // min/max: (3 − 1) / 99
    expect(m.push(3, 5)?.value).toBeCloseTo(2 / 99, 15);
  });

  it('percentiles [0, 100] are the min/max range, and the window runs on data time', () => {
    const p = new Conditioner(spec({ range: { autoWindowSeconds: Infinity, percentiles: [0, 100] } }));
    expect([10, 20, 15, 0, 5].map((x, t) => p.push(x, t)?.value)).toStrictEqual([0.5, 1, 0.5, 0, 0.25]);
    const d = new Conditioner(spec({ range: { autoWindowSeconds: 10, percentiles: [0, 100] } }));
    d.push(0, 0, 0);
    d.push(10, 1, 5);
    expect(d.push(10, 2, 100)).toStrictEqual({ value: 0.5 }); // both older samples left the data window
  });

  it('outliers (reject): dropped, counted, and the value stays', () => {
    const c = new Conditioner(spec({ range: { fixed: [0, 100] }, outliers: { window: 3, threshold: 3, action: 'reject' } }));
    expect([10, 11, 12].map((x, t) => c.push(x, t)?.value)).toStrictEqual([0.1, 0.11, 0.12]);
    // window [11, 12, 90]: median 12, MAD 1 → |90 − 12| = 78 > 3 · 1.4826
    expect(c.push(90, 3)).toBeUndefined();
    expect(c.counts.outliers).toBe(1);
    expect(c.outliers).toBe(1);
    expect(c.value).toBe(0.12);
    expect(c.rejected).toBe(0);
  });

  it('outliers (replace): the window median instead', () => {
    const c = new Conditioner(spec({ range: { fixed: [0, 100] }, outliers: { window: 3, threshold: 3, action: 'replace' } }));
    [10, 11, 12].forEach((x, t) => c.push(x, t));
    expect(c.push(90, 3)).toStrictEqual({ value: 0.12 });
    expect(c.outliers).toBe(1);
  });

  it('derive rate: per hour of data time; the first sample gives no output; out-of-order data times are counted', () => {
    const c = new Conditioner(spec({ range: { fixed: [-2, 2] }, rate: { perSeconds: 3600 } }), 0.5);
    expect(c.push(5, 0, 0)).toBeUndefined();
    expect(c.counts).toStrictEqual({ rejected: 0, outliers: 0, unknownCategory: 0, unitErrors: 0, outOfOrder: 0 });
    expect(c.push(6, 1, 3600)).toStrictEqual({ value: 0.75 }); // +1 per hour
    expect(c.push(4, 2, 5400)).toStrictEqual({ value: 0 }); // −4 per hour, clamped
    expect(c.push(100, 3, 5400)).toBeUndefined(); // same data time
    expect(c.push(100, 3, 10)).toBeUndefined(); // earlier data time
    expect(c.counts.outOfOrder).toBe(2);
    expect(c.push(4.5, 4, 7200)).toStrictEqual({ value: 0.75 }); // from (5400 s, 4): +0.5 per half hour
  });

  it('derive rate after outlier rejection: a dropped sample is not a reference', () => {
    const c = new Conditioner(spec({ range: { fixed: [-10, 10] }, outliers: { window: 3, threshold: 2, action: 'reject' }, rate: { perSeconds: 1 } }));
    c.push(0, 0);
    c.push(1, 1);
    expect(c.push(2, 2)).toStrictEqual({ value: 0.55 }); // rate 1 → (1 + 10) / 20
    expect(c.push(500, 3)).toBeUndefined(); // outlier
    expect(c.push(4, 4)).toStrictEqual({ value: 0.55 }); // (4 − 2) / (4 − 2) = 1
  });

  it('threshold below a level emits on when the signal drops to it', () => {
    const c = new Conditioner(spec({ range: { fixed: [0, 1] }, threshold: { below: 0.25, hysteresis: 0.25 } }));
    const events = [0.75, 0.25, 0.1, 0.4, 0.5, 0.6, 0.2].map((x, i) => c.push(x, i)?.event);
    expect(events).toStrictEqual([undefined, 'on', undefined, undefined, 'off', undefined, 'on']);
  });

  it('categories: text maps to raw numbers (case and spaces ignored); unknown text is counted; numbers pass', () => {
    const c = new Conditioner(spec({ range: { fixed: [0, 1] }, categories: { rain: 0.8, snow: 1, clear: 0 } }));
    expect(c.push(' Rain ', 0)).toStrictEqual({ value: 0.8 });
    expect(c.push('CLEAR', 1)).toStrictEqual({ value: 0 });
    expect(c.push('hail', 2)).toBeUndefined();
    expect(c.push('', 3)).toBeUndefined();
    expect(c.unknownCategory).toBe(2);
    expect(c.value).toBe(0);
    expect(c.push(0.5, 4)).toStrictEqual({ value: 0.5 });
    expect(c.rejected).toBe(0);
    // without categories, text is a bad value
    const n = new Conditioner(spec());
    expect(n.push('rain', 0)).toBeUndefined();
    expect([n.rejected, n.unknownCategory]).toStrictEqual([1, 0]);
  });

  it('units: a sample in another unit is converted to the stream unit; unconvertible ones are counted', () => {
    const c = new Conditioner(spec({ range: { fixed: [0, 100] }, unit: 'degC' }));
    expect(c.push(212, 0, 0, 'degF')).toStrictEqual({ value: 1 });
    expect(c.push(50, 1, 1, '°C')).toStrictEqual({ value: 0.5 });
    expect(c.push(50, 2, 2, 'degC')).toStrictEqual({ value: 0.5 });
    expect(c.push(25, 3)).toStrictEqual({ value: 0.25 }); // no unit: the stream's
    expect(c.push(10, 4, 4, 'm')).toBeUndefined();
    expect(c.push(10, 5, 5, 'bogus')).toBeUndefined();
    expect(c.unitErrors).toBe(2);
    expect(c.value).toBe(0.25);
    // a stream without a declared unit does not check sample units
    expect(new Conditioner(spec({ range: { fixed: [0, 100] } })).push(10, 0, 0, 'degF')).toStrictEqual({ value: 0.1 });
    // a declared unit convertUnit does not know still accepts the same spelling
    expect(new Conditioner(spec({ unit: 'count' })).push(5, 0, 0, 'count')).toStrictEqual({ value: 0.5 });
    // a conversion beyond the range of a double is a bad value
    const mm = new Conditioner(spec({ unit: 'mm' }));
    expect(mm.push(1e308, 0, 0, 'km')).toBeUndefined();
    expect(mm.rejected).toBe(1);
  });

  it('slew limits the output per second of playing time', () => {
    const c = new Conditioner(spec({ range: { fixed: [0, 1] }, slewPerSecond: 0.5 }));
    expect([c.push(0, 0), c.push(1, 1), c.push(1, 1.5), c.push(0.8, 2)].map((r) => r?.value)).toStrictEqual([0, 0.5, 0.75, 0.8]);
  });

  it('smoothing runs before the slew and keeps its own state', () => {
    const c = new Conditioner(spec({ range: { fixed: [0, 1] }, smoothSeconds: 1, slewPerSecond: 0.1 }));
    expect(c.push(0, 0)?.value).toBe(0);
    expect(c.push(1, 1)?.value).toBeCloseTo(0.1, 15); // the EMA is at 1 − e^−1 ≈ 0.63
    expect(c.push(1, 2)?.value).toBeCloseTo(0.2, 15); // the EMA is at 1 − e^−2 ≈ 0.86, not 0.1 + …
  });

  it('the 1€ filter replaces the EMA (same numbers as the stage)', () => {
    const c = new Conditioner(spec({ range: { fixed: [0, 1] }, oneEuro: { minCutoff: 1, beta: 0.5, dCutoff: 1 } }));
    const got = [[0, 0], [0.1, 1], [0.3, 1]].map(([t, x]) => c.push(x!, t!)?.value);
    expect(got[0]).toBe(0);
    expect(got[1]).toBeCloseTo(0.6479571695923358, 14);
    expect(got[2]).toBeCloseTo(0.9108051242252495, 14);
  });

  it('refuses contradictory specs', () => {
    expect(() => new Conditioner(spec({ smoothSeconds: 1, oneEuro: { minCutoff: 1, beta: 0, dCutoff: 1 } }))).toThrow(/either/);
    expect(() => new Conditioner(spec({ threshold: { above: 0.8, below: 0.2, hysteresis: 0 } }))).toThrow(/exactly one/);
    expect(() => new Conditioner(spec({ threshold: { hysteresis: 0 } }))).toThrow(/exactly one/);
    expect(() => new Conditioner(spec({ range: { autoWindowSeconds: 10, percentiles: [95, 5] } }))).toThrow(/percentiles/);
    expect(() => new Conditioner(spec({ categories: { a: 1, ' A': 2 } }))).toThrow(/same ignoring case/);
  });
});

// ---------------------------------------------------------------- properties over every stage

const CATEGORIES = { rain: 0.8, snow: 1, clear: 0, flood: 1e12 };

/** Any spec, with every optional stage on or off. */
const fullSpecArb: fc.Arbitrary<ConditionSpec> = fc
  .record({
    range: fc.oneof(
      fc.tuple(finite, finite).map(([a, b]) => ({ fixed: [a, b] as [number, number] })),
      fc.double({ min: 0, max: 1e4, noNaN: true }).map((w) => ({ autoWindowSeconds: w })),
      fc
        .tuple(fc.oneof(fc.constant(Infinity), fc.double({ min: 0, max: 1e4, noNaN: true })), fc.integer({ min: 0, max: 99 }), fc.integer({ min: 1, max: 100 }))
        .map(([w, a, b]) => ({ autoWindowSeconds: w, percentiles: [Math.min(a, b - 1), b] as [number, number] })),
    ),
    curve: fc.constantFrom('lin', 'exp', 'log') as fc.Arbitrary<'lin' | 'exp' | 'log'>,
    smoothSeconds: fc.oneof(fc.constant(0), fc.double({ min: 0, max: 100, noNaN: true })),
    oneEuro: fc.option(fc.record({ minCutoff: fc.double({ min: 1e-3, max: 1000, noNaN: true }), beta: fc.double({ min: 0, max: 1000, noNaN: true }), dCutoff: fc.double({ min: 1e-3, max: 1000, noNaN: true }) }), { nil: undefined }),
    invert: fc.boolean(),
    slewPerSecond: fc.option(fc.double({ min: 1e-3, max: 1000, noNaN: true }), { nil: undefined }),
    outliers: fc.option(fc.record({ window: fc.integer({ min: 3, max: 9 }), threshold: fc.double({ min: 0.5, max: 5, noNaN: true }), action: fc.constantFrom('reject', 'replace') as fc.Arbitrary<'reject' | 'replace'> }), { nil: undefined }),
    rate: fc.option(fc.constantFrom(1, 60, 3600, 86400).map((perSeconds) => ({ perSeconds })), { nil: undefined }),
    categories: fc.option(fc.constant(CATEGORIES), { nil: undefined }),
    threshold: fc.option(
      fc.tuple(fc.boolean(), unit, fc.double({ min: 0, max: 0.5, noNaN: true })).map(([up, level, hysteresis]) => (up ? { above: level, hysteresis } : { below: level, hysteresis })),
      { nil: undefined },
    ),
    unit: fc.option(fc.constantFrom('degC', 'm', 'count'), { nil: undefined }),
  })
  .map((s) => ({ ...s, clamp: true, smoothSeconds: s.oneEuro ? 0 : s.smoothSeconds }));

/** Anything a feed might send: numbers of any size, non-finite numbers, text, null, objects. */
const anyRaw: fc.Arbitrary<unknown> = fc.oneof(
  finite,
  fc.double(),
  fc.constantFrom(NaN, Infinity, -Infinity, null, undefined, true, 'rain', ' SNOW', 'hail', '5', '', 1e308, -1e308),
  fc.constantFrom({}, [], [1], { value: 1 }),
);

/** Samples that must be refused without a trace, given the spec. */
function garbageFor(s: ConditionSpec): Array<[raw: unknown, time: number, dataTime: number, unit?: string]> {
  const g: Array<[unknown, number, number, string?]> = [
    [NaN, 0, 0],
    [Infinity, 0, 0],
    [-Infinity, 0, 0],
    [null, 0, 0],
    [undefined, 0, 0],
    [{}, 0, 0],
    [[3], 0, 0],
    [true, 0, 0],
    ['hail', 0, 0],
    [0.5, NaN, 0],
    [0.5, 0, Infinity],
  ];
  if (s.unit === 'degC') g.push([20, 0, 0, 'm'], [20, 0, 0, 'bogus']);
  return g;
}

describe('Conditioner properties (every stage)', () => {
  it('with clamp on, every output is finite and in [0, 1], whatever arrives (property)', () => {
    fc.assert(
      fc.property(
        fullSpecArb,
        fc.array(
          fc.tuple(anyRaw, fc.double({ min: 0, max: 100, noNaN: true }), fc.oneof(fc.double({ min: 0, max: 1e5, noNaN: true }), fc.constantFrom(NaN, -5)), fc.option(fc.constantFrom('degF', 'degC', 'm', 'km', 'bogus'), { nil: undefined })),
          { minLength: 1, maxLength: 60 },
        ),
        (s, samples) => {
          const c = new Conditioner(s);
          let t = 0;
          let d = 0;
          for (const [raw, dt, dd, u] of samples) {
            t += dt;
            d += dd;
            const r = c.push(raw, t, d, u);
            expect(Number.isFinite(c.value)).toBe(true);
            if (!r) continue;
            expect(Number.isFinite(r.value)).toBe(true);
            expect(r.value).toBeGreaterThanOrEqual(0);
            expect(r.value).toBeLessThanOrEqual(1);
            expect(c.value).toBe(r.value);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('the slew rate is never exceeded between outputs (property)', () => {
    fc.assert(
      fc.property(
        fullSpecArb.filter((s) => s.slewPerSecond !== undefined),
        fc.array(fc.tuple(finite, fc.double({ min: 0, max: 10, noNaN: true })), { minLength: 2, maxLength: 60 }),
        (s, samples) => {
          const c = new Conditioner(s);
          const rate = s.slewPerSecond!;
          let t = 0;
          let last: { v: number; t: number } | undefined;
          for (const [x, dt] of samples) {
            t += dt;
            const r = c.push(x, t, t);
            if (!r) continue;
            if (last) expect(Math.abs(r.value - last.v)).toBeLessThanOrEqual(rate * (t - last.t) * (1 + 1e-12) + 1e-15);
            last = { v: r.value, t };
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('refused values never change state: garbage between valid samples changes no output (property)', () => {
    fc.assert(
      fc.property(
        fullSpecArb,
        fc.array(fc.tuple(fc.oneof(finite, fc.constantFrom('rain', 'Snow ', 'clear')), fc.double({ min: 0, max: 10, noNaN: true }), fc.double({ min: 0, max: 1e4, noNaN: true })), { minLength: 1, maxLength: 40 }),
        fc.array(fc.tuple(fc.nat(), fc.nat()), { maxLength: 30 }),
        (s, valid, inserts) => {
          // text is only valid with categories
          const clean = valid.map(([x, dt, dd]) => [typeof x === 'string' && !s.categories ? 1 : x, dt, dd] as const);
          const plain = new Conditioner(s);
          const noisy = new Conditioner(s);
          const garbage = garbageFor(s);
          const before = new Map<number, number[]>();
          for (const [at, which] of inserts) before.set(at % clean.length, [...(before.get(at % clean.length) ?? []), which % garbage.length]);
          let t = 0;
          let d = 0;
          let refused = 0;
          clean.forEach(([x, dt, dd], i) => {
            t += dt;
            d += dd;
            for (const k of before.get(i) ?? []) {
              const [raw, gt, gd, gu] = garbage[k]!;
              expect(noisy.push(raw, t + gt, Number.isFinite(gd) ? d + gd : gd, gu)).toBeUndefined();
              refused++;
            }
            expect(noisy.push(x, t, d)).toStrictEqual(plain.push(x, t, d));
            expect(noisy.value).toBe(plain.value);
          });
          const n = noisy.counts;
          const p = plain.counts;
          expect(n.rejected + n.unknownCategory + n.unitErrors - (p.rejected + p.unknownCategory + p.unitErrors)).toBe(refused);
          expect([n.outliers, n.outOfOrder]).toStrictEqual([p.outliers, p.outOfOrder]);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('threshold hold', () => {
  // Noise of ±0.15 around the level, one sample every 0.05 s for 60 s: a fixed sequence, not chance.
  const noisy = Array.from({ length: 1200 }, (_, i) => ({ time: i * 0.05, x: 0.8 + 0.15 * Math.sin(i * 12.9898) * Math.cos(i * 78.233) * 2 }));
  const changes = (h: Hysteresis) => noisy.flatMap(({ time, x }) => (h.push(x, time) ? [time] : []));

  it('without hold, noise around the level flips the threshold many times', () => {
    expect(changes(new Hysteresis(0.8, 0.05)).length).toBeGreaterThan(40);
  });

  it('with hold 10s, it changes at most once per 10 s, and still follows the data', () => {
    const at = changes(new Hysteresis(0.8, 0.05, 'above', 10));
    expect(at.length).toBeGreaterThanOrEqual(2);
    expect(at.length).toBeLessThanOrEqual(6);
    for (let i = 1; i < at.length; i++) expect(at[i]! - at[i - 1]!).toBeGreaterThanOrEqual(10);
  });
});
