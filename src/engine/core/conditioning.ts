/**
 * Signal conditioning: raw stream values in their own units → a normalised
 * control signal in [0, 1] (and threshold events). Pure maths, no I/O, no audio.
 * The stages themselves live in filters.ts (and units.ts); {@link Conditioner}
 * composes them.
 *
 * Pipeline per sample, in order (each stage only when the spec asks for it):
 *  1. reject: anything but a finite number or a string (NaN, ±Infinity, null,
 *     undefined, objects, booleans), or a non-finite time → `rejected`
 *  2. category map: text → raw number ("rain" → 0.8); unknown text → `unknownCategory`
 *  3. unit conversion: a sample in another unit than the stream's → converted;
 *     not convertible → `unitErrors`
 *  4. outliers (Hampel filter on the raw values): dropped or replaced by the
 *     window median → `outliers`
 *  5. derive rate: the rate of change per second/minute/hour/day of data time
 *     (the first sample gives no output; a data time not after the previous
 *     one → `outOfOrder`)
 *  6. range: fixed, auto min/max, or auto percentiles (windows on data time)
 *  7. normalise → 8. clamp → 9. curve → 10. invert
 * 11. smoothing on playing time: EMA (`smooth`) or the 1€ filter
 * 12. slew limit on playing time
 * 13. threshold with hysteresis (above or below a level) → on/off events
 *
 * A sample refused at steps 1–5 changes no state of the later stages; one refused
 * at steps 1–3 changes no state at all.
 */
import {
  CategoryMap,
  EmaFilter,
  HampelFilter,
  OneEuroFilter,
  RateOfChange,
  RollingPercentiles,
  SlewLimiter,
  type OneEuroParams,
  type OutlierAction,
  type Smoother,
} from './filters.ts';
import { convertUnit } from './units.ts';

/** Response curves on [0, 1]; `exp` and `log` are each other's inverse. */
export type Curve = 'lin' | 'exp' | 'log';

const CURVE_K = 4;
const CURVE_SCALE = Math.pow(2, CURVE_K) - 1;

/**
 * Shapes x ∈ [0, 1] (values outside are extrapolated):
 * - lin: x
 * - exp: (2^(4x) − 1) / 15 — slow start, fast end (useful for loudness, density)
 * - log: log2(1 + 15x) / 4 — fast start, slow end
 */
export function applyCurve(x: number, curve: Curve): number {
  switch (curve) {
    case 'lin':
      return x;
    case 'exp':
      return (Math.pow(2, CURVE_K * x) - 1) / CURVE_SCALE;
    case 'log':
      return Math.log2(1 + CURVE_SCALE * Math.max(x, -1 / CURVE_SCALE + 1e-12)) / CURVE_K;
  }
}

/** (x − lo) / (hi − lo); a degenerate range (hi = lo) gives 0.5. */
export function normalize(x: number, lo: number, hi: number): number {
  const span = hi - lo;
  if (span === 0) return 0.5;
  // Ranges near the limits of a double overflow the span: halve everything first.
  return Number.isFinite(span) ? (x - lo) / span : (x / 2 - lo / 2) / (hi / 2 - lo / 2);
}

/**
 * One step of an exponential moving average for irregularly timed samples:
 * y += (1 − e^(−dt/τ))·(x − y). τ ≤ 0 (no smoothing) returns x.
 */
export function emaStep(prev: number, x: number, dtSeconds: number, tauSeconds: number): number {
  if (tauSeconds <= 0) return x;
  const alpha = 1 - Math.exp(-Math.max(0, dtSeconds) / tauSeconds);
  return prev + alpha * (x - prev);
}

/**
 * Maps a normalised value onto a parameter range with a curve. For `exp` with
 * both ends positive the interpolation is geometric, lo·(hi/lo)^x, the natural
 * scale for frequencies; otherwise the curve shapes x first.
 */
export function mapToRange(x: number, lo: number, hi: number, curve: Curve): number {
  if (curve === 'exp' && lo > 0 && hi > 0) return lo * Math.pow(hi / lo, x);
  return lo + (hi - lo) * applyCurve(x, curve);
}

