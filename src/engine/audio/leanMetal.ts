/**
 * A lean Tone.MetalSynth: the same sound from plain Web Audio nodes.
 *
 * Tone.MetalSynth (node_modules/tone/build/esm/instrument/MetalSynth.js) is six
 * FMOscillators at inharmonic ratios of the note, square carriers and square
 * modulators, through a highpass whose cutoff follows the envelope, into a gain
 * the envelope drives. Each of Tone's signals (frequency, detune, harmonicity,
 * modulationIndex, every ratio) is a ConstantSource and gains of its own: 105
 * gains and 57 ConstantSources per instrument, and node-web-audio-api's render
 * thread costs in proportion to the native nodes. Here the frequencies are
 * computed per note and set on the oscillators' own params, in the same float32
 * steps Tone's multiplier gains take, so the same samples come out:
 *
 * ```
 * modulator_i ─▶ modDepth_i (gain f·r_i·m) ─▶ carrier_i.frequency (f·r_i)
 * carrier_i (i = 1…6) ─▶ highpass ─▶ amplitude ─▶ output
 * envelope (ConstantSource) ─▶ amplitude.gain
 *                          └─▶ span (gain max−min) ─▶ highpass.frequency (min)
 * ```
 *
 * 12 oscillators, 8 gains (9 with a volume), 1 ConstantSource and 1 biquad per
 * instrument (Tone: 12, 117, 57 and 1; see benchmarks/leanMetal.ts).
 * The envelope is scheduled by a Tone.Param over the ConstantSource's offset,
 * with Tone.Envelope's own steps (linear attack, exponential decay to a sustain
 * of 0, exponential release), so its curve is Tone's. `detune` fans out to the
 * twelve oscillators' detune params ({@link FanParam}). As on Tone.MetalSynth,
 * `harmonicity` and `modulationIndex` are numbers fixed at creation, not params
 * (a voice's mapping of them changes nothing on either).
 *
 * Oscillators: started once and kept running when the voice makes them
 * persistent (voices.ts makePersistent replaces start/stop of `_oscillators`),
 * or per note as Tone does (renders), each start a new pair of native nodes.
 */
import * as Tone from 'tone';
import type { RampableParam } from './params.ts';
import { stopQuietly } from './stop.ts';

/** Tone.MetalSynth's inharmonic frequency ratios (TR-808 cymbal). */
const INHARM_RATIOS = [1.0, 1.483, 1.932, 2.546, 2.63, 3.897];

/** Options as instrumentFor gives them to Tone.MetalSynth. */
export interface LeanMetalOptions {
  context: Tone.BaseContext;
  /** dB (default 0). */
  volume?: number;
  /** Cents (default 0). */
  detune?: number;
  /** Sustain is ignored: always 0, as on Tone.MetalSynth. */
  envelope?: { attack?: number; decay?: number; sustain?: number; release?: number };
  harmonicity?: number;
  modulationIndex?: number;
  /** Lowest highpass cutoff in Hz (default 4000). */
  resonance?: number;
  /** Octaves the cutoff rises above `resonance` at the envelope's peak (default 1.5). */
  octaves?: number;
}

type Event = { kind: 'set'; value: number; time: number } | { kind: 'target'; value: number; time: number; tau: number };

/**
 * One automation curve on many native params, including params of nodes made
 * later (a per-note oscillator): it keeps its events and replays them on a
 * param attached later. Takes {@link rampTo}/{@link follow} of params.ts like
 * a Tone Signal, without a ConstantSource running for it.
 */
export class FanParam implements RampableParam {
  private readonly targets = new Set<AudioParam>();
  private events: Event[] = [];
  constructor(readonly value: number) {
    if (value !== 0) this.events.push({ kind: 'set', value, time: 0 });
  }
  setValueAtTime(value: number, time: number): this {
    this.events.push({ kind: 'set', value, time });
    for (const p of this.targets) p.setValueAtTime(value, time);
    return this;
  }
  setTargetAtTime(value: number, time: number, tau: number): this {
    this.events.push({ kind: 'target', value, time, tau });
    for (const p of this.targets) p.setTargetAtTime(value, time, tau);
    return this;
  }
  /** Puts `param` on the curve from `now` on (events before the last value set by then are dropped). */
  attach(param: AudioParam, now: number): void {
    let k = -1;
    for (let i = 0; i < this.events.length; i++) if (this.events[i]!.kind === 'set' && this.events[i]!.time <= now) k = i;
    if (k > 0) this.events = this.events.slice(k);
    for (const e of this.events) {
      if (e.kind === 'set') param.setValueAtTime(e.value, e.time);
      else param.setTargetAtTime(e.value, e.time, e.tau);
    }
    this.targets.add(param);
  }
  detach(param: AudioParam): void {
    this.targets.delete(param);
  }
}

/** A carrier and its modulator, made when started; `stopAt` once a stop is scheduled. */
interface Pair {
  carrier: OscillatorNode;
  modulator: OscillatorNode;
  stopAt?: number;
}

