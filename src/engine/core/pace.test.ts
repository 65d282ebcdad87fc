import { describe, expect, it } from 'vitest';
import { describePace, paceFor } from './pace.ts';

const year = (y: number, m = 0) => Date.UTC(y, m, 1) / 1000;

describe('pace', () => {
  it('spread: the loop (span plus one step) fills the playing time', () => {
    const p = paceFor(year(1958, 2), year(2020, 3), 741, { over: 600 });
    expect(p.loopSeconds).toBeCloseTo(600, 9);
    expect(p.spread).toBe(true);
    expect(describePace('co2', year(1958, 2), year(2020, 3), p)).toBe('co2: 1958–2020 over 10 min, 1 year = 9.7 s');
  });

  it('a speed wins over spreading', () => {
    const first = Date.UTC(2010, 0, 1, 1) / 1000;
    const last = Date.UTC(2010, 11, 31, 23) / 1000;
    const p = paceFor(first, last, 8759, { over: 600, speed: 3600 });
    expect(p.speed).toBe(3600);
    expect(describePace('wind', first, last, p)).toBe('wind: 2010-01-01–2010-12-31 at speed 3600, 1 month = 12 min 11 s, a loop is 2 h 26 min');
  });

  it('a file without times: rows', () => {
    const p = paceFor(0, 39, 40, { over: 20 });
    expect(describePace('gust', 0, 39, p, true)).toBe('gust: rows 1–40 over 20 s, 1 row = 0.50 s');
  });
});