/**
 * Rolling minimum and maximum over a time window, O(1) amortised per sample
 * (monotonic deques). `windowSeconds` = Infinity keeps the all-time range.
 */
export class RollingRange {
  private readonly mins: Array<[number, number]> = [];
  private readonly maxs: Array<[number, number]> = [];
  private minHead = 0;
  private maxHead = 0;

  constructor(readonly windowSeconds: number) {}

  push(time: number, x: number): void {
    pushMono(this.mins, this.minHead, time, x, (a, b) => a >= b);
    pushMono(this.maxs, this.maxHead, time, x, (a, b) => a <= b);
    const horizon = time - this.windowSeconds;
    while (this.minHead < this.mins.length - 1 && this.mins[this.minHead]![0] < horizon) this.minHead++;
    while (this.maxHead < this.maxs.length - 1 && this.maxs[this.maxHead]![0] < horizon) this.maxHead++;
    this.compact();
  }

  get min(): number {
    return this.mins.length > this.minHead ? this.mins[this.minHead]![1] : NaN;
  }

  get max(): number {
    return this.maxs.length > this.maxHead ? this.maxs[this.maxHead]![1] : NaN;
  }

  private compact(): void {
    if (this.minHead > 1024 && this.minHead * 2 > this.mins.length) {
      this.mins.splice(0, this.minHead);
      this.minHead = 0;
    }
    if (this.maxHead > 1024 && this.maxHead * 2 > this.maxs.length) {
      this.maxs.splice(0, this.maxHead);
      this.maxHead = 0;
    }
  }
}

function pushMono(
  q: Array<[number, number]>,
  head: number,
  time: number,
  x: number,
  dominated: (tail: number, x: number) => boolean,
): void {
  // Entries the new sample dominates can never be the extreme again. Entries
  // before `head` have expired already and are left for compact() to drop.
  while (q.length > head && dominated(q[q.length - 1]![1], x)) q.pop();
  q.push([time, x]);
}

/** Which side of the level turns a threshold on. */
export type ThresholdDirection = 'above' | 'below';

/**
 * A threshold with hysteresis. Direction `above` (the default): turns on when
 * x ≥ level, off again only when x ≤ level − hysteresis. Direction `below`:
 * turns on when x ≤ level, off again only when x ≥ level + hysteresis. Noise
 * around the level cannot chatter.
 */
export class Hysteresis {
  state = false;
  /** When the state last changed (playing seconds). */
  private changed = -Infinity;

  /** @param hold least time (seconds, on the times given to push) on each side before the state may change again. */
  constructor(
    readonly level: number,
    readonly hysteresis: number,
    readonly direction: ThresholdDirection = 'above',
    readonly hold = 0,
  ) {}

  /** Feeds a value at `time`; returns 'on' or 'off' when the state changes, else undefined. */
  push(x: number, time = 0): 'on' | 'off' | undefined {
    const up = this.direction === 'above';
    if (this.hold > 0 && time - this.changed < this.hold) return undefined;
    if (!this.state && (up ? x >= this.level : x <= this.level)) {
      this.state = true;
      this.changed = time;
      return 'on';
    }
    if (this.state && (up ? x <= this.level - this.hysteresis : x >= this.level + this.hysteresis)) {
      this.state = false;
      this.changed = time;
      return 'off';
    }
    return undefined;
  }
}

/** A threshold: exactly one of `above` or `below` (a level of the 0…1 signal). */
export interface ThresholdSpec {
  above?: number;
  below?: number;
  hysteresis: number;
  /** Least seconds of playing time on each side (default 0). */
  hold?: number;
}

