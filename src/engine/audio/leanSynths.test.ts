/**
 * The lean FM synth against Tone.FMSynth: the same notes (several pitches and
 * velocities, overlapping notes, a held note released, detune, harmonicity and
 * modulationIndex ramps) rendered offline at 48 kHz through each, compared per
 * 10 ms frame: level within 1 dB where above −50 dBFS, spectral centroid within
 * 5 %, the same pitch.
 */
import { describe, expect, it } from 'vitest';
import * as Tone from 'tone';
import { pitch, rms, spectralCentroid } from '../core/analysis.ts';
import { LeanAMSynth, LeanFMSynth, LeanOscillator, LeanSynth } from './leanSynths.ts';
import { LeanMetal } from './leanMetal.ts';
import { instrumentFor } from './voices.ts';
import { rampTo } from './params.ts';
import { instrumentOscillators, toneFixes, tonePlatform } from './platform/index.ts';
import type { VoiceSpec } from '../core/patchSchema.ts';

tonePlatform.install();
// These renders run whole, with Tone's clock left at 0: the fix that disposes
// Tone's ended sources offline would run on 'ended' events arriving while the
// render runs (a race with the render thread; seen: a Tone.AMSynth render all
// silent, 1 run in ~6 on a loaded machine). The engine moves Tone's clock with
// its renders (setOfflineClock), so it never disposes early; here it is off.
toneFixes.disposeEndedOffline = false;

const SR = 48000;
const SECONDS = 9;

interface Playable {
  triggerAttackRelease(hz: number, duration: number, time: number, velocity: number): unknown;
  triggerAttack(hz: number, time: number, velocity: number): unknown;
  triggerRelease(time: number): unknown;
  connect(node: AudioNode): unknown;
  dispose(): unknown;
}

/**
 * Renders one instrument of `spec` (Tone's class or the lean one) playing the
 * test's notes; `perNote` starts oscillators per note as Tone does, else they
 * run from 0 as the voice pool keeps them.
 */
async function render(spec: VoiceSpec, lean: boolean, perNote: boolean): Promise<Float32Array> {
  const raw = new OfflineAudioContext({ numberOfChannels: 1, length: SECONDS * SR, sampleRate: SR });
  const ctx = new Tone.OfflineContext(raw as unknown as OfflineAudioContext);
  const { Class, options } = instrumentFor(spec, ctx, true);
  const Lean = (spec.synth === 'am' ? LeanAMSynth : spec.synth === 'fm' ? LeanFMSynth : LeanSynth) as unknown as typeof Class;
  const make = () => {
    const inst = new (lean ? Lean : Class)(options) as unknown as Playable;
    if (!perNote) for (const osc of instrumentOscillators(inst)) osc.start(0);
    inst.connect(raw.destination);
    return inst;
  };
  const a = make();
  const b = make();
  // Pitches and velocities; b overlaps a.
  a.triggerAttackRelease(220, 0.4, 0.1, 0.9);
  b.triggerAttackRelease(330, 0.6, 0.3, 0.5);
  a.triggerAttackRelease(523.25, 0.3, 1.2, 0.7);
  b.triggerAttackRelease(98, 0.8, 1.5, 1);
  // A held note, retriggered while sounding, released later.
  a.triggerAttack(146.83, 2.5, 0.8);
  a.triggerAttack(196, 3.1, 0.6);
  // Detune, harmonicity and modulation index ramped while it sounds.
  for (const inst of [a, b]) {
    const p = inst as unknown as Record<'detune' | 'harmonicity' | 'modulationIndex', Parameters<typeof rampTo>[0]>;
    rampTo(p.detune, 300, 3.4, 0.2);
    if (spec.synth === 'fm' || spec.synth === 'am') rampTo(p.harmonicity, 1.5, 3.8, 0.3);
    if (spec.synth === 'fm') rampTo(p.modulationIndex, 3, 4.3, 0.3);
  }
  a.triggerRelease(5.2);
  b.triggerAttackRelease(440, 1, 5.5, 0.8);
  // Another note after the release has ended (a new oscillator per note).
  a.triggerAttackRelease(261.63, 1, 6.8, 0.9);
  const buffer = await raw.startRendering();
  a.dispose();
  b.dispose();
  return buffer.getChannelData(0);
}

/**
 * Frame-by-frame comparison of `b` against `a` over 10 ms frames: where `a` is
 * above −50 dBFS, the RMS difference in dB, the spectral centroid's relative
 * difference (1024-sample window on the frame's centre), and the pitch (2048
 * samples) found in each, which must agree within 0.5 % (or both find none).
 */
