/**
 * The baseline the benchmarks compare against: the same notes played the way a
 * plain Tone.js program would, through `Tone.Offline` with every event scheduled
 * before rendering starts, a Tone.PolySynth (or Sampler, NoiseSynth) per voice,
 * Tone effects per bus and Tone.Limiter on the master. Same instruments and
 * options (instrumentFor), same impulse responses, same note events; parameter
 * automation from the data is not replayed (the baseline carries the notes).
 *
 * The same program runs in Node (on node-web-audio-api) and, bundled by
 * benchmarks/toneChromium.ts, in headless Chromium: so it must not use Node.
 */
import * as Tone from 'tone';
import type { NoteEvent } from '../src/engine/core/sequencer.ts';
import type { Patch } from '../src/engine/core/patchSchema.ts';
import { midiToHz } from '../src/engine/core/theory.ts';
import { rms } from '../src/engine/core/analysis.ts';
import { instrumentFor } from '../src/engine/audio/voices.ts';
import { delaySeconds, makeReverbImpulse } from '../src/engine/audio/buses.ts';

type Player = (e: NoteEvent) => void;

/**
 * Seconds (whole 1 s blocks) whose RMS is above −60 dBFS: how a baseline is
 * checked to really play the music (a near-silent one renders fast).
 */
export function audibleSeconds(x: Float32Array, sampleRate: number): number {
  let n = 0;
  for (let i = 0; i + sampleRate <= x.length; i += sampleRate) if (rms(x, i, i + sampleRate) > 1e-3) n++;
  return n;
}

/** Renders `events` for `patch` with plain Tone.Offline; returns wall seconds and the buffer. */
export async function renderPlainTone(
  patch: Patch,
  events: readonly NoteEvent[],
  duration: number,
  samples: ReadonlyMap<string, AudioBuffer>,
  sampleRate = 48000,
): Promise<{ wallSeconds: number; buffer: Tone.ToneAudioBuffer; dropped: number }> {
  // Tone.PolySynth warns for every note it drops when all its voices are busy at
  // scheduling time: count them (they make the baseline lighter, not heavier).
  let dropped = 0;
  const warn = console.warn;
  console.warn = (...args: unknown[]) => {
    if (String(args[0]).includes('Max polyphony exceeded')) dropped++;
    else warn(...args);
  };
  const started = performance.now();
  const buffer = await Tone.Offline(
    () => {
      const context = Tone.getContext();
      const raw = context.rawContext as unknown as BaseAudioContext;
      const limiter = new Tone.Limiter(patch.master.ceiling).toDestination();
      const master = new Tone.Volume(patch.master.volume).connect(limiter);
      const buses = new Map<string, Tone.ToneAudioNode>();
      let busIndex = 0;
      for (const [name, b] of Object.entries(patch.buses)) {
        const ret = new Tone.Gain(b.wet).connect(master);
        let fx: Tone.ToneAudioNode;
        if (b.type === 'reverb') {
          const conv = new Tone.Convolver();
          conv.buffer = new Tone.ToneAudioBuffer(makeReverbImpulse(raw, b.decay ?? 3, b.preDelay ?? 0.02, patch.seed + ++busIndex * 7919));
          fx = conv;
        } else if (b.type === 'delay') {
          fx = new Tone.FeedbackDelay({ delayTime: delaySeconds(b.time, patch.tempo), feedback: b.feedback ?? 0.35, wet: 1 });
        } else {
          fx = new Tone.Chorus({ frequency: b.frequency ?? 0.6, depth: b.depth ?? 0.5, wet: 1 }).start(0);
        }
        fx.connect(ret);
        buses.set(name, fx);
      }
      const players = new Map<string, Player>();
      for (const [name, v] of Object.entries(patch.voices)) {
        const panner = new Tone.Panner(v.pan).connect(master);
        const volume = new Tone.Volume(v.volume).connect(panner);
        const filter = new Tone.Filter({ type: v.filter?.type ?? 'lowpass', frequency: v.filter?.frequency ?? 18000, Q: v.filter?.q ?? 0.7 }).connect(volume);
        for (const [bus, level] of Object.entries(v.send)) panner.connect(new Tone.Gain(level).connect(buses.get(bus)!));
        if (v.synth === 'sampler') {
          const urls = Object.fromEntries(Object.entries(v.samples ?? {}).map(([note, path]) => [note, new Tone.ToneAudioBuffer(samples.get(path)!)]));
          const s = new Tone.Sampler({ urls, release: v.envelope?.release ?? 0.2 }).connect(filter);
          players.set(name, (e) => s.triggerAttackRelease(e.notes.map(midiToHz), e.duration, e.time, e.velocity));
        } else if (v.synth === 'noise') {
          const n = new Tone.NoiseSynth({ noise: { type: v.noise ?? 'white' }, envelope: v.envelope ?? {} }).connect(filter);
          players.set(name, (e) => n.triggerAttackRelease(e.duration, e.time, e.velocity));
        } else {
          const { Class, options } = instrumentFor(v, context, true);
          const poly = new Tone.PolySynth({ voice: Class as never, maxPolyphony: v.poly, options: options as never }).connect(filter);
          players.set(name, (e) => poly.triggerAttackRelease(e.notes.map(midiToHz), e.duration, e.time, e.velocity));
        }
      }
      for (const e of events) players.get(e.voice)!(e);
    },
    duration,
    2,
    sampleRate,
  );
  const wallSeconds = (performance.now() - started) / 1000;
  console.warn = warn;
  return { wallSeconds, buffer, dropped };
}