/** How one signal is conditioned (the resolved form of a patch's `signals.<name>`). */
export interface ConditionSpec {
  /**
   * Fixed input range in the stream's units, or auto range over a window in seconds of
   * data time (Infinity = all time): min/max, or the given percentiles (0…100) of the window.
   */
  range: { fixed: [number, number] } | { autoWindowSeconds: number; percentiles?: [number, number] };
  curve: Curve;
  /** EMA time constant in seconds; 0 = none. */
  smoothSeconds: number;
  clamp: boolean;
  invert: boolean;
  threshold?: ThresholdSpec;
  /** 1€ filter instead of the EMA (then smoothSeconds must be 0). */
  oneEuro?: OneEuroParams;
  /** Maximum change of the output per second of playing time. */
  slewPerSecond?: number;
  /** Hampel outlier filter on the raw values. */
  outliers?: { window: number; threshold: number; action: OutlierAction };
  /** Condition the rate of change (raw units per `perSeconds` of data time) instead of the value. */
  rate?: { perSeconds: number };
  /** Text values → raw numbers (case-insensitive, trimmed). */
  categories?: Readonly<Record<string, number>>;
  /** The stream's unit: samples that come with another unit are converted to it. */
  unit?: string;
}

/** Output of one conditioning step. */
export interface Conditioned {
  /** The signal value in [0, 1] (outside only when clamp is off). */
  value: number;
  /** A threshold crossing caused by this sample. */
  event?: 'on' | 'off';
}

/** Samples a {@link Conditioner} did not turn into output, by reason. */
export interface ConditionerCounts {
  /** Not a finite number nor a string (NaN, ±Infinity, null, objects…), text without categories, or a non-finite time. */
  rejected: number;
  /** Judged outliers by the Hampel filter (dropped or replaced). */
  outliers: number;
  /** Text that is not one of the categories. */
  unknownCategory: number;
  /** A unit that does not convert to the stream's. */
  unitErrors: number;
  /** With `rate`: a data time not after the previous sample's. */
  outOfOrder: number;
}

/**
 * Stateful conditioner for one signal (see the pipeline at the top of this file).
 * Bad input is refused (counted in {@link counts}, returns undefined) and never
 * changes state, so it cannot reach audio.
 */
export class Conditioner {
  value: number;
  readonly counts: ConditionerCounts = { rejected: 0, outliers: 0, unknownCategory: 0, unitErrors: 0, outOfOrder: 0 };
  private readonly categories?: CategoryMap;
  private readonly hampel?: HampelFilter;
  private readonly rate?: RateOfChange;
  private readonly rolling?: RollingRange;
  private readonly percentiles?: { window: RollingPercentiles; lo: number; hi: number };
  private readonly smoother: Smoother;
  private readonly slew?: SlewLimiter;
  private readonly gate?: Hysteresis;

  constructor(
    readonly spec: ConditionSpec,
    initial = 0.5,
  ) {
    this.value = initial;
    if (spec.categories) this.categories = new CategoryMap(spec.categories);
    if (spec.outliers) this.hampel = new HampelFilter(spec.outliers.window, spec.outliers.threshold, spec.outliers.action);
    if (spec.rate) this.rate = new RateOfChange(spec.rate.perSeconds);
    if ('autoWindowSeconds' in spec.range) {
      const p = spec.range.percentiles;
      if (p) {
        if (!(p[0] >= 0 && p[0] < p[1] && p[1] <= 100)) throw new RangeError(`percentiles must be 0 ≤ lo < hi ≤ 100 (got ${p.join(', ')})`);
        this.percentiles = { window: new RollingPercentiles(spec.range.autoWindowSeconds), lo: p[0], hi: p[1] };
      } else this.rolling = new RollingRange(spec.range.autoWindowSeconds);
    }
    if (spec.oneEuro && spec.smoothSeconds > 0) throw new RangeError('use either smoothSeconds (EMA) or oneEuro, not both');
    this.smoother = spec.oneEuro ? new OneEuroFilter(spec.oneEuro) : new EmaFilter(spec.smoothSeconds);
    if (spec.slewPerSecond !== undefined) this.slew = new SlewLimiter(spec.slewPerSecond);
    const t = spec.threshold;
    if (t) {
      if ((t.above === undefined) === (t.below === undefined)) throw new RangeError('a threshold needs exactly one of above or below');
      this.gate = t.above !== undefined ? new Hysteresis(t.above, t.hysteresis, 'above', t.hold) : new Hysteresis(t.below!, t.hysteresis, 'below', t.hold);
    }
  }