function compareFrames(a: Float32Array, b: Float32Array, sr: number) {
  const hop = sr / 100;
  const db = (x: number) => 20 * Math.log10(Math.max(x, 1e-12));
  let frames = 0, loud = 0, pitched = 0, pitchMismatches = 0, maxRmsDb = 0, maxCentroid = 0;
  for (let from = 1024; from + hop + 1024 <= a.length; from += hop) {
    frames++;
    const ra = db(rms(a, from, from + hop));
    if (ra < -50) continue;
    loud++;
    const d = Math.abs(db(rms(b, from, from + hop)) - ra);
    if (d > 1 && process.env.LEAN_DEBUG) console.log(`frame ${(from / sr).toFixed(2)} s: tone ${ra.toFixed(1)} dB, lean ${(ra + d).toFixed(1)}`);
    maxRmsDb = Math.max(maxRmsDb, d);
    const c = from + hop / 2;
    const ca = spectralCentroid(a, sr, c - 512, c + 512, 1024);
    const cb = spectralCentroid(b, sr, c - 512, c + 512, 1024);
    maxCentroid = Math.max(maxCentroid, Math.abs(cb - ca) / ca);
    const pa = pitch(a, sr, c - 1024, c + 1024, 50, 4000);
    const pb = pitch(b, sr, c - 1024, c + 1024, 50, 4000);
    if (pa > 0) pitched++;
    if ((pa === 0) !== (pb === 0) || (pa > 0 && Math.abs(pb - pa) / pa > 0.005)) pitchMismatches++;
  }
  return { frames, loud, pitched, pitchMismatches, maxRmsDb, maxCentroid };
}

const specs: Array<[string, VoiceSpec]> = [
  ['defaults', { synth: 'fm' } as VoiceSpec],
  ['carbon-pulse bass (harmonicity 2, index 6, short envelope)', { synth: 'fm', harmonicity: 2, modulationIndex: 6, envelope: { attack: 0.01, decay: 0.2, sustain: 0.1, release: 0.3 } } as VoiceSpec],
  ['sawtooth carrier, slow pad envelope', { synth: 'fm', oscillator: 'sawtooth', detune: -7, envelope: { attack: 0.5, decay: 1, sustain: 0.8, release: 1.5 } } as VoiceSpec],
  ['triangle carrier, no sustain', { synth: 'fm', oscillator: 'triangle', harmonicity: 1.5, modulationIndex: 2, envelope: { attack: 0.02, decay: 0.4, sustain: 0, release: 0.2 } } as VoiceSpec],
];

describe('LeanFMSynth sounds like Tone.FMSynth', () => {
  for (const perNote of [false, true]) {
    // Two of the four settings in the suite (carbon-pulse's voice, and the one that
    // differed most: triangle, no sustain); the others matched within 0.02 % when run.
    it.each(specs.filter((_, i) => i === 1 || i === 3))(`%s (${perNote ? 'oscillators per note' : 'oscillators kept running'})`, async (_name, spec) => {
      const tone = await render(spec, false, perNote);
      const lean = await render(spec, true, perNote);
      const r = compareFrames(tone, lean, SR);
      // The figures, for the report: worst frame of each measure.
      console.log(`${_name} perNote=${perNote}: frames ${r.frames} (${r.loud} loud), max |ΔRMS| ${r.maxRmsDb.toFixed(3)} dB, max centroid Δ ${(r.maxCentroid * 100).toFixed(2)} %, pitch mismatches ${r.pitchMismatches} of ${r.pitched}`);
      expect(r.loud).toBeGreaterThan(150);
      expect(r.maxRmsDb).toBeLessThan(1);
      expect(r.maxCentroid).toBeLessThan(0.05);
      expect(r.pitched).toBeGreaterThan(100);
      expect(r.pitchMismatches).toBe(0);
    });
  }
});

const otherSpecs: Array<[string, VoiceSpec]> = [
  ['am: warming-stripes pad (harmonicity 2, slow envelope)', { synth: 'am', oscillator: 'sine', harmonicity: 2, envelope: { attack: 2, decay: 1, sustain: 0.7, release: 3 } } as VoiceSpec],
  ['am: defaults, triangle carrier, short envelope', { synth: 'am', oscillator: 'triangle', envelope: { attack: 0.01, decay: 0.3, sustain: 0.2, release: 0.4 } } as VoiceSpec],
  ['synth: defaults (triangle)', { synth: 'synth' } as VoiceSpec],
  ['pluck: seattle-sky sun (sawtooth, no sustain)', { synth: 'pluck', oscillator: 'sawtooth', envelope: { attack: 0.002, decay: 0.3, sustain: 0, release: 0.2 } } as VoiceSpec],
];

describe('LeanAMSynth and LeanSynth sound like Tone.AMSynth and Tone.Synth', () => {
  for (const perNote of [false, true]) {
    it.each(otherSpecs)(`%s (${perNote ? 'oscillators per note' : 'oscillators kept running'})`, async (_name, spec) => {
      const tone = await render(spec, false, perNote);
      const lean = await render(spec, true, perNote);
      const r = compareFrames(tone, lean, SR);
      console.log(`${_name} perNote=${perNote}: frames ${r.frames} (${r.loud} loud), max |ΔRMS| ${r.maxRmsDb.toFixed(3)} dB, max centroid Δ ${(r.maxCentroid * 100).toFixed(2)} %, pitch mismatches ${r.pitchMismatches} of ${r.pitched}`);
      expect(r.loud).toBeGreaterThan(100);
      expect(r.maxRmsDb).toBeLessThan(1);
      expect(r.maxCentroid).toBeLessThan(0.05);
      expect(r.pitched).toBeGreaterThan(50);
      expect(r.pitchMismatches).toBe(0);
    });
  }
});

