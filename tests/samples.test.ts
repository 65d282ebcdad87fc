import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { OfflineAudioContext } from 'node-web-audio-api';
import { makeSamples } from '../scripts/make-samples.ts';
import { fft, peak } from '../src/engine/core/analysis.ts';

const SAMPLES_DIR = fileURLToPath(new URL('../samples/', import.meta.url));
const SR = 48_000;

const WAVS = [
  'drops/drop-1.wav',
  'drops/drop-2.wav',
  'drops/drop-3.wav',
  'wood/knock.wav',
  'bells/bell-c5.wav',
] as const;

interface Decoded {
  sampleRate: number;
  duration: number;
  channels: number;
  data: Float32Array;
}

async function decode(rel: string): Promise<Decoded> {
  const bytes = readFileSync(join(SAMPLES_DIR, rel));
  // Pass a standalone ArrayBuffer copy (Node Buffers may share a pooled ArrayBuffer).
  const ab = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  const ctx = new OfflineAudioContext(1, 1, SR);
  const buf = await ctx.decodeAudioData(ab);
  return {
    sampleRate: buf.sampleRate,
    duration: buf.duration,
    channels: buf.numberOfChannels,
    data: Float32Array.from(buf.getChannelData(0)),
  };
}

const dbfs = (a: number): number => 20 * Math.log10(a);

/** Goertzel power of `x` (Hann-windowed) at frequency `f`. */
function goertzel(x: Float32Array, f: number, sr = SR): number {
  const n = x.length;
  const coeff = 2 * Math.cos((2 * Math.PI * f) / sr);
  let s1 = 0;
  let s2 = 0;
  for (let i = 0; i < n; i++) {
    const w = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / (n - 1));
    const s0 = x[i]! * w + coeff * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  return s1 * s1 + s2 * s2 - coeff * s1 * s2;
}

/** Frequency of the strongest spectral peak in [lo, hi] Hz, scanned in `step` Hz increments. */
function strongestPeak(x: Float32Array, lo: number, hi: number, step = 1): number {
  let best = lo;
  let bestPow = -1;
  for (let f = lo; f <= hi; f += step) {
    const p = goertzel(x, f);
    if (p > bestPow) {
      bestPow = p;
      best = f;
    }
  }
  return best;
}

/** Magnitude-weighted spectral centroid (Hz) of the whole signal, zero-padded to a power of 2. */
function spectralCentroid(x: Float32Array, sr = SR): number {
  let n = 1;
  while (n < x.length) n <<= 1;
  const re = new Float64Array(n);
  const im = new Float64Array(n);
  re.set(x);
  fft(re, im);
  let num = 0;
  let den = 0;
  for (let k = 1; k < n / 2; k++) {
    const mag = Math.hypot(re[k]!, im[k]!);
    num += ((k * sr) / n) * mag;
    den += mag;
  }
  return num / den;
}

const decoded = new Map<string, Decoded>();

beforeAll(async () => {
  for (const rel of WAVS) decoded.set(rel, await decode(rel));
});

describe('generated WAV samples', () => {
  for (const rel of WAVS) {
    describe(rel, () => {
      it('is 48 kHz mono, shorter than 1.5 s, finite, peak-normalised, click-free at the edges', () => {
        const d = decoded.get(rel)!;
        expect(d.sampleRate).toBe(48_000);
        expect(d.channels).toBe(1);
        expect(d.duration).toBeGreaterThan(0);
        expect(d.duration).toBeLessThan(1.5);
        expect(d.data.every((v) => !Number.isNaN(v))).toBe(true);

        const peakDb = dbfs(peak(d.data));
        console.log(`${rel}: ${d.duration.toFixed(3)} s, peak ${peakDb.toFixed(2)} dBFS`);
        expect(peakDb).toBeGreaterThan(-6);
        expect(peakDb).toBeLessThan(-1);

        const edge = Math.round(0.002 * d.sampleRate);
        expect(peak(d.data, 0, edge)).toBeLessThan(0.05);
        expect(peak(d.data, d.data.length - edge)).toBeLessThan(0.05);
      });
    });
  }

  it('bell-c5: strongest peak (200-2000 Hz, first 0.3 s) is within 3% of 523.25 Hz', () => {
    const d = decoded.get('bells/bell-c5.wav')!;
    const head = d.data.subarray(0, Math.round(0.3 * d.sampleRate));
    const f = strongestPeak(head, 200, 2000, 1);
    // refine to 0.1 Hz around the coarse peak
    const fine = strongestPeak(head, f - 2, f + 2, 0.1);
    console.log(`bell-c5: strongest peak ${fine.toFixed(1)} Hz`);
    expect(Math.abs(fine - 523.25) / 523.25).toBeLessThan(0.03);
  });

  it('drops: perceived (strongest) pitch is near C6/E6/G6 and drop-3 is brighter than drop-1', () => {
    const targets: Record<string, number> = {
      'drops/drop-1.wav': 1046.5,
      'drops/drop-2.wav': 1318.51,
      'drops/drop-3.wav': 1567.98,
    };
    const centroids: Record<string, number> = {};
    for (const [rel, target] of Object.entries(targets)) {
      const d = decoded.get(rel)!;
      const f = strongestPeak(d.data, 300, 4000, 1);
      centroids[rel] = spectralCentroid(d.data);
      console.log(
        `${rel}: strongest peak ${f} Hz (target ${target}), centroid ${centroids[rel]!.toFixed(1)} Hz`,
      );
      expect(Math.abs(f - target) / target).toBeLessThan(0.06);
    }
    expect(centroids['drops/drop-3.wav']!).toBeGreaterThan(centroids['drops/drop-1.wav']!);
  });
});

describe('make-samples is deterministic', () => {
  let out = '';
  beforeAll(() => {
    out = mkdtempSync(join(tmpdir(), 'eco-samples-'));
  });
  afterAll(() => {
    if (out) rmSync(out, { recursive: true, force: true });
  });

  it('regenerating gives byte-identical files to the committed ones', async () => {
    const written = await makeSamples(out);
    expect(written.map((p) => p.split('\\').join('/')).sort()).toEqual([...WAVS].sort());
    for (const rel of WAVS) {
      const fresh = readFileSync(join(out, rel));
      const committed = readFileSync(join(SAMPLES_DIR, rel));
      expect(fresh.equals(committed), rel).toBe(true);
    }
  });
});
