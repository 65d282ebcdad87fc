/**
 * Pace: how data from a file is laid on playing time, the one rule `play` and
 * `render` share. A file of n values spanning `first`…`last` is one loop of
 * (last − first) · n / (n − 1) data seconds (one more step, so a loop never
 * repeats a time). Without a speed that loop is spread over `over` seconds of
 * playing (the render's length, or `play --loop`, default 10 min); with one
 * (`--speed N`, `&speed=N`: data seconds per second) it plays at that speed.
 *
 * One clock for a patch's dated streams ({@link sharedPaces}): the file streams
 * with dates and no `&speed=` of their own share one mapping from data time to
 * play time, over the union of their loops (earliest first time to latest loop
 * end), so the same data time sounds at the same moment in every one of them
 * (a 5-year mean ending in 2020 and the yearly series ending in 2023 stay on
 * the same year). A stream with its own `&speed=`, and a file without dates
 * (rows in order), keeps a pace of its own.
 */

export interface Pace {
  /** Data seconds per second of playing. */
  speed: number;
  /** True when the speed came from spreading the data over `over`. */
  spread: boolean;
  /** Data seconds of one loop (the span plus one step). */
  loopSpan: number;
  /** Playing seconds of one loop. */
  loopSeconds: number;
}

/** The data seconds of one loop of `n` values from `first` to `last`. */
export function loopSpan(first: number, last: number, n: number): number {
  return n < 2 ? 1 : ((last - first) * n) / (n - 1);
}

/** The pace of a file's values: `speed` when given, else its loop spread over `over` seconds. */
export function paceFor(first: number, last: number, n: number, opts: { speed?: number; over: number }): Pace {
  const span = loopSpan(first, last, n);
  const speed = opts.speed ?? (span > 0 ? span / opts.over : 1);
  return { speed, spread: opts.speed === undefined, loopSpan: span, loopSeconds: span / speed };
}

/** A file stream's data, as pacing sees it. */
export interface PacedSpan {
  /** Data times of its first and last values, and how many there are. */
  first: number;
  last: number;
  n: number;
  /** The stream's own `&speed=` (it then keeps its own pace). */
  speed?: number;
  /** Rows in order, without dates (they keep their own pace). */
  untimed?: boolean;
}

/** Where a stream sits on playing time: its value at data time t plays at (t − origin) / pace.speed. */
export interface Placement {
  pace: Pace;
  /** Data time played at time 0 of each loop. */
  origin: number;
  /** First and last data times of the axis it plays on (the union of the shared streams', or its own). */
  first: number;
  last: number;
  /** The streams sharing this axis (itself included); empty when it keeps its own pace. */
  sharedWith: string[];
}

/**
 * The placement of every file stream of a patch: the dated streams without a
 * speed of their own share one axis over the union of their loops, at
 * `opts.speed` (`--speed`) or spread over `opts.over` seconds; the others are
 * paced alone ({@link paceFor}). `render`, `play` and `inspect` all use this.
 */
export function sharedPaces(spans: ReadonlyMap<string, PacedSpan>, opts: { speed?: number; over: number }): Map<string, Placement> {
  const out = new Map<string, Placement>();
  const members = [...spans].filter(([, s]) => !s.untimed && s.speed === undefined);
  if (members.length > 0) {
    let origin = Infinity;
    let end = -Infinity;
    let last = -Infinity;
    for (const [, s] of members) {
      origin = Math.min(origin, s.first);
      end = Math.max(end, s.first + loopSpan(s.first, s.last, s.n));
      last = Math.max(last, s.last);
    }
    const span = end - origin;
    const speed = opts.speed ?? (span > 0 ? span / opts.over : 1);
    const pace: Pace = { speed, spread: opts.speed === undefined, loopSpan: span > 0 ? span : 1, loopSeconds: (span > 0 ? span : 1) / speed };
    const names = members.map(([k]) => k);
    for (const [k] of members) out.set(k, { pace, origin, first: origin, last, sharedWith: names.length > 1 ? names : [] });
  }
  for (const [k, s] of spans) {
    if (out.has(k)) continue;
    out.set(k, { pace: paceFor(s.first, s.last, s.n, { speed: s.speed ?? opts.speed, over: opts.over }), origin: s.first, first: s.first, last: s.last, sharedWith: [] });
  }
  return out;
}

/** The pace line of a placed stream: {@link describePace} on its axis, naming the streams that share it. */
export function describePlacement(stream: string, p: Placement, untimed = false): string {
  const line = describePace(stream, p.first, p.last, p.pace, untimed);
  return p.sharedWith.length > 1 ? `${line}, one time axis with ${p.sharedWith.filter((s) => s !== stream).join(', ')}` : line;
}

const YEAR = 365.25 * 86400;
const UNITS: Array<[string, number]> = [
  ['year', YEAR],
  ['month', YEAR / 12],
  ['day', 86400],
  ['hour', 3600],
  ['minute', 60],
  ['second', 1],
];

/** `10 min`, `1 h 30 min`, `42 s`, `0.12 s`. */
export function formatPlaying(seconds: number): string {
  if (seconds >= 3600) {
    const h = Math.floor(seconds / 3600);
    const m = Math.round((seconds - h * 3600) / 60);
    return m ? `${h} h ${m} min` : `${h} h`;
  }
  if (seconds >= 60) {
    const m = Math.floor(seconds / 60);
    const s = Math.round(seconds - m * 60);
    return s ? `${m} min ${s} s` : `${m} min`;
  }
  return `${seconds >= 10 ? seconds.toFixed(0) : seconds >= 1 ? seconds.toFixed(1) : seconds.toPrecision(2)} s`;
}

/** A data time for the pace line: years, days or date-times by the span shown. */
function formatDataTime(t: number, span: number): string {
  const iso = new Date(t * 1000).toISOString();
  if (span >= 2 * YEAR) return iso.slice(0, 4);
  if (span >= 2 * 86400) return iso.slice(0, 10);
  return iso.slice(0, 16).replace('T', ' ');
}

/**
 * The line `play` and `render` print for a file stream:
 * `co2: 1958–2020 over 10 min, 1 year = 9.7 s` (spread), or
 * `wind: 2010-01-01–2010-12-31 at speed 3600, 1 hour = 1.0 s, a loop is 2 h 26 min`.
 * `untimed`: the file has no times (rows in order, one data second each).
 */
export function describePace(stream: string, first: number, last: number, pace: Pace, untimed = false): string {
  const span = last - first;
  const range = untimed ? `rows 1–${Math.round(span) + 1}` : `${formatDataTime(first, span)}–${formatDataTime(last, span)}`;
  // The largest unit of which the data holds at least two (or one row, for untimed files).
  const [unit, seconds] = untimed ? ['row', 1] : (UNITS.find(([, s]) => span >= 2 * s) ?? ['second', 1]);
  const per = `1 ${unit} = ${formatPlaying(seconds / pace.speed)}`;
  return pace.spread
    ? `${stream}: ${range} over ${formatPlaying(pace.loopSeconds)}, ${per}`
    : `${stream}: ${range} at speed ${pace.speed}, ${per}, a loop is ${formatPlaying(pace.loopSeconds)}`;
}
