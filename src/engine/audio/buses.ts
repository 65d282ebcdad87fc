/**
 * Shared effect buses: one reverb, delay or chorus per bus, fed by voice sends
 * (never one effect per voice: docs/ARCHITECTURE.md measured the cost).
 */
import * as Tone from 'tone';
import type { BusSpec } from '../core/patchSchema.ts';
import { mulberry32 } from '../core/random.ts';
import { SUBDIVISIONS, stepSeconds, type Subdivision } from '../core/rhythm.ts';
import { BUS_PARAMS, clampTo, type BusParam } from '../core/targets.ts';
import { makeProbe, probeFault, type AudioFault } from './health.ts';
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

/**
 * The delay loop's damping: a Butterworth lowpass (Web Audio's lowpass Q is a
 * resonance in dB; −3.01 dB is Q = 1/√2, no peak), so its gain is at most 1 at
 * every frequency. The Web Audio default (Q = 1 dB) peaks at +2 dB near the
 * cutoff: with it, feedback above 0.8 made a loop gain above 1 there and the
 * echoes grew until they overflowed (feedback 0.85: NaN after 16 s).
 */
export const DELAY_DAMPING = { frequency: 5000, q: -3.0103 } as const;

/**
 * The delay loop's soft limiter: L·tanh(x/L), linear within 0.1 dB up to
 * about ±1 and never beyond ±L·tanh(1). Its slope is at most 1, so it never
 * adds gain to the loop; it bounds what the loop holds whatever comes in.
 */
export const LOOP_LIMIT = 4;

/** The limiter's curve over [−1, 1] (its input scaled by 1/{@link LOOP_LIMIT}). */
export function loopLimiterCurve(points = 1025): Float32Array<ArrayBuffer> {
  const curve = new Float32Array(points);
  for (let i = 0; i < points; i++) curve[i] = Math.tanh((i / (points - 1)) * 2 - 1);
  return curve;
}

/**
 * One shared effect bus: `input` ← sends; the effect; `output` → a probe and
 * the `wet` return gain. The effect's nodes (the ones holding state) can be
 * replaced by {@link Bus.rebuild} while sends and return stay connected.
 *
 * The delay's loop is stable by construction for every feedback the schema
 * allows (≤ 0.95): delay → damping (gain ≤ 1) → feedback gain → soft limiter
 * (slope ≤ 1) → delay, so the loop gain is at most the feedback.
 */
export class Bus {
  readonly input: GainNode;
  private readonly output: GainNode;
  private readonly ret: GainNode;
  /** The effect's output before the wet gain (see health.ts). */
  private probe: AnalyserNode;
  private nodes: AudioNode[] = [];
  private toneNodes: Tone.ToneAudioNode[] = [];
  private feedbackGain?: GainNode;
  /** The feedback asked for last, kept for a rebuild. */
  private feedback: number;
  private readonly raw: BaseAudioContext;

  constructor(
    readonly name: string,
    readonly spec: BusSpec,
    private readonly context: Tone.BaseContext,
    output: AudioNode,
    private readonly seed: number,
    private readonly tempo: number,
  ) {
    const raw = (this.raw = context.rawContext as unknown as BaseAudioContext);
    this.input = raw.createGain();
    this.output = raw.createGain();
    this.ret = raw.createGain();
    this.feedback = spec.feedback ?? 0.35;
    setAt(this.ret.gain, spec.wet, 0, 0, 1);
    this.probe = makeProbe(raw, 1024);
    this.output.connect(this.ret);
    this.output.connect(this.probe);
    this.build(0);
    this.ret.connect(output);
  }

  /** The bus's return (after its wet level): what a stem of the bus records. */
  get returnNode(): AudioNode {
    return this.ret;
  }

  /** Builds the effect between `input` and `output`. */
  private build(time: number): void {
    const { raw, spec, context } = this;
    switch (spec.type) {
      case 'reverb': {
        const conv = raw.createConvolver();
        conv.buffer = reverbImpulse(raw, spec.decay ?? 3, spec.preDelay ?? 0.02, this.seed);
        this.input.connect(conv).connect(this.output);
        this.nodes.push(conv);
        break;
      }
      case 'delay': {
        const delay = raw.createDelay(4);
        const damp = raw.createBiquadFilter();
        damp.type = 'lowpass';
        damp.frequency.value = DELAY_DAMPING.frequency;
        damp.Q.value = DELAY_DAMPING.q;
        const fb = raw.createGain();
        const limiter = raw.createWaveShaper();
        limiter.curve = loopLimiterCurve();
        limiter.oversample = 'none'; // its filters could add gain above the curve's slope
        const makeup = raw.createGain();
        makeup.gain.value = LOOP_LIMIT;
        setAt(delay.delayTime, delaySeconds(spec.time, this.tempo), 0, 0, 4);
        // The limiter's input scale (1/L) rides on the feedback gain.
        setAt(fb.gain, this.feedback / LOOP_LIMIT, 0, 0, 0.95 / LOOP_LIMIT);
        this.input.connect(delay);
        delay.connect(damp).connect(fb).connect(limiter).connect(makeup).connect(delay);
        delay.connect(this.output);
        this.feedbackGain = fb;
        this.nodes.push(delay, damp, fb, limiter, makeup);
        break;
      }
      case 'chorus': {
        const chorus = new Tone.Chorus({
          context,
          frequency: spec.frequency ?? 0.6,
          depth: spec.depth ?? 0.5,
          delayTime: 3.5,
          wet: 1,
        }).start(time);
        Tone.connect(this.input, chorus);
        chorus.connect(this.output);
        this.toneNodes.push(chorus);
        break;
      }
    }
  }

  /** Where a bus parameter is at `time` (undefined: feedback on a bus without any). Changes nothing. */
  get(param: BusParam, time: number): number | undefined {
    if (param === 'wet') return valueAt(this.ret.gain, time);
    return this.feedbackGain ? valueAt(this.feedbackGain.gain, time) : undefined;
  }

  /** Ramps a bus parameter. */
  set(param: BusParam, value: number, time: number, tau: number): void {
    if (param === 'wet') rampTo(this.ret.gain, value, time, tau, ...BUS_PARAMS.wet.limits);
    else if (param === 'feedback' && this.feedbackGain && rampTo(this.feedbackGain.gain, value / LOOP_LIMIT, time, tau, 0, BUS_PARAMS.feedback.limits[1] / LOOP_LIMIT))
      this.feedback = clampTo(BUS_PARAMS.feedback, value);
  }

  /** What the bus's probe saw lately (see health.ts). */
  fault(): AudioFault | undefined {
    return probeFault(this.probe);
  }

  /**
   * Replaces the effect's nodes (and the probe, which remembers the fault) with
   * new ones from `time`: a NaN stored in a delay line or filter never leaves it.
   * Sends, wet and the last feedback carry over; the echoes and tails do not.
   */
  rebuild(time: number): void {
    this.disposeEffect();
    this.output.disconnect(this.probe);
    this.probe = makeProbe(this.raw, 1024);
    this.output.connect(this.probe);
    this.build(time);
  }

  private disposeEffect(): void {
    for (const n of this.nodes) n.disconnect();
    for (const n of this.toneNodes) n.dispose();
    this.input.disconnect();
    this.nodes = [];
    this.toneNodes = [];
    this.feedbackGain = undefined;
  }

  dispose(): void {
    this.disposeEffect();
    this.output.disconnect();
    this.ret.disconnect();
  }
}
