import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { coerceValue, SampleGate } from './gate.ts';

describe('coerceValue', () => {
  it.each([
    [12.5, 12.5],
    ['12.5', 12.5],
    [' -3e2 ', -300],
    ['.5', 0.5],
    [NaN, 'non-finite'],
    [Infinity, 'non-finite'],
    [-Infinity, 'non-finite'],
    ['Infinity', 'non-finite'],
    ['NaN', 'non-finite'],
    ['1e309', 'non-finite'],
    ['0x190', 'not-a-number'],
    ['0b110010000', 'not-a-number'],
    ['0o620', 'not-a-number'],
    [null, 'null'],
    [undefined, 'null'],
    ['n/a', 'not-a-number'],
    ['', 'not-a-number'],
    ['12,5', 'not-a-number'],
    [true, 'not-a-number'],
    [{ v: 1 }, 'not-a-number'],
    [[1], 'not-a-number'],
  ])('%o → %o', (v, want) => expect(coerceValue(v)).toBe(want));

  it('passes text on only when the stream maps categories', () => {
    expect(coerceValue(' rain ', true)).toBe('rain');
    expect(coerceValue(' rain ', false)).toBe('not-a-number');
  });
});

describe('SampleGate', () => {
  it('rejects and counts each bad kind, accepting the good ones in between', () => {
    const g = new SampleGate({ valid: [-50, 60] });
    const feed: Array<[unknown, number]> = [
      [10, 1],
      [NaN, 2],
      [Infinity, 3],
      [null, 4],
      ['broken', 5],
      [11, 6],
      [12, 6], // duplicate time
      [13, 5], // out of order
      [-9999, 7], // sensor error code
      [14, NaN], // no time
      [15, 8],
    ];
    const accepted = feed.map(([v, t]) => g.accept(v, t)).filter((r) => typeof r !== 'string');
    expect(accepted).toEqual([
      { value: 10, dataTime: 1 },
      { value: 11, dataTime: 6 },
      { value: 15, dataTime: 8 },
    ]);
    expect(g.counts).toEqual({ null: 1, 'not-a-number': 1, 'non-finite': 2, 'bad-unit': 0, 'bad-time': 1, 'out-of-order': 1, duplicate: 1, 'out-of-range': 1, spike: 0 });
    expect(g.accepted).toBe(3);
    expect(g.rejected).toBe(8);
  });

  it('rejects a spike faster than maxRate, then believes a new level after 3 consistent readings', () => {
    const g = new SampleGate({ maxRate: 1 });
    const out = [
      [10, 0],
      [10.5, 1],
      [500, 2], // spike
      [11, 3],
      [40, 4], // new level…
      [40.2, 5],
      [40.1, 6], // …confirmed on the third
      [40.3, 7],
    ].map(([v, t]) => g.accept(v, t!));
    expect(out.map((r) => (typeof r === 'string' ? r : r.value))).toEqual([10, 10.5, 'spike', 11, 'spike', 'spike', 40.1, 40.3]);
    expect(g.counts.spike).toBe(3);
  });

  it('property: whatever arrives, what passes is finite and strictly increasing in time', () => {
    const anyValue = fc.oneof(
      fc.double(),
      fc.constantFrom(null, undefined, 'n/a', '', 'NaN', 'Infinity', '1e999', {}, [], true),
      fc.double({ noNaN: true }).map(String),
    );
    fc.assert(
      fc.property(fc.array(fc.tuple(anyValue, fc.oneof(fc.double(), fc.integer({ min: 0, max: 100 }))), { maxLength: 200 }), (samples) => {
        const g = new SampleGate({ valid: [-1e6, 1e6], maxRate: 1e4 });
        let last = -Infinity;
        for (const [v, t] of samples) {
          const r = g.accept(v, t);
          if (typeof r === 'string') continue;
          if (typeof r.value !== 'number' || !Number.isFinite(r.value) || !(r.dataTime > last)) return false;
          last = r.dataTime;
        }
        return g.accepted + g.rejected === samples.length;
      }),
      { numRuns: 500 },
    );
  });
});

describe('SampleGate units', () => {
  it('converts a sample that says its unit into the stream unit, and rejects one it cannot convert', () => {
    const g = new SampleGate({ unit: 'degC', valid: [-60, 110] });
    expect(g.accept(212, 1, 'degF')).toEqual({ value: 100, dataTime: 1 });
    expect(g.accept(20, 2, '°C')).toEqual({ value: 20, dataTime: 2 });
    expect(g.accept(20, 3, 'm/s')).toBe('bad-unit');
    expect(g.accept(20, 4, 'furlongs')).toBe('bad-unit');
    expect(g.accept(300, 5, 'K')).toMatchObject({ value: expect.closeTo(26.85, 9) });
    // The valid range applies after conversion: 250 °F is 121 °C, out of range.
    expect(g.accept(250, 6, 'degF')).toBe('out-of-range');
    expect(g.counts['bad-unit']).toBe(2);
  });
});
