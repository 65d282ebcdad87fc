/**
 * Shared effect buses: one reverb, delay or chorus per bus, fed by voice sends
 * (never one effect per voice: ARCHITECTURE.md measured the cost).
 */
import * as Tone from 'tone';
import type { BusSpec } from '../core/patchSchema.ts';
import { mulberry32 } from '../core/random.ts';
import { SUBDIVISIONS, stepSeconds, type Subdivision } from '../core/rhythm.ts';
import { BUS_PARAMS, type BusParam } from '../core/targets.ts';
import { rampTo, setAt, valueAt } from './params.ts';

/**
 * A stereo reverb impulse response: decorrelated seeded noise under an
 * exponential decay reaching −60 dB at `decay` seconds (RT60), e^(−6.91·t/decay),
 * after `preDelay` seconds of silence and a 5 ms fade-in. Seeded, so renders repeat.
 */
export function makeReverbImpulse(ctx: BaseAudioContext, decay: number, preDelay: number, seed: number): AudioBuffer {
  const sr = ctx.sampleRate;
  const length = Math.max(1, Math.round((preDelay + Math.min(decay, 12)) * sr));
  const buffer = ctx.createBuffer(2, length, sr);
  const pre = Math.round(preDelay * sr);
  const fade = Math.round(0.005 * sr);
  for (let ch = 0; ch < 2; ch++) {
    const rand = mulberry32(seed * 2 + ch + 1);
    const data = buffer.getChannelData(ch);
    for (let i = pre; i < length; i++) {
      const t = (i - pre) / sr;
      const env = Math.exp((-6.91 * t) / decay) * Math.min(1, (i - pre) / fade);
      data[i] = (rand() * 2 - 1) * env;
    }
  }
  return buffer;
}

/** Impulse responses a context's buses made lately, newest last: a hot-swap of the same patch reuses its own. */
const impulses = new WeakMap<BaseAudioContext, Array<{ key: string; buffer: AudioBuffer }>>();
/** Kept per context (a 6 s stereo response at 48 kHz is 2.3 MB). */
export const IMPULSES_KEPT = 4;

/**
 * {@link makeReverbImpulse}, made once per context for the same response:
 * computing a 6 s response took longer than building the rest of a patch graph.
 * Buffers are shared read-only (a ConvolverNode copies what it is given).
 */
export function reverbImpulse(ctx: BaseAudioContext, decay: number, preDelay: number, seed: number): AudioBuffer {
  const key = `${decay}|${preDelay}|${seed}`;
  let kept = impulses.get(ctx);
  if (!kept) impulses.set(ctx, (kept = []));
  const i = kept.findIndex((k) => k.key === key);
  const hit = i >= 0 ? kept.splice(i, 1)[0]! : { key, buffer: makeReverbImpulse(ctx, decay, preDelay, seed) };
  kept.push(hit);
  if (kept.length > IMPULSES_KEPT) kept.shift();
  return hit.buffer;
}

/** Delay time in seconds from a number or a note value ("8n", "8n." dotted) at a tempo. */
export function delaySeconds(time: BusSpec['time'], bpm: number): number {
  if (typeof time === 'number') return time;
  const t = time ?? '8n.';
  const dotted = t.endsWith('.');
  const steps = SUBDIVISIONS[(dotted ? t.slice(0, -1) : t) as Subdivision];
  return Math.min(4, steps * stepSeconds(bpm) * (dotted ? 1.5 : 1));
}

/** One shared effect bus: `input` ← sends; output through the `wet` return gain. */
export class Bus {
  readonly input: GainNode;
  private readonly ret: GainNode;
  private readonly nodes: AudioNode[] = [];
  private readonly toneNodes: Tone.ToneAudioNode[] = [];
  private feedbackGain?: GainNode;

  constructor(
    readonly name: string,
    readonly spec: BusSpec,
    context: Tone.BaseContext,
    output: AudioNode,
    seed: number,
    tempo: number,
  ) {
    const raw = context.rawContext as unknown as BaseAudioContext;
    this.input = raw.createGain();
    this.ret = raw.createGain();
    setAt(this.ret.gain, spec.wet, 0, 0, 1);
    switch (spec.type) {
      case 'reverb': {
        const conv = raw.createConvolver();
        conv.buffer = reverbImpulse(raw, spec.decay ?? 3, spec.preDelay ?? 0.02, seed);
        this.input.connect(conv).connect(this.ret);
        this.nodes.push(conv);
        break;
      }
      case 'delay': {
        const delay = raw.createDelay(4);
        const fb = raw.createGain();
        const tone = raw.createBiquadFilter();
        tone.type = 'lowpass';
        tone.frequency.value = 5000;
        setAt(delay.delayTime, delaySeconds(spec.time, tempo), 0, 0, 4);
        setAt(fb.gain, spec.feedback ?? 0.35, 0, 0, 0.95);
        this.input.connect(delay);
        delay.connect(tone).connect(fb).connect(delay);
        delay.connect(this.ret);
        this.feedbackGain = fb;
        this.nodes.push(delay, fb, tone);
        break;
      }
      case 'chorus': {
        const chorus = new Tone.Chorus({
          context,
          frequency: spec.frequency ?? 0.6,
          depth: spec.depth ?? 0.5,
          delayTime: 3.5,
          wet: 1,
        }).start(0);
        Tone.connect(this.input, chorus);
        chorus.connect(this.ret);
        this.toneNodes.push(chorus);
        break;
      }
    }
    this.ret.connect(output);
  }

  /** Where a bus parameter is at `time` (undefined: feedback on a bus without any). Changes nothing. */
  get(param: BusParam, time: number): number | undefined {
    if (param === 'wet') return valueAt(this.ret.gain, time);
    return this.feedbackGain ? valueAt(this.feedbackGain.gain, time) : undefined;
  }

  /** Ramps a bus parameter. */
  set(param: BusParam, value: number, time: number, tau: number): void {
    if (param === 'wet') rampTo(this.ret.gain, value, time, tau, ...BUS_PARAMS.wet.limits);
    else if (param === 'feedback' && this.feedbackGain) rampTo(this.feedbackGain.gain, value, time, tau, ...BUS_PARAMS.feedback.limits);
  }

  dispose(): void {
    this.input.disconnect();
    this.ret.disconnect();
    for (const n of this.nodes) n.disconnect();
    for (const n of this.toneNodes) n.dispose();
  }
}
