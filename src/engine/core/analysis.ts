/**
 * Audio measurements on rendered samples: level, spectrum, onsets, pitch.
 * Pure; used by meters, the CLI summary, benchmarks and the audio tests.
 */

/** Peak absolute sample value. */
export function peak(x: Float32Array, from = 0, to = x.length): number {
  let p = 0;
  for (let i = from; i < to; i++) {
    const a = Math.abs(x[i]!);
    if (a > p) p = a;
  }
  return p;
}

/** Root mean square. */
export function rms(x: Float32Array, from = 0, to = x.length): number {
  let s = 0;
  for (let i = from; i < to; i++) s += x[i]! * x[i]!;
  return Math.sqrt(s / Math.max(1, to - from));
}

/** Count of samples that are NaN or ±Infinity. */
export function nonFiniteCount(x: Float32Array): number {
  let n = 0;
  for (let i = 0; i < x.length; i++) if (!Number.isFinite(x[i]!)) n++;
  return n;
}

/** Largest absolute difference between consecutive samples in [from, to). */
export function maxJump(x: Float32Array, from = 1, to = x.length): number {
  let m = 0;
  for (let i = Math.max(1, from); i < to; i++) {
    const d = Math.abs(x[i]! - x[i - 1]!);
    if (d > m) m = d;
  }
  return m;
}

/** In-place iterative radix-2 FFT (Cooley–Tukey); `re.length` must be a power of two. */
export function fft(re: Float64Array, im: Float64Array): void {
  const n = re.length;
  for (let i = 1, j = 0; i < n; i++) {
    let bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) {
      [re[i], re[j]] = [re[j]!, re[i]!];
      [im[i], im[j]] = [im[j]!, im[i]!];
    }
  }
  for (let len = 2; len <= n; len <<= 1) {
    const ang = (-2 * Math.PI) / len;
    const wr = Math.cos(ang);
    const wi = Math.sin(ang);
    for (let i = 0; i < n; i += len) {
      let cr = 1;
      let ci = 0;
      for (let k = 0; k < len / 2; k++) {
        const ar = re[i + k + len / 2]! * cr - im[i + k + len / 2]! * ci;
        const ai = re[i + k + len / 2]! * ci + im[i + k + len / 2]! * cr;
        re[i + k + len / 2] = re[i + k]! - ar;
        im[i + k + len / 2] = im[i + k]! - ai;
        re[i + k] = re[i + k]! + ar;
        im[i + k] = im[i + k]! + ai;
        const ncr = cr * wr - ci * wi;
        ci = cr * wi + ci * wr;
        cr = ncr;
      }
    }
  }
}

/** Magnitude spectra of Hann-windowed frames of `size` samples, hopping by `size`. */
function* frames(x: Float32Array, from: number, to: number, size: number): Generator<Float64Array> {
  const hann = new Float64Array(size).map((_, i) => 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / size));
  for (let start = from; start + size <= to; start += size) {
    const re = new Float64Array(size);
    const im = new Float64Array(size);
    for (let i = 0; i < size; i++) re[i] = x[start + i]! * hann[i]!;
    fft(re, im);
    const mag = new Float64Array(size / 2);
    for (let k = 0; k < size / 2; k++) mag[k] = Math.hypot(re[k]!, im[k]!);
    yield mag;
  }
}

/**
 * Spectral centroid in Hz over [from, to): Σ f·|X(f)| / Σ |X(f)|, accumulated over
 * 2048-sample frames (magnitude-weighted, so loud frames count more).
 */
export function spectralCentroid(x: Float32Array, sampleRate: number, from = 0, to = x.length, size = 2048): number {
  let num = 0;
  let den = 0;
  for (const mag of frames(x, from, to, size)) {
    for (let k = 1; k < mag.length; k++) {
      num += ((k * sampleRate) / size) * mag[k]!;
      den += mag[k]!;
    }
  }
  return den > 0 ? num / den : 0;
}

/**
 * Onset times (seconds) by rectified energy flux: frame energies over 10 ms
 * hops; an onset is a rise above `ratio`× the previous frame and above a floor of
 * `floorDb` below the loudest frame, at least `minGap` seconds after the last.
 */
export function onsets(x: Float32Array, sampleRate: number, ratio = 2, floorDb = -40, minGap = 0.05): number[] {
  const hop = Math.round(sampleRate * 0.01);
  const energy: number[] = [];
  for (let i = 0; i + hop <= x.length; i += hop) {
    let s = 0;
    for (let j = i; j < i + hop; j++) s += x[j]! * x[j]!;
    energy.push(s / hop);
  }
  const max = Math.max(...energy, 1e-20);
  const floor = max * Math.pow(10, floorDb / 10);
  const out: number[] = [];
  let last = -Infinity;
  for (let i = 1; i < energy.length; i++) {
    const t = (i * hop) / sampleRate;
    if (energy[i]! > floor && energy[i]! > ratio * (energy[i - 1]! + 1e-20) && t - last >= minGap) {
      out.push(t);
      last = t;
    }
  }
  return out;
}

/**
 * Fundamental frequency (Hz) of [from, to) by normalised autocorrelation
 * (the first peak above 0.5 of r(0) between `minHz` and `maxHz`, refined by
 * parabolic interpolation). Returns 0 when no period is found.
 */
export function pitch(x: Float32Array, sampleRate: number, from = 0, to = x.length, minHz = 60, maxHz = 2000): number {
  const n = Math.min(to - from, 8192);
  const minLag = Math.floor(sampleRate / maxHz);
  const maxLag = Math.min(Math.ceil(sampleRate / minHz), n - 1);
  const r = new Float64Array(maxLag + 2);
  for (let lag = 0; lag <= maxLag + 1; lag++) {
    let s = 0;
    for (let i = 0; i + lag < n; i++) s += x[from + i]! * x[from + i + lag]!;
    r[lag] = s;
  }
  if (r[0]! <= 0) return 0;
  for (let lag = minLag; lag <= maxLag; lag++) {
    if (r[lag]! > 0.5 * r[0]! && r[lag]! >= r[lag - 1]! && r[lag]! >= r[lag + 1]!) {
      const a = r[lag - 1]!;
      const b = r[lag]!;
      const c = r[lag + 1]!;
      const shift = (a - c) / (2 * (a - 2 * b + c) || 1);
      return sampleRate / (lag + shift);
    }
  }
  return 0;
}