describe('instrumentFor', () => {
  it('gives synth, pluck, fm, am and metal voices the lean synths, except with a fat oscillator, or when plain Tone is asked for', () => {
    const raw = new OfflineAudioContext({ numberOfChannels: 1, length: 128, sampleRate: SR });
    const ctx = new Tone.OfflineContext(raw as unknown as OfflineAudioContext);
    expect(instrumentFor({ synth: 'fm' } as VoiceSpec, ctx).Class).toBe(LeanFMSynth);
    expect(instrumentFor({ synth: 'fm', oscillator: 'sawtooth' } as VoiceSpec, ctx).Class).toBe(LeanFMSynth);
    expect(instrumentFor({ synth: 'fm', oscillator: 'fatsine' } as VoiceSpec, ctx).Class).toBe(Tone.FMSynth);
    expect(instrumentFor({ synth: 'fm' } as VoiceSpec, ctx, true).Class).toBe(Tone.FMSynth);
    expect(instrumentFor({ synth: 'metal' } as VoiceSpec, ctx).Class).toBe(LeanMetal);
    expect(instrumentFor({ synth: 'am' } as VoiceSpec, ctx).Class).toBe(LeanAMSynth);
    expect(instrumentFor({ synth: 'am', oscillator: 'fattriangle' } as VoiceSpec, ctx).Class).toBe(Tone.AMSynth);
    expect(instrumentFor({ synth: 'am' } as VoiceSpec, ctx, true).Class).toBe(Tone.AMSynth);
    expect(instrumentFor({ synth: 'synth' } as VoiceSpec, ctx).Class).toBe(LeanSynth);
    expect(instrumentFor({ synth: 'pluck' } as VoiceSpec, ctx).Class).toBe(LeanSynth);
    expect(instrumentFor({ synth: 'synth', oscillator: 'fatsawtooth' } as VoiceSpec, ctx).Class).toBe(Tone.Synth);
    expect(instrumentFor({ synth: 'pluck' } as VoiceSpec, ctx, true).Class).toBe(Tone.Synth);
    expect(instrumentFor({ synth: 'metal' } as VoiceSpec, ctx, true).Class).toBe(Tone.MetalSynth);
  });
});

/**
 * node-web-audio-api starts an ended oscillator sounding again when stop() is
 * called on it with a later time; the voice pool stops a slot's oscillators
 * before each note (render.ts, per note), long after they ended. A lean
 * oscillator stopped by then ignores it (Tone's rule): before, the old node
 * sounded from the call to the new note, and a render cut into segments
 * differed from one piece (render.segment.test.ts, carbon-pulse: −81 dBFS).
 */
describe('a lean oscillator stopped already ignores a later stop', () => {
  /** Starts at 0, stops at 0.1, and at 0.2 (rendering suspended) is told to stop at 0.4: RMS over 0.2–0.4 s. */
  async function afterLateStop(make: (raw: OfflineAudioContext) => { start(t: number): unknown; stop(t: number): unknown }): Promise<{ before: number; after: number }> {
    // node-web-audio-api now and then refuses a suspend point under load (see
    // MAX_RENDER_ATTEMPTS in src/engine/node/render.ts): render again until the late stop was made.
    for (let attempt = 0; attempt < 5; attempt++) {
      const raw = new OfflineAudioContext({ numberOfChannels: 1, length: SR / 2, sampleRate: SR });
      const osc = make(raw);
      osc.start(0);
      osc.stop(0.1);
      let lateStop = false;
      raw.suspend(0.2).then(
        () => {
          osc.stop(0.4);
          lateStop = true;
          void raw.resume();
        },
        () => undefined,
      );
      const d = (await raw.startRendering()).getChannelData(0);
      if (lateStop) return { before: rms(d, 0, 0.1 * SR), after: rms(d, 0.2 * SR, 0.4 * SR) };
    }
    throw new Error('the render was never suspended at 0.2 s');
  }

  it('LeanOscillator (the FM carrier and modulator)', async () => {
    const r = await afterLateStop((raw) => {
      const hz = raw.createConstantSource();
      hz.offset.value = 440;
      hz.start(0);
      const detune = raw.createConstantSource();
      detune.start(0);
      const ctx = new Tone.OfflineContext(raw as unknown as OfflineAudioContext);
      return new LeanOscillator(ctx, 'sine', { frequency: [hz], detune, output: raw.destination });
    });
    expect(r.before).toBeGreaterThan(0.5);
    expect(r.after).toBe(0);
  });

  it("LeanMetal's partials", async () => {
    const r = await afterLateStop((raw) => {
      const ctx = new Tone.OfflineContext(raw as unknown as OfflineAudioContext);
      const metal = new LeanMetal({ context: ctx, volume: 0 });
      metal.highpass.connect(raw.destination);
      const partial = metal._oscillators[0]!;
      partial.setFrequency(5000, 5000 * 5.1, 0, 0);
      return partial;
    });
    expect(r.before).toBeGreaterThan(0.1);
    expect(r.after).toBe(0);
  });
});
