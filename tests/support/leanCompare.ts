/**
 * The lean instruments against Tone's (src/engine/audio/leanSynths.test.ts):
 * renders one instrument of a voice spec through Tone's class and through the
 * lean one, and compares them frame by frame.
 */
import * as Tone from 'tone';
import { pitch, rms, spectralCentroid } from '../../src/engine/core/analysis.ts';
import { LeanAMSynth, LeanFMSynth, LeanMembraneSynth, LeanMonoSynth, LeanSynth } from '../../src/engine/audio/leanSynths.ts';
import { instrumentFor } from '../../src/engine/audio/voices.ts';
import { rampTo } from '../../src/engine/audio/params.ts';
import { instrumentOscillators, tonePlatform } from '../../src/engine/audio/platform/index.ts';
import type { VoiceSpec } from '../../src/engine/core/patchSchema.ts';

tonePlatform.install();

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
export async function render(spec: VoiceSpec, lean: boolean, perNote: boolean): Promise<Float32Array> {
  const raw = new OfflineAudioContext({ numberOfChannels: 1, length: SECONDS * SR, sampleRate: SR });
  const ctx = new Tone.OfflineContext(raw as unknown as OfflineAudioContext);
  const { Class, options } = instrumentFor(spec, ctx, true);
  const Lean = (spec.synth === 'am' ? LeanAMSynth : spec.synth === 'fm' ? LeanFMSynth : spec.synth === 'membrane' ? LeanMembraneSynth : spec.synth === 'mono' ? LeanMonoSynth : LeanSynth) as unknown as typeof Class;
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
  // A copy: node-web-audio-api's getChannelData is a view of the buffer's native
  // memory, freed when the AudioBuffer is collected (a view kept alone read freed
  // memory: renders all silent, segfaults; see renderOnce in src/engine/node/render.ts).
  return buffer.getChannelData(0).slice();
}

/**
 * Frame-by-frame comparison of `b` against `a` over 10 ms frames: where `a` is
 * above −50 dBFS, the RMS difference in dB, the spectral centroid's relative
 * difference (1024-sample window on the frame's centre), and the pitch (2048
 * samples) found in each, which must agree within 0.5 % (or both find none).
 */
export function compareFrames(a: Float32Array, b: Float32Array, sr: number) {
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


/** The comparison of one spec, oscillators kept running (`perNote` false) or started per note. */
export type Comparison = ReturnType<typeof compareFrames> & { name: string; perNote: boolean };