  /** Bad values refused (see {@link ConditionerCounts.rejected}). */
  get rejected(): number {
    return this.counts.rejected;
  }

  get outliers(): number {
    return this.counts.outliers;
  }

  get unknownCategory(): number {
    return this.counts.unknownCategory;
  }

  get unitErrors(): number {
    return this.counts.unitErrors;
  }

  /**
   * Conditions one raw sample: a number in the stream's units, or text for a
   * category map (numbers pass the map as raw values). `time` is when it plays
   * (engine seconds): smoothing and slew run on it, as a listener hears it.
   * `dataTime` is when it was measured (epoch seconds; defaults to `time`): auto
   * range windows ("24h", "2y") and rates of change run on it, so a year of data
   * replayed in a minute still has daily and yearly ranges. `unit` is the
   * sample's unit when it may differ from the stream's (`spec.unit`): it is
   * converted (see convertUnit in units.ts); without a declared stream unit it
   * is not checked.
   *
   * Returns undefined when the sample gives no output: refused (counted in
   * {@link counts}), dropped as an outlier, or the first sample of a rate.
   */
  push(raw: unknown, time: number, dataTime: number = time, unit?: string): Conditioned | undefined {
    if (!Number.isFinite(time) || !Number.isFinite(dataTime)) return this.refuse('rejected');
    let x: number;
    if (typeof raw === 'number') {
      if (!Number.isFinite(raw)) return this.refuse('rejected');
      x = raw;
    } else if (typeof raw === 'string') {
      if (!this.categories) return this.refuse('rejected');
      const v = this.categories.lookup(raw);
      if (v === undefined) return this.refuse('unknownCategory');
      x = v;
    } else return this.refuse('rejected');

    const declared = this.spec.unit;
    if (unit !== undefined && declared !== undefined && (typeof unit !== 'string' || unit.trim() !== declared.trim())) {
      const converted = typeof unit === 'string' ? convertUnit(x, unit, declared) : 'not a unit';
      if (typeof converted === 'string') return this.refuse('unitErrors');
      if (!Number.isFinite(converted)) return this.refuse('rejected'); // beyond the range of a double
      x = converted;
    }
    // Checked before the outlier window sees the sample, so an out-of-order one changes nothing.
    if (this.rate && !this.rate.accepts(dataTime)) return this.refuse('outOfOrder');

    if (this.hampel) {
      const verdict = this.hampel.push(x);
      if (verdict.outlier) this.counts.outliers++;
      if (verdict.value === undefined) return undefined;
      x = verdict.value;
    }
    if (this.rate) {
      const r = this.rate.push(x, dataTime);
      if (typeof r !== 'number') return undefined; // the first sample: no rate yet
      x = r;
    }

    let lo: number;
    let hi: number;
    if (this.percentiles) {
      const p = this.percentiles;
      p.window.push(dataTime, x);
      lo = p.window.percentile(p.lo);
      hi = p.window.percentile(p.hi);
    } else if (this.rolling) {
      this.rolling.push(dataTime, x);
      lo = this.rolling.min;
      hi = this.rolling.max;
    } else {
      [lo, hi] = (this.spec.range as { fixed: [number, number] }).fixed;
    }
    x = normalize(x, lo, hi);
    if (this.spec.clamp) x = Math.min(1, Math.max(0, x));
    x = applyCurve(x, this.spec.curve);
    if (this.spec.invert) x = 1 - x;
    x = this.smoother.push(x, time);
    if (this.slew) x = this.slew.push(x, time);
    this.value = x;
    const event = this.gate?.push(x, time);
    return event ? { value: x, event } : { value: x };
  }

  private refuse(reason: keyof ConditionerCounts): undefined {
    this.counts[reason]++;
    return undefined;
  }
}
