import { describe, expect, it } from 'vitest';
import { Timebase } from './timebase.ts';

describe('Timebase', () => {
  it('finds the offset under a clock that moves in quanta and lags', () => {
    const q = 128 / 48000;
    const trueOffset = 12.345;
    const tb = new Timebase();
    let seed = 5;
    const r = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
    let wall = 100;
    for (let i = 0; i < 500; i++) {
      wall += 0.02 * r();
      const exact = wall + trueOffset;
      tb.observe(Math.floor(exact / q) * q, wall); // what currentTime reads
    }
    expect(tb.toEngine(wall) - (wall + trueOffset)).toBeLessThan(0.0002);
    expect(tb.toEngine(wall) - (wall + trueOffset)).toBeGreaterThan(-q);
    expect(tb.toWall(tb.toEngine(7))).toBeCloseTo(7, 12);
  });

  it('sinks slowly after a high reading, and starts afresh when the engine clock stalls', () => {
    const tb = new Timebase(1e-3, 0.05);
    tb.observe(10, 0);
    tb.observe(10.5, 0.5);
    expect(tb.toEngine(0.5)).toBeCloseTo(10.5, 12);
    tb.observe(11.49, 1.5); // 10 ms low: the estimate sinks by the drift allowance only (1 ms)
    expect(tb.toEngine(1.5)).toBeCloseTo(11.499, 12);
    tb.observe(11.0, 2); // 0.5 s behind: a stall
    expect(tb.resets).toBe(1);
    expect(tb.toEngine(2)).toBeCloseTo(11.0, 12);
  });

  it('ignores readings that are not numbers and is not ready before one', () => {
    const tb = new Timebase();
    tb.observe(NaN, 1);
    expect(tb.ready).toBe(false);
    tb.observe(5, 1);
    expect(tb.ready).toBe(true);
  });
});
