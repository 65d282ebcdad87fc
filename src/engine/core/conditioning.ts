/**
 * Signal conditioning: raw stream values in their own units → a normalised
 * control signal in [0, 1] (and threshold events). Pure maths, no I/O, no audio.
 *
 * Pipeline per sample, in order: reject non-finite → (auto) range → normalise →
 * clamp → curve → invert → smoothing (EMA) → threshold with hysteresis.
 */

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

/**
 * A threshold with hysteresis: turns on when x ≥ `above`, off again only when
 * x ≤ `above − hysteresis`, so noise around the threshold cannot chatter.
 */
export class Hysteresis {
  state = false;

  constructor(
    readonly above: number,
    readonly hysteresis: number,
  ) {}

  /** Feeds a value; returns 'on' or 'off' when the state changes, else undefined. */
  push(x: number): 'on' | 'off' | undefined {
    if (!this.state && x >= this.above) {
      this.state = true;
      return 'on';
    }
    if (this.state && x <= this.above - this.hysteresis) {
      this.state = false;
      return 'off';
    }
    return undefined;
  }
}

/** How one signal is conditioned (the resolved form of a patch's `signals.<name>`). */
export interface ConditionSpec {
  /** Fixed input range in the stream's units, or auto range over a window in seconds (Infinity = all time). */
  range: { fixed: [number, number] } | { autoWindowSeconds: number };
  curve: Curve;
  /** EMA time constant in seconds; 0 = none. */
  smoothSeconds: number;
  clamp: boolean;
  invert: boolean;
  threshold?: { above: number; hysteresis: number };
}

/** Output of one conditioning step. */
export interface Conditioned {
  /** The signal value in [0, 1] (outside only when clamp is off). */
  value: number;
  /** A threshold crossing caused by this sample. */
  event?: 'on' | 'off';
}

/**
 * Stateful conditioner for one signal. Non-finite input is rejected (counted,
 * returns undefined) and never changes state, so it cannot reach audio.
 */
export class Conditioner {
  value: number;
  rejected = 0;
  private lastTime = NaN;
  private readonly rolling?: RollingRange;
  private readonly gate?: Hysteresis;

  constructor(
    readonly spec: ConditionSpec,
    initial = 0.5,
  ) {
    this.value = initial;
    if ('autoWindowSeconds' in spec.range) this.rolling = new RollingRange(spec.range.autoWindowSeconds);
    if (spec.threshold) this.gate = new Hysteresis(spec.threshold.above, spec.threshold.hysteresis);
  }

  /**
   * Conditions one raw sample. `time` is when it plays (engine seconds): smoothing
   * runs on it, as a listener hears it. `dataTime` is when it was measured (epoch
   * seconds; defaults to `time`): an auto range's window ("24h", "2y") runs on it,
   * so a year of data replayed in a minute still has daily and yearly ranges.
   */
  push(raw: number, time: number, dataTime = time): Conditioned | undefined {
    if (typeof raw !== 'number' || !Number.isFinite(raw) || !Number.isFinite(time) || !Number.isFinite(dataTime)) {
      this.rejected++;
      return undefined;
    }
    let lo: number;
    let hi: number;
    if (this.rolling) {
      this.rolling.push(dataTime, raw);
      lo = this.rolling.min;
      hi = this.rolling.max;
    } else {
      [lo, hi] = (this.spec.range as { fixed: [number, number] }).fixed;
    }
    let x = normalize(raw, lo, hi);
    if (this.spec.clamp) x = Math.min(1, Math.max(0, x));
    x = applyCurve(x, this.spec.curve);
    if (this.spec.invert) x = 1 - x;
    const dt = Number.isNaN(this.lastTime) ? Infinity : time - this.lastTime;
    x = Number.isNaN(this.lastTime) ? x : emaStep(this.value, x, dt, this.spec.smoothSeconds);
    this.lastTime = time;
    this.value = x;
    const event = this.gate?.push(x);
    return event ? { value: x, event } : { value: x };
  }
}
