import { describe, expect, it } from 'vitest';
import { describePace, describePlacement, paceFor, sharedPaces } from './pace.ts';

const year = (y: number, m = 0) => Date.UTC(y, m, 1) / 1000;
const YEAR_S = 365.25 * 86400;

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

describe('one time axis for a patch\'s dated streams (sharedPaces)', () => {
  // Yearly 1880–2023 (144 values) and 5-year means 1880–2020 (29 values): different spans.
  const yearly = { first: year(1880), last: year(2023), n: 144 };
  const fiveYear = { first: year(1880), last: year(2020), n: 29 };
  const playAt = (p: { pace: { speed: number }; origin: number }, t: number) => (t - p.origin) / p.pace.speed;

  it('two streams with different spans: the same data time plays at the same moment', () => {
    const placed = sharedPaces(new Map([['anomaly', yearly], ['decade', fiveYear]]), { over: 600 });
    const a = placed.get('anomaly')!;
    const d = placed.get('decade')!;
    for (const y of [1880, 1930, 1975, 2000, 2020]) expect(playAt(d, year(y))).toBeCloseTo(playAt(a, year(y)), 9);
    // The axis is the union of their loops: the yearly loop ends in 2024, the 5-year one in 2025.
    expect(a.pace.loopSpan).toBeCloseTo(((year(2020) - year(1880)) * 29) / 28, 3);
    expect(a.pace.loopSpan / YEAR_S).toBeCloseTo(145, 1);
    expect(a.pace.loopSeconds).toBeCloseTo(600, 9);
    expect(a.sharedWith).toEqual(['anomaly', 'decade']);
    // Each alone they drift apart: 2020 of the 5-year series plays 4 s (about a year) before the yearly one's.
    const alone = (s: typeof yearly) => sharedPaces(new Map([['x', s]]), { over: 600 }).get('x')!;
    expect(playAt(alone(yearly), year(2020)) - playAt(alone(fiveYear), year(2020))).toBeGreaterThan(3);
  });

  it('a stream starting later starts later in play time; --speed keeps the shared origin', () => {
    const late = { first: year(1950), last: year(2023), n: 74 };
    const placed = sharedPaces(new Map([['a', yearly], ['b', late]]), { over: 600, speed: 365.25 * 86400 });
    expect(placed.get('b')!.origin).toBe(year(1880));
    expect(playAt(placed.get('b')!, year(1950))).toBeCloseTo(70, 2);
    expect(playAt(placed.get('a')!, year(1950))).toBe(playAt(placed.get('b')!, year(1950)));
  });

  it('a stream with its own &speed= and an undated (row order) one keep their own pace', () => {
    const rows = { first: 0, last: 39, n: 40, untimed: true };
    const fast = { ...fiveYear, speed: 86400 * 365.25 };
    const placed = sharedPaces(new Map([['a', yearly], ['rows', rows], ['fast', fast]]), { over: 20 });
    expect(placed.get('rows')).toMatchObject({ origin: 0, sharedWith: [] });
    expect(placed.get('rows')!.pace.loopSeconds).toBeCloseTo(20, 9);
    expect(placed.get('fast')!.pace.speed).toBe(86400 * 365.25);
    expect(placed.get('a')!.sharedWith).toEqual([]);
    expect(placed.get('a')!.pace.loopSeconds).toBeCloseTo(20, 9);
  });

  it('the pace line states the shared span and the streams on it', () => {
    const placed = sharedPaces(new Map([['anomaly', yearly], ['decade', fiveYear]]), { over: 600 });
    expect(describePlacement('decade', placed.get('decade')!)).toBe('decade: 1880–2023 over 10 min, 1 year = 4.1 s, one time axis with anomaly');
  });
});