/**
 * One FM partial of the instrument: what voices.ts `instrumentOscillators`
 * returns for it (start/stop), the carrier/modulator pair it runs now, and the
 * pairs it ran before, disconnected once the render is past their stop.
 */
class Partial {
  pair?: Pair;
  private readonly retired: Pair[] = [];
  /** Frequency of the carrier (f·r) and of the modulator (f·r·h) now: a new pair starts on them. */
  carrierHz = 0;
  modulatorHz = 0;
  constructor(
    private readonly synth: LeanMetal,
    readonly depth: GainNode,
  ) {}

  /** Tone's Source state at the context's time now. */
  get state(): 'started' | 'stopped' {
    const now = this.synth.context.currentTime;
    return this.pair && (this.pair.stopAt === undefined || this.pair.stopAt > now) ? 'started' : 'stopped';
  }

  start(time: number): this {
    const raw = this.synth.raw;
    const now = this.synth.context.currentTime;
    for (let i = this.retired.length - 1; i >= 0; i--) {
      if (this.retired[i]!.stopAt! < now) this.synth.retire(this.retired.splice(i, 1)[0]!);
    }
    if (this.pair) {
      // A restart: Tone keeps its node running; here the old pair ends where the new one starts.
      if (this.pair.stopAt === undefined || this.pair.stopAt > time) this.stop(time);
      this.retired.push(this.pair);
    }
    const carrier = raw.createOscillator();
    const modulator = raw.createOscillator();
    carrier.type = 'square';
    modulator.type = 'square';
    carrier.frequency.value = 0;
    modulator.frequency.value = 0;
    carrier.frequency.setValueAtTime(this.carrierHz, time);
    modulator.frequency.setValueAtTime(this.modulatorHz, time);
    this.synth.detune.attach(carrier.detune, time);
    this.synth.detune.attach(modulator.detune, time);
    modulator.connect(this.depth);
    this.depth.connect(carrier.frequency);
    carrier.connect(this.synth.highpass);
    carrier.start(time);
    modulator.start(time);
    this.pair = { carrier, modulator };
    return this;
  }

  stop(time: number): this {
    const p = this.pair;
    // Stopped by then already (Tone's rule: the earlier stop stands). A later
    // stop() would start an ended node-web-audio-api oscillator sounding again
    // (see LeanOscillator.stop in leanSynths.ts).
    if (!p || (p.stopAt !== undefined && p.stopAt <= time)) return this;
    p.stopAt = time;
    p.carrier.stop(time);
    p.modulator.stop(time);
    return this;
  }

  /** Sets the note's frequencies from `time` on (the current pair's, and those of pairs started later). */
  setFrequency(carrierHz: number, modulatorHz: number, depth: number, time: number): void {
    this.carrierHz = carrierHz;
    this.modulatorHz = modulatorHz;
    this.depth.gain.setValueAtTime(depth, time);
    if (this.pair) {
      this.pair.carrier.frequency.setValueAtTime(carrierHz, time);
      this.pair.modulator.frequency.setValueAtTime(modulatorHz, time);
    }
  }

  dispose(): void {
    for (const p of this.retired.splice(0)) this.synth.retire(p);
    if (this.pair) this.synth.retire(this.pair, true);
    this.pair = undefined;
    this.depth.disconnect();
  }
}

/**
 * The lean MetalSynth: what VoiceGroup (voices.ts) uses of an instrument —
 * triggerAttackRelease, triggerAttack, triggerRelease, connect, dispose, a
 * `detune` param, `_oscillators` for makePersistent — with Tone.MetalSynth's
 * defaults and sound.
 */
export class LeanMetal {
  readonly context: Tone.BaseContext;
  readonly raw: BaseAudioContext;
  readonly detune: FanParam;
  readonly harmonicity: number;
  readonly modulationIndex: number;
  readonly highpass: BiquadFilterNode;
  /** Start/stop per FM partial (the name voices.ts `instrumentOscillators` reads). */
  readonly _oscillators: Partial[] = [];
  private readonly amplitude: GainNode;
  private readonly output: AudioNode;
  private readonly volume?: GainNode;
  private readonly envelopeSource: ConstantSourceNode;
  private readonly span: GainNode;
  private readonly env: Tone.Param<'number'>;
  private readonly attack: number;
  private readonly decay: number;
  private readonly releaseTime: number;

  static getDefaults() {
    return { volume: 0, detune: 0, envelope: { attack: 0.001, decay: 1.4, sustain: 0, release: 0.2 }, harmonicity: 5.1, modulationIndex: 32, octaves: 1.5, resonance: 4000 };
  }

