/**
 * Units and safe numbers. Pure helpers shared by the schema, the conditioning and the engine.
 */

/** Decibels to linear gain: 10^(dB/20). -Infinity gives 0. */
export function dbToGain(db: number): number {
  return db === -Infinity ? 0 : Math.pow(10, db / 20);
}

/** Linear gain (or amplitude) to decibels: 20·log10(g). 0 gives -Infinity. */
export function gainToDb(gain: number): number {
  return 20 * Math.log10(Math.abs(gain));
}

/** Clamps `x` into [lo, hi]; a non-finite `x` becomes `fallback` (itself clamped). */
export function clampFinite(x: number, lo: number, hi: number, fallback = lo): number {
  const v = Number.isFinite(x) ? x : fallback;
  return v < lo ? lo : v > hi ? hi : v;
}

const DURATION_RE = /^\s*(-?\d+(?:\.\d+)?)\s*(ms|s|m|min|h|d|w|y)?\s*$/;
const UNIT_SECONDS: Record<string, number> = { ms: 0.001, s: 1, m: 60, min: 60, h: 3600, d: 86400, w: 604800, y: 31557600 };

/**
 * Parses a duration in seconds: a number of seconds, or a string such as
 * `"250ms"`, `"30s"`, `"2m"`, `"1.5h"`, `"1d"`, `"2w"`, `"1y"` (365.25 d). Returns NaN when it cannot.
 * @example parseDuration("2m") === 120
 */
export function parseDuration(value: number | string): number {
  if (typeof value === 'number') return value;
  const m = DURATION_RE.exec(value);
  if (!m) return NaN;
  return Number(m[1]) * UNIT_SECONDS[m[2] ?? 's']!;
}

/** Formats seconds the way the CLI prints lengths: `1:05.3` or `12.0s`. */
export function formatSeconds(seconds: number): string {
  if (seconds < 60) return `${seconds.toFixed(1)}s`;
  const m = Math.floor(seconds / 60);
  const s = seconds - m * 60;
  return `${m}:${s.toFixed(1).padStart(4, '0')}`;
}
