/**
 * Signal-conditioning stages: small, pure, stateful building blocks that
 * {@link Conditioner} (conditioning.ts) composes. Each stage works on plain
 * numbers and its own clock; none does I/O or touches audio. Order statistics
 * (percentiles, median, MAD) live here too, with the structures that keep
 * them over a moving window.
 *
 * Stages (in the order the Conditioner runs them):
 * - {@link CategoryMap}: text categories → raw numbers ("rain" → 0.8)
 * - {@link HampelFilter}: outlier rejection or replacement by median/MAD
 * - {@link RateOfChange}: value → rate of change per unit of data time
 * - {@link RollingPercentiles}: a robust auto range (e.g. 5th…95th percentile)
 * - {@link EmaFilter} or {@link OneEuroFilter}: smoothing on playing time
 * - {@link SlewLimiter}: bounds the change per second of playing time
 */

// ---------------------------------------------------------------- order statistics

/** Index of the first element of ascending `a` that is ≥ x (a.length if none). */
function lowerBound(a: readonly number[], x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * The p-th percentile (p in 0…100) of an ascending array, interpolating
 * linearly between the closest ranks: with h = (n − 1)·p/100, the value is
 * s[⌊h⌋] + (h − ⌊h⌋)·(s[⌊h⌋ + 1] − s[⌊h⌋]) (NumPy's default, Hyndman–Fan type 7).
 * So p = 0 is the minimum, p = 100 the maximum, p = 50 the median. NaN when empty.
 */
export function percentileOfSorted(sorted: readonly number[], p: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const h = ((n - 1) * Math.min(100, Math.max(0, p))) / 100;
  const i = Math.floor(h);
  const f = h - i;
  const a = sorted[i]!;
  if (f === 0 || i + 1 >= n) return a;
  const b = sorted[i + 1]!;
  const d = b - a;
  // Near the limits of a double the difference overflows: weigh the ends instead.
  return Number.isFinite(d) ? a + f * d : a * (1 - f) + b * f;
}

/** The q-quantile (q in 0…1) of values in any order: {@link percentileOfSorted} of a sorted copy. NaN when empty. */
export function quantile(values: readonly number[], q: number): number {
  return percentileOfSorted([...values].sort((x, y) => x - y), q * 100);
}

/** The median of an ascending array (the mean of the middle two for an even length); NaN when empty. */
export function medianOfSorted(sorted: readonly number[]): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const m = n >> 1;
  return n % 2 === 1 ? sorted[m]! : sorted[m - 1]! / 2 + sorted[m]! / 2;
}

/**
 * The median absolute deviation of an ascending array around `center`
 * (normally its median): median of |s[i] − center|. O(n): the deviations
 * left and right of `center` are each already sorted, so it merges the two
 * up to the middle rank instead of sorting. NaN when empty.
 */
export function madOfSorted(sorted: readonly number[], center: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  let i = lowerBound(sorted, center) - 1; // walks left: deviations center − s[i] grow
  let j = i + 1; // walks right: deviations s[j] − center grow
  let prev = NaN;
  let cur = NaN;
  for (let rank = 0; rank <= n >> 1; rank++) {
    prev = cur;
    if (j >= n || (i >= 0 && center - sorted[i]! <= sorted[j]! - center)) cur = center - sorted[i--]!;
    else cur = sorted[j++]! - center;
  }
  return n % 2 === 1 ? cur : prev / 2 + cur / 2;
}

/**
 * A multiset of numbers kept in ascending order. Insertion and removal find
 * their place by binary search and shift the array (O(n) moves, fast in
 * practice up to ~10^4 items); any order statistic is then O(1).
 * NaN must not be inserted (it has no place in the order).
 */
export class SortedMultiset {
  private readonly items: number[] = [];

  get size(): number {
    return this.items.length;
  }

  /** The items in ascending order (a live view: do not modify). */
  get sorted(): readonly number[] {
    return this.items;
  }

  insert(x: number): void {
    this.items.splice(lowerBound(this.items, x), 0, x);
  }

  /** Removes one item equal to x; false when there is none. */
  remove(x: number): boolean {
    const i = lowerBound(this.items, x);
    if (i >= this.items.length || this.items[i] !== x) return false;
    this.items.splice(i, 1);
    return true;
  }
}

/** Samples a rolling percentile window keeps at most, whatever its duration. */
export const MAX_WINDOW_SAMPLES = 10_000;

/**
 * Rolling percentiles over a time window: the samples with time ≥ latest − window
 * (inclusive, like RollingRange in conditioning.ts), kept in a {@link SortedMultiset} beside a
 * FIFO of arrivals. One spike moves a 5th or 95th percentile by at most one rank,
 * where it would set a min/max range for a whole window.
 *
 * Memory is bounded: at most `maxSamples` (default {@link MAX_WINDOW_SAMPLES},
 * 10,000) are kept; beyond that the oldest go first, so a dense stream's window
 * is in effect its latest `maxSamples` samples. Times are expected not to go
 * backwards; a late sample is kept until the ones that arrived before it expire.
 * `windowSeconds` = Infinity keeps the latest `maxSamples` samples.
 */
export class RollingPercentiles {
  private readonly set = new SortedMultiset();
  private readonly times: number[] = [];
  private readonly values: number[] = [];
  private head = 0;

  constructor(
    readonly windowSeconds: number,
    readonly maxSamples = MAX_WINDOW_SAMPLES,
  ) {
    if (!(maxSamples >= 1)) throw new RangeError(`maxSamples must be at least 1 (got ${maxSamples})`);
  }

  /** Samples in the window. */
  get size(): number {
    return this.values.length - this.head;
  }

  /** Adds a sample (x must not be NaN) at `time` and expires what left the window. */
  push(time: number, x: number): void {
    this.times.push(time);
    this.values.push(x);
    this.set.insert(x);
    const horizon = time - this.windowSeconds;
    while (this.size > 1 && this.times[this.head]! < horizon) this.evict();
    while (this.size > this.maxSamples) this.evict();
    if (this.head > 1024 && this.head * 2 > this.values.length) {
      this.times.splice(0, this.head);
      this.values.splice(0, this.head);
      this.head = 0;
    }
  }

  /** The p-th percentile (0…100) of the samples in the window ({@link percentileOfSorted}); NaN when empty. */
  percentile(p: number): number {
    return percentileOfSorted(this.set.sorted, p);
  }

  private evict(): void {
    this.set.remove(this.values[this.head]!);
    this.head++;
  }
}

// ---------------------------------------------------------------- outliers

/** Scales a MAD to the standard deviation of normally distributed data (1 / Φ⁻¹(3/4)). */
export const MAD_SCALE = 1.4826;

/** What the Hampel filter does with an outlier: drop the sample, or use the window median instead. */
export type OutlierAction = 'reject' | 'replace';

/** The verdict on one sample: `value` is what goes on (undefined when rejected). */
export interface HampelVerdict {
  outlier: boolean;
  value: number | undefined;
}

/**
 * Is x an outlier for a window with this median and MAD? True when
 * |x − median| > threshold · 1.4826 · MAD (strictly: a window whose MAD is 0
 * calls every value different from its median an outlier).
 */
export function isHampelOutlier(x: number, median: number, mad: number, threshold: number): boolean {
  return Math.abs(x - median) > threshold * MAD_SCALE * mad;
}

/**
 * A causal Hampel filter over the last `window` samples (a count, not a time):
 * the window holds the current sample and the `window − 1` before it; once it
 * is full, a sample farther than threshold · 1.4826 · MAD from the window's
 * median is an outlier, and is dropped (`reject`) or replaced by that median
 * (`replace`). Samples before the window first fills are never outliers.
 *
 * Outliers stay in the window: a genuine level shift becomes the new median
 * after half a window instead of being refused forever.
 */
export class HampelFilter {
  private readonly ring: number[] = [];
  private next = 0;
  private readonly set = new SortedMultiset();

  constructor(
    readonly window: number,
    readonly threshold: number,
    readonly action: OutlierAction,
  ) {
    if (!Number.isInteger(window) || window < 1) throw new RangeError(`window must be a positive integer (got ${window})`);
  }

  /** Adds x (finite) to the window and judges it. */
  push(x: number): HampelVerdict {
    if (this.ring.length < this.window) this.ring.push(x);
    else {
      this.set.remove(this.ring[this.next]!);
      this.ring[this.next] = x;
      this.next = (this.next + 1) % this.window;
    }
    this.set.insert(x);
    if (this.ring.length < this.window) return { outlier: false, value: x };
    const sorted = this.set.sorted;
    const median = medianOfSorted(sorted);
    if (!isHampelOutlier(x, median, madOfSorted(sorted, median), this.threshold)) return { outlier: false, value: x };
    return { outlier: true, value: this.action === 'replace' ? median : undefined };
  }
}

// ---------------------------------------------------------------- derivative

/** Why {@link RateOfChange} gave no rate: the first sample, or a data time not after the previous one. */
export type NoRate = 'first' | 'not-after';

/**
 * The rate of change between consecutive samples on the data clock:
 * (x − x_prev) / (t − t_prev) · `perSeconds`, i.e. raw units per `perSeconds`
 * seconds of data time (60 = per minute, 86400 = per day). The first sample
 * gives no rate. A sample whose time is not after the previous one gives none
 * either and changes nothing (the first sample at a time wins). A rate too
 * large for a double is held at ±Number.MAX_VALUE.
 */
export class RateOfChange {
  private lastX = NaN;
  private lastT = NaN;

  constructor(readonly perSeconds = 1) {}

  /** True when a sample at `time` would give a rate or be the first one (see {@link push}). */
  accepts(time: number): boolean {
    return Number.isNaN(this.lastT) || time > this.lastT;
  }

  push(x: number, time: number): number | NoRate {
    if (Number.isNaN(this.lastT)) {
      this.lastX = x;
      this.lastT = time;
      return 'first';
    }
    if (!(time > this.lastT)) return 'not-after';
    const rate = ((x - this.lastX) / (time - this.lastT)) * this.perSeconds;
    this.lastX = x;
    this.lastT = time;
    return Math.min(Number.MAX_VALUE, Math.max(-Number.MAX_VALUE, rate));
  }
}

// ---------------------------------------------------------------- smoothing

/** A smoother on playing time: the first sample passes as is. */
export interface Smoother {
  push(x: number, time: number): number;
}

/**
 * Exponential moving average for irregular samples: y += (1 − e^(−dt/τ))·(x − y)
 * (see emaStep in conditioning.ts). τ ≤ 0 passes values through. A sample
 * earlier than the previous one counts as dt = 0 (no move).
 */
export class EmaFilter implements Smoother {
  private y = NaN;
  private t = NaN;

  constructor(readonly tauSeconds: number) {}

  push(x: number, time: number): number {
    if (Number.isNaN(this.y) || this.tauSeconds <= 0) this.y = x;
    else this.y += (1 - Math.exp(-Math.max(0, time - this.t) / this.tauSeconds)) * (x - this.y);
    this.t = time;
    return this.y;
  }
}

/** Parameters of the 1€ filter: cutoffs in Hz, beta in 1/(signal unit). */
export interface OneEuroParams {
  /** Cutoff at rest (Hz): lower = less jitter, more lag when slow. */
  minCutoff: number;
  /** How much the cutoff rises with speed: higher = less lag when fast. */
  beta: number;
  /** Cutoff of the derivative's own low-pass (Hz). */
  dCutoff: number;
}

/**
 * The 1€ filter's smoothing factor for a cutoff `fc` (Hz) and a step `te` (s):
 * α = 1 / (1 + τ/Te) with τ = 1 / (2π·fc) (Casiez, Roussel & Vogel, CHI 2012).
 */
export function oneEuroAlpha(cutoffHz: number, te: number): number {
  const tau = 1 / (2 * Math.PI * cutoffHz);
  return 1 / (1 + tau / te);
}

const clampMagnitude = (x: number): number => Math.min(Number.MAX_VALUE, Math.max(-Number.MAX_VALUE, x));

/**
 * The 1€ filter (Casiez, Roussel & Vogel, "1€ Filter: A Simple Speed-based
 * Low-pass Filter for Noisy Input in Interactive Systems", CHI 2012): an
 * exponential smoother whose cutoff rises with the signal's speed, so slow
 * drifts are smoothed hard and fast moves follow with little lag.
 * Per sample, with Te = t − t_prev (irregular steps are fine):
 *
 *   dx  = (x − x̂_prev) / Te                       (x̂_prev: the previous output, as in the paper)
 *   dx̂  = α(dCutoff, Te)·dx + (1 − α(dCutoff, Te))·dx̂_prev
 *   fc  = minCutoff + beta·|dx̂|
 *   x̂   = α(fc, Te)·x + (1 − α(fc, Te))·x̂_prev
 *
 * with α from {@link oneEuroAlpha}. The first sample gives x̂ = x and dx̂ = 0.
 * A sample not later than the previous one (Te ≤ 0) returns the previous
 * output and changes nothing. Overflowing speeds are held at ±Number.MAX_VALUE.
 */
export class OneEuroFilter implements Smoother {
  private x = NaN;
  private dx = 0;
  private t = NaN;

  constructor(readonly params: OneEuroParams) {}

  push(x: number, time: number): number {
    if (Number.isNaN(this.x)) {
      this.x = x;
      this.dx = 0;
      this.t = time;
      return x;
    }
    const te = time - this.t;
    if (!(te > 0)) return this.x;
    const { minCutoff, beta, dCutoff } = this.params;
    const dx = clampMagnitude((x - this.x) / te);
    const ad = oneEuroAlpha(dCutoff, te);
    this.dx = clampMagnitude(ad * dx + (1 - ad) * this.dx);
    const cutoff = minCutoff + beta * Math.abs(this.dx);
    const a = Number.isFinite(cutoff) ? oneEuroAlpha(cutoff, te) : 1;
    this.x = a * x + (1 - a) * this.x;
    this.t = time;
    return this.x;
  }
}

/**
 * A slew-rate limiter: the output moves towards the input by at most
 * `maxPerSecond` · dt per step, dt being the time since the previous sample
 * (a sample earlier than that one cannot move it). The first sample passes as is.
 */
export class SlewLimiter {
  private y = NaN;
  private t = NaN;

  constructor(readonly maxPerSecond: number) {}

  push(x: number, time: number): number {
    if (Number.isNaN(this.y)) {
      this.y = x;
      this.t = time;
      return x;
    }
    const step = this.maxPerSecond * Math.max(0, time - this.t);
    if (x > this.y + step) this.y += step;
    else if (x < this.y - step) this.y -= step;
    else this.y = x;
    this.t = Math.max(this.t, time);
    return this.y;
  }
}

// ---------------------------------------------------------------- categories

/** The lookup form of a category name: trimmed, lower case. */
export function categoryKey(text: string): string {
  return text.trim().toLowerCase();
}

/**
 * Problems with a category map (for the schema and the constructor): empty
 * names, names equal after trimming and case folding, non-finite values.
 */
export function categoryMapProblems(categories: Readonly<Record<string, number>>): string[] {
  const problems: string[] = [];
  const seen = new Map<string, string>();
  for (const [name, value] of Object.entries(categories)) {
    const key = categoryKey(name);
    if (key === '') problems.push(`category "${name}" is empty once trimmed`);
    else if (seen.has(key)) problems.push(`categories "${seen.get(key)}" and "${name}" are the same ignoring case and spaces`);
    else seen.set(key, name);
    if (typeof value !== 'number' || !Number.isFinite(value)) problems.push(`category "${name}" needs a finite number`);
  }
  return problems;
}

/**
 * Maps text values to raw numbers before conditioning ({ rain: 0.8, snow: 1,
 * clear: 0 }), ignoring case and surrounding spaces: " Rain " → 0.8.
 */
export class CategoryMap {
  private readonly map = new Map<string, number>();

  constructor(categories: Readonly<Record<string, number>>) {
    const problems = categoryMapProblems(categories);
    if (problems.length > 0) throw new RangeError(problems.join('; '));
    for (const [name, value] of Object.entries(categories)) this.map.set(categoryKey(name), value);
  }

  /** The number for `text`, or undefined for an unknown category. */
  lookup(text: string): number | undefined {
    return this.map.get(categoryKey(text));
  }
}

/** Pure form of {@link CategoryMap.lookup} for one-off use. */
export function mapCategory(text: string, categories: Readonly<Record<string, number>>): number | undefined {
  const key = categoryKey(text);
  for (const [name, value] of Object.entries(categories)) if (categoryKey(name) === key) return value;
  return undefined;
}