  constructor(options: LeanMetalOptions) {
    const d = LeanMetal.getDefaults();
    this.context = options.context;
    this.raw = options.context.rawContext as unknown as BaseAudioContext;
    const raw = this.raw;
    this.harmonicity = options.harmonicity ?? d.harmonicity;
    this.modulationIndex = options.modulationIndex ?? d.modulationIndex;
    this.attack = options.envelope?.attack ?? d.envelope.attack;
    this.decay = options.envelope?.decay ?? d.envelope.decay;
    this.releaseTime = options.envelope?.release ?? d.envelope.release;
    this.detune = new FanParam(options.detune ?? d.detune);

    this.amplitude = raw.createGain();
    this.amplitude.gain.value = 0;
    const volume = options.volume ?? d.volume;
    if (volume !== 0) {
      this.volume = raw.createGain();
      this.volume.gain.value = Tone.dbToGain(volume);
      this.amplitude.connect(this.volume);
    }
    this.output = this.volume ?? this.amplitude;
    this.highpass = raw.createBiquadFilter();
    this.highpass.type = 'highpass';
    this.highpass.Q.value = 0;
    // Tone's Scale: min + envelope·(max − min), max = min·2^octaves.
    const min = options.resonance ?? d.resonance;
    const max = min * Math.pow(2, options.octaves ?? d.octaves);
    this.highpass.frequency.value = min;
    this.highpass.connect(this.amplitude);
    this.span = raw.createGain();
    this.span.gain.value = max - min;
    this.span.connect(this.highpass.frequency);
    this.envelopeSource = raw.createConstantSource();
    this.envelopeSource.offset.value = 0;
    this.envelopeSource.connect(this.amplitude.gain);
    this.envelopeSource.connect(this.span);
    this.envelopeSource.start(0);
    this.env = new Tone.Param({ context: this.context, param: this.envelopeSource.offset as unknown as AudioParam, units: 'number', value: 0 });

    for (let i = 0; i < INHARM_RATIOS.length; i++) {
      const depth = raw.createGain();
      depth.gain.value = 0;
      this._oscillators.push(new Partial(this, depth));
    }
  }

  /** Connects the instrument's output (Tone node or native). */
  connect(destination: Tone.InputNode): this {
    Tone.connect(this.output, destination);
    return this;
  }

  /** Plays a note of `frequency` Hz for `duration` seconds (Tone's Instrument.triggerAttackRelease). */
  triggerAttackRelease(frequency: number, duration: number, time: number, velocity = 1): this {
    this.triggerAttack(frequency, time, velocity);
    this.triggerRelease(time + duration);
    return this;
  }

  /** Starts a note (Tone's Monophonic.triggerAttack with MetalSynth's envelope and oscillator stops; portamento 0). */
  triggerAttack(frequency: number, time: number, velocity = 1): this {
    this.envelopeAttack(time, velocity);
    for (const osc of this._oscillators) osc.start(time);
    // Sustain 0: the oscillators stop at the decay's end, or at the release's if that comes first (Partial.stop keeps the earlier).
    for (const osc of this._oscillators) osc.stop(time + this.attack + this.decay);
    this.setNote(frequency, time);
    return this;
  }

  /** Releases the note. */
  triggerRelease(time: number): this {
    this.envelopeRelease(time);
    for (const osc of this._oscillators) osc.stop(time + this.releaseTime);
    return this;
  }

  /**
   * The note's frequencies, in the float32 steps of Tone's graph: frequency
   * signal f, ratio gain r_i, then harmonicity and modulationIndex gains.
   */
  private setNote(frequency: number, time: number): void {
    const f = Math.fround(frequency);
    const h = Math.fround(this.harmonicity);
    const m = Math.fround(this.modulationIndex);
    INHARM_RATIOS.forEach((r, i) => {
      const fr = Math.fround(f * Math.fround(r));
      this._oscillators[i]!.setFrequency(fr, Math.fround(fr * h), Math.fround(fr * m), time);
    });
  }

  /** Tone.Envelope.triggerAttack with attackCurve linear, decayCurve exponential, sustain 0. */
  private envelopeAttack(time: number, velocity: number): void {
    let attack = this.attack;
    const current = this.env.getValueAtTime(time);
    if (current > 0) attack = (1 - current) / (1 / attack);
    if (attack < 1 / this.raw.sampleRate) {
      this.env.cancelScheduledValues(time);
      this.env.setValueAtTime(velocity, time);
    } else {
      this.env.linearRampTo(velocity, attack, time);
    }
    if (this.decay) this.env.exponentialApproachValueAtTime(0, time + attack, this.decay);
  }

  /** Tone.Envelope.triggerRelease with releaseCurve exponential. */
  private envelopeRelease(time: number): void {
    if (this.env.getValueAtTime(time) > 0) {
      if (this.releaseTime < 1 / this.raw.sampleRate) this.env.setValueAtTime(0, time);
      else this.env.targetRampTo(0, this.releaseTime, time);
    }
  }

  /** Takes a stopped (or, with `now`, a running) pair out of the graph. */
  retire(pair: Pair, now = false): void {
    if (now) stopQuietly(pair.carrier, pair.modulator);
    this.detune.detach(pair.carrier.detune);
    this.detune.detach(pair.modulator.detune);
    pair.carrier.disconnect();
    pair.modulator.disconnect();
  }

  dispose(): this {
    for (const osc of this._oscillators) osc.dispose();
    stopQuietly(this.envelopeSource);
    this.envelopeSource.disconnect();
    this.env.dispose();
    this.span.disconnect();
    this.highpass.disconnect();
    this.amplitude.disconnect();
    this.volume?.disconnect();
    return this;
  }
}
