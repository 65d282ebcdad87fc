/**
 * The lean MetalSynth against Tone.MetalSynth: the same notes (pitches,
 * velocities, a retrigger while sounding, two instruments overlapping, a held
 * note released, a detune ramp; static harmonicity, modulationIndex and
 * envelope) rendered offline at 48 kHz through each, driven as voices.ts
 * drives a pool instrument, kept running or started per note. Per 10 ms frame:
 * RMS within 1 dB where above −50 dBFS, spectral centroid within 5 %; and the
 * same inharmonic partials (the strongest spectral peaks of each note).
 * Kept running, the samples are Tone's own (to float32 rounding).
 */
import { describe, expect, it } from 'vitest';
import * as Tone from 'tone';
import { fft, rms, spectralCentroid } from '../core/analysis.ts';
import { LeanMetal } from './leanMetal.ts';
import { rampTo } from './params.ts';
import { instrumentOscillators, tonePlatform } from './platform/index.ts';

tonePlatform.install();

const SR = 48000;
const SECONDS = 4;

interface Instrument {
  triggerAttackRelease(f: number, d: number, t: number, v?: number): unknown;
  triggerAttack(f: number, t: number, v?: number): unknown;
  triggerRelease(t: number): unknown;
  connect(d: Tone.InputNode): unknown;
  detune: unknown;
}

type Make = (ctx: Tone.OfflineContext, options: object) => Instrument;
const tone: Make = (context, options) => new Tone.MetalSynth({ context, volume: 0, ...options }) as unknown as Instrument;
const lean: Make = (context, options) => new LeanMetal({ context, volume: 0, ...options }) as unknown as Instrument;

/** Renders the sequence through two instruments made by `make`; `perNote` as render.ts plays (oscillators started per note), else kept running (voices.ts makePersistent). */
async function render(make: Make, perNote: boolean): Promise<Float32Array> {
  const raw = new OfflineAudioContext({ numberOfChannels: 1, length: SECONDS * SR, sampleRate: SR });
  const ctx = new Tone.OfflineContext(raw as unknown as OfflineAudioContext);
  const a = make(ctx, {});
  const b = make(ctx, { harmonicity: 3.2, modulationIndex: 12, detune: 25, envelope: { attack: 0.05, decay: 0.6, release: 0.5 } });
  for (const inst of [a, b]) {
    inst.connect(raw.destination as unknown as Tone.InputNode);
    if (!perNote)
      for (const osc of instrumentOscillators(inst)) {
        osc.start(0);
        osc.start = () => osc;
        osc.stop = () => osc;
      }
  }
  const play = (inst: Instrument, hz: number, t: number, d: number, v: number) => {
    if (perNote) for (const osc of instrumentOscillators(inst)) osc.stop(t);
    inst.triggerAttackRelease(hz, d, t, v);
  };
  play(a, 440, 0.1, 0.3, 0.9);
  play(b, 196, 0.3, 1.0, 0.7);
  play(a, 261.63, 0.5, 2.0, 0.5);
  play(a, 659.25, 0.8, 0.2, 1); // while the last still sounds: a shortened attack from where it is
  rampTo(a.detune as Tone.Signal, 300, 1.0, 0.2);
  if (perNote) for (const osc of instrumentOscillators(b)) osc.stop(1.5);
  b.triggerAttack(329.63, 1.5, 0.8);
  b.triggerRelease(2.2);
  play(a, 880, 2.6, 0.5, 0.6);
  play(b, 110, 3.0, 0.4, 1);
  return (await raw.startRendering()).getChannelData(0).slice();
}

const FRAME = SR / 100;

/** Frequencies of the `n` strongest local maxima of the magnitude spectrum of [from, from + 8192). */
function peaks(x: Float32Array, from: number, n: number): number[] {
  const size = 8192;
  const re = new Float64Array(size);
  const im = new Float64Array(size);
  for (let i = 0; i < size; i++) re[i] = (x[from + i] ?? 0) * (0.5 - 0.5 * Math.cos((2 * Math.PI * i) / size));
  fft(re, im);
  const mag = Array.from({ length: size / 2 }, (_, k) => Math.hypot(re[k]!, im[k]!));
  const found: Array<[number, number]> = [];
  for (let k = 2; k < size / 2 - 1; k++) if (mag[k]! > mag[k - 1]! && mag[k]! >= mag[k + 1]!) found.push([k, mag[k]!]);
  return found
    .sort((p, q) => q[1] - p[1])
    .slice(0, n)
    .map(([k]) => (k * SR) / size)
    .sort((p, q) => p - q);
}

describe('LeanMetal sounds as Tone.MetalSynth', () => {
  for (const perNote of [false, true]) {
    it(`per 10 ms frame: RMS within 1 dB, centroid within 5 %, the same partials (${perNote ? 'started per note' : 'kept running'})`, async () => {
      const want = await render(tone, perNote);
      const got = await render(lean, perNote);
      let frames = 0;
      let worstDb = 0;
      let worstCentroid = 0;
      for (let from = 0; from + 512 <= want.length; from += FRAME) {
        const w = rms(want, from, from + FRAME);
        if (20 * Math.log10(w) < -50) continue;
        frames++;
        worstDb = Math.max(worstDb, Math.abs(20 * Math.log10(rms(got, from, from + FRAME) / w)));
        const cw = spectralCentroid(want, SR, from, from + 512, 512);
        worstCentroid = Math.max(worstCentroid, Math.abs(spectralCentroid(got, SR, from, from + 512, 512) / cw - 1));
      }
      let maxDiff = 0;
      for (let i = 0; i < want.length; i++) maxDiff = Math.max(maxDiff, Math.abs(want[i]! - got[i]!));
      console.log(`metal ${perNote ? 'per note' : 'running'}: ${frames} frames above −50 dBFS, worst RMS ${worstDb.toFixed(4)} dB, worst centroid ${(worstCentroid * 100).toFixed(3)} %, max sample difference ${maxDiff.toExponential(2)}`);
      expect(frames).toBeGreaterThan(150);
      // Kept running, the same float32 steps as Tone's graph: the same samples.
      if (!perNote) expect(maxDiff).toBeLessThan(1e-6);
      expect(worstDb).toBeLessThan(1);
      expect(worstCentroid).toBeLessThan(0.05);
      for (const t of [0.1, 0.3, 0.5, 1.5, 2.6, 3.0]) {
        const p = peaks(want, Math.round((t + 0.01) * SR), 8);
        expect(peaks(got, Math.round((t + 0.01) * SR), 8)).toEqual(p);
      }
    });
  }
});
