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

// ---------------------------------------------------------------- physical units

/** What a unit measures; only units of the same dimension convert into each other. */
export type Dimension = 'temperature' | 'length' | 'speed' | 'pressure' | 'mixing ratio' | 'mass concentration';

/**
 * A unit as an affine map onto its dimension's base unit:
 * base = (value + offset) · num / den, and back value = base · den / num − offset.
 * (A rational factor keeps exact cases exact: 212 degF → 100 degC.)
 */
interface UnitDef {
  name: string;
  dim: Dimension;
  num: number;
  den: number;
  offset: number;
}

const unitDef = (name: string, dim: Dimension, num: number, den = 1, offset = 0): UnitDef => ({ name, dim, num, den, offset });

/**
 * The units ecological feeds use, by canonical name. Bases: degC, m, m/s, Pa,
 * ppm and µg/m3. Pressures: 1 inHg = 3386.389 Pa and 1 mmHg = 133.322387415 Pa
 * (conventional, at 0 °C); 1 kn = 1852 m/h; 1 mph = 1609.344 m/h.
 */
const UNITS: readonly UnitDef[] = [
  unitDef('degC', 'temperature', 1),
  unitDef('degF', 'temperature', 5, 9, -32),
  unitDef('K', 'temperature', 1, 1, -273.15),
  unitDef('m', 'length', 1),
  unitDef('km', 'length', 1000),
  unitDef('cm', 'length', 1, 100),
  unitDef('mm', 'length', 1, 1000),
  unitDef('ft', 'length', 0.3048),
  unitDef('in', 'length', 0.0254),
  unitDef('m/s', 'speed', 1),
  unitDef('km/h', 'speed', 1000, 3600),
  unitDef('mph', 'speed', 1609.344, 3600),
  unitDef('kn', 'speed', 1852, 3600),
  unitDef('Pa', 'pressure', 1),
  unitDef('hPa', 'pressure', 100),
  unitDef('kPa', 'pressure', 1000),
  unitDef('inHg', 'pressure', 3386.389),
  unitDef('mmHg', 'pressure', 133.322387415),
  unitDef('ppm', 'mixing ratio', 1),
  unitDef('ppb', 'mixing ratio', 1, 1000),
  unitDef('µg/m3', 'mass concentration', 1),
  unitDef('mg/m3', 'mass concentration', 1000),
];

/** Other spellings (compared after {@link unitKey}), canonical name → aliases. */
const ALIASES: Record<string, string[]> = {
  degC: ['°C', 'C', 'celsius', 'deg C', '℃', 'degrees C', 'degrees celsius'],
  degF: ['°F', 'F', 'fahrenheit', 'deg F', '℉', 'degrees F', 'degrees fahrenheit'],
  K: ['kelvin', 'degK', '°K'],
  m: ['meter', 'meters', 'metre', 'metres'],
  km: ['kilometer', 'kilometers', 'kilometre', 'kilometres'],
  cm: ['centimeter', 'centimeters', 'centimetre', 'centimetres'],
  mm: ['millimeter', 'millimeters', 'millimetre', 'millimetres'],
  ft: ['foot', 'feet'],
  in: ['inch', 'inches'],
  'm/s': ['m s-1', 'm s^-1', 'ms-1', 'mps', 'm/sec'],
  'km/h': ['kmh', 'kph', 'km/hr', 'km h-1'],
  mph: ['mi/h', 'miles per hour'],
  kn: ['kt', 'kts', 'knot', 'knots'],
  Pa: ['pascal', 'pascals'],
  hPa: ['mbar', 'mb', 'millibar', 'millibars', 'hectopascal', 'hectopascals'],
  kPa: ['kilopascal', 'kilopascals'],
  inHg: ['in Hg', 'inches of mercury'],
  mmHg: ['mm Hg'],
  ppm: ['ppmv', 'parts per million'],
  ppb: ['ppbv', 'parts per billion'],
  'µg/m3': ['ug/m3', 'μg/m3', 'µg m-3', 'ug m-3', 'microgram/m3', 'micrograms per cubic meter'],
  'mg/m3': ['mg m-3', 'milligram/m3', 'milligrams per cubic meter'],
};

/**
 * The lookup key of a unit spelling: trimmed, lower case, without spaces, with
 * "³" as "3" and the Greek mu (μ, U+03BC) as the micro sign (µ, U+00B5).
 * No two supported units collide under it ("mm"/"Mm" are not both supported).
 */
function unitKey(unit: string): string {
  return unit.trim().toLowerCase().replace(/\s+/g, '').replace(/³/g, '3').replace(/μ/g, 'µ');
}

const BY_KEY: ReadonlyMap<string, UnitDef> = (() => {
  const map = new Map<string, UnitDef>();
  for (const u of UNITS) {
    for (const spelling of [u.name, ...(ALIASES[u.name] ?? [])]) {
      const key = unitKey(spelling);
      const seen = map.get(key);
      if (seen && seen !== u) throw new Error(`unit table: "${spelling}" means both ${seen.name} and ${u.name}`);
      map.set(key, u);
    }
  }
  return map;
})();

/** Canonical names of the supported units (e.g. "degC", "hPa", "µg/m3"). */
export const UNIT_NAMES: readonly string[] = UNITS.map((u) => u.name);

/**
 * The canonical name and dimension of a unit spelling ("°C", "celsius", " C " → degC),
 * or undefined when the unit is not one {@link convertUnit} knows.
 */
export function parseUnit(unit: string): { name: string; dimension: Dimension } | undefined {
  const u = BY_KEY.get(unitKey(unit));
  return u && { name: u.name, dimension: u.dim };
}

/**
 * Converts `value` from one unit to another: temperature (degC, degF, K), length
 * and level (m, km, cm, mm, ft, in), speed (m/s, km/h, mph, kn), pressure (Pa,
 * hPa = mbar, kPa, inHg, mmHg), mixing ratio (ppm, ppb) and mass concentration
 * (µg/m3, mg/m3), with aliases such as "°C", "C", "celsius", "knots", "ug/m3".
 * Returns the converted number, or an error message (a string, never a throw)
 * when either unit is unknown or the two measure different things (ppm and
 * µg/m3 need a molar mass, so they do not convert). The same unit returns
 * `value` unchanged, bit for bit.
 * @example convertUnit(212, "°F", "degC") === 100
 */
export function convertUnit(value: number, from: string, to: string): number | string {
  const a = BY_KEY.get(unitKey(from));
  const b = BY_KEY.get(unitKey(to));
  if (!a || !b) {
    const bad = !a ? from : to;
    return `unknown unit "${bad}" (known: ${UNIT_NAMES.join(', ')})`;
  }
  if (a.dim !== b.dim) return `cannot convert ${a.name} (${a.dim}) to ${b.name} (${b.dim})`;
  if (a === b) return value;
  const base = ((value + a.offset) * a.num) / a.den;
  return (base * b.den) / b.num - b.offset;
}
