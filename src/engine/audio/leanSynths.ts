/**
 * Lean instruments: the sound of Tone.FMSynth, Tone.AMSynth, Tone.Synth,
 * Tone.MembraneSynth and Tone.MonoSynth from a handful of native Web Audio
 * nodes. node-web-audio-api's render thread costs about the same per native
 * node whatever the node does (a plain GainNode ~0.4 µs per
 * render quantum, one with automation or a ConstantSource driving an AudioParam
 * ~1.5 µs, a WaveShaper ~6 µs), and a Tone.FMSynth is 26 GainNodes and 14
 * ConstantSources (a Tone.AMSynth about as many and a WaveShaper): every Tone
 * Signal is a ConstantSource, every Tone source and instrument ends in a
 * Volume GainNode.
 *
 * {@link LeanFMSynth} is the same graph without the wrappers (2 ConstantSources,
 * 5 GainNodes, 2 oscillators), with Tone's own arithmetic kept exactly:
 *
 *     frequency ─┬──────────────────────────────────────────► carrier.frequency
 *                ├─► ×harmonicity ─► modulator.frequency             │
 *                └─► ×modulationIndex ─► ×(modulator · modEnv · −10 dB) ─┘
 *     detune ─► carrier.detune, modulator.detune
 *     carrier ─► ×(envelope · −10 dB · volume) ─► output
 *
 * {@link LeanAMSynth} (2 ConstantSources, 4 GainNodes, 2 oscillators) the same
 * for amplitude modulation, Tone's AudioToGain ((x + 1) / 2, a WaveShaper of a
 * straight line) as a gain at 0.5 with the modulator added at half its level:
 *
 *     carrier ─► ×(0.5 + modulator · modEnv · −10 dB · 0.5) ─► ×(envelope · −10 dB · volume) ─► output
 *
 * The envelopes are Tone's Envelope scheduling (linear attack, exponential
 * decay and release, through a Tone.Param, which makes no node) written on
 * the gain of the node they gate, with the two Synths' −10 dB folded into the
 * values ({@link ScaledParam}). What they stand for: Tone.js 15.5
 * instrument/FMSynth.js, AMSynth.js, ModulationSynth.js, Synth.js,
 * MembraneSynth.js (MonoSynth: see {@link LeanMonoSynth}),
 * signal/AudioToGain.js, component/envelope/Envelope.js.
 * src/engine/audio/leanSynths.test.ts renders both and compares them frame by frame.
 */
import * as Tone from 'tone';
import { stopQuietly } from './stop.ts';

/** A Tone.Param over a native AudioParam whose values are scaled by a constant: `value` in, `value × scale` on the AudioParam. */
class ScaledParam extends Tone.Param<'number'> {
  private scale = 1;

  constructor(context: Tone.BaseContext, param: AudioParam, scale: number) {
    super({ context, param, units: 'number', convert: true });
    this.scale = scale;
    this.setValueAtTime(0, 0);
  }

  protected override _fromType(val: number): number {
    return super._fromType(val) * this.scale;
  }

  protected override _toType(val: number): number {
    return super._toType(val) / this.scale;
  }
}

/** Envelope times in seconds and sustain level, as Tone's Envelope takes them. */
export interface LeanEnvelopeOptions {
  attack: number;
  decay: number;
  sustain: number;
  release: number;
  /** Tone's default 'linear'; Tone.MembraneSynth's is 'exponential'. */
  attackCurve?: 'linear' | 'exponential';
}

/**
 * Tone.Envelope's triggerAttack/triggerRelease for the curves the engine's
 * instruments use (a linear or exponential attack, exponential decay and
 * release; a patch sets only times and levels), scheduled on a param instead
 * of a ConstantSource of its own.
 */
class LeanEnvelope {
  constructor(
    private readonly param: ScaledParam,
    readonly o: LeanEnvelopeOptions,
    private readonly sampleTime: number,
  ) {}

  triggerAttack(time: number, velocity: number): void {
    let attack = this.o.attack;
    const current = this.param.getValueAtTime(time);
    // Retriggered while sounding: the attack keeps its rate over the distance left.
    if (current > 0) attack = (1 - current) * this.o.attack;
    if (attack < this.sampleTime) {
      this.param.cancelScheduledValues(time);
      this.param.setValueAtTime(velocity, time);
    } else if (this.o.attackCurve === 'exponential') this.param.targetRampTo(velocity, attack, time);
    else this.param.linearRampTo(velocity, attack, time);
    if (this.o.decay && this.o.sustain < 1) this.param.exponentialApproachValueAtTime(velocity * this.o.sustain, time + attack, this.o.decay);
  }

  triggerRelease(time: number): void {
    if (!(this.param.getValueAtTime(time) > 0)) return;
    if (this.o.release < this.sampleTime) this.param.setValueAtTime(0, time);
    else this.param.targetRampTo(0, this.o.release, time);
  }
}

/**
 * One native oscillator slot of a lean instrument, with Tone's Source
 * start/stop: `start` makes a native OscillatorNode (phase 0 at its start)
 * unless one is running then, `stop` schedules its end (an earlier stop
 * replaces a later one; a stop after the scheduled one is ignored). The voice
 * pool keeps it running instead (see makePersistent in src/engine/audio/voices.ts).
 */
/** A stop time that stands for none (a stop can be replaced, not cancelled). */
const NEVER = 1e12;

export class LeanOscillator {
  private node?: OscillatorNode;
  private stopAt = Infinity;
  /** Nodes replaced by a later start, until the render has passed their stop. */
  private retired: Array<{ node: OscillatorNode; stopAt: number }> = [];

  constructor(
    private readonly context: Tone.BaseContext,
    private readonly type: OscillatorType,
    /** Connected to the native node's frequency (summed) and detune, and from its output. */
    private readonly wiring: { frequency: AudioNode[]; detune: AudioNode; output: AudioNode | AudioParam },
  ) {}

  start(time = 0): this {
    if (this.node && time < this.stopAt) {
      // Running then: Tone keeps the oscillator (and its phase) and cancels its
      // stop (decided by the schedule alone, as Tone's state timeline does, so
      // a render sounds the same however far it had rendered): its native stop
      // moves out of reach (a native stop can be replaced, not cancelled).
      if (this.stopAt !== Infinity) this.node.stop(NEVER);
      this.stopAt = Infinity;
      return this;
    }
    this.retire();
    const node = this.context.createOscillator();
    node.type = this.type;
    node.frequency.value = 0;
    node.detune.value = 0;
    for (const f of this.wiring.frequency) f.connect(node.frequency);
    this.wiring.detune.connect(node.detune);
    node.connect(this.wiring.output as AudioNode);
    node.start(time);
    this.node = node;
    this.stopAt = Infinity;
    return this;
  }

  /**
   * Takes the stopped nodes out of the graph once the audio has been rendered
   * past their stop: node-web-audio-api renders a connected node for as long
   * as its wrapper lives (see src/engine/audio/platform/tone.ts), and its
   * offline contexts fire no 'ended' while rendering.
   */
  private retire(): void {
    if (this.node) this.retired.push({ node: this.node, stopAt: this.stopAt });
    this.node = undefined;
    const rendered = this.rendered();
    this.retired = this.retired.filter(({ node, stopAt }) => {
      if (stopAt > rendered) return true;
      this.unwire(node);
      return false;
    });
  }

  /** How far the native context has rendered (a Tone offline clock may be ahead of it). */
  private rendered(): number {
    return (this.context.rawContext as unknown as BaseAudioContext).currentTime;
  }

  private unwire(node: OscillatorNode): void {
    for (const f of this.wiring.frequency) f.disconnect(node.frequency);
    this.wiring.detune.disconnect(node.detune);
    node.disconnect();
  }

  stop(time = 0): this {
    // Already stopped by then: nothing to do. A later stop() on an ended
    // node-web-audio-api oscillator starts it sounding again until then
    // (measured: start(0), stop(0.1), then at 0.2 stop(0.4) sounds from 0.2 to 0.4).
    if (!this.node || this.stopAt <= time) return this;
    this.node.stop(time);
    this.stopAt = time;
    return this;
  }

  dispose(): void {
    this.retire();
    for (const { node } of this.retired) {
      stopQuietly(node);
      this.unwire(node);
    }
    this.retired = [];
  }
}

/** What a lean synth takes: the options voices.ts instrumentFor gives Tone.Synth, Tone.FMSynth or Tone.AMSynth. */
export interface LeanSynthOptions {
  context: Tone.BaseContext;
  volume?: number;
  detune?: number;
  /** FM and AM only. */
  harmonicity?: number;
  /** FM only. */
  modulationIndex?: number;
  oscillator?: { type?: OscillatorType };
  envelope?: Partial<LeanEnvelopeOptions>;
}

const dbToGain = (db: number) => Math.pow(10, db / 20);

/** Tone.Oscillator's default frequency: a Tone.Synth's (and MembraneSynth's, MonoSynth's) before its first note. */
const TONE_OSCILLATOR_FREQUENCY = 440;

/**
 * Tone's Monophonic with portamento 0, as its Synths play it: a note's
 * frequency and the detune (ConstantSources feeding every oscillator), and
 * envelope/oscillator pairs started and released together, each envelope on
 * the gain of the node it gates ({@link pair}).
 */
abstract class LeanMonophonic {
  /** Detune in cents (every oscillator), an AudioParam for the voice's ramps. */
  readonly detune: AudioParam;
  /** For the voice pool to start and keep running (src/engine/audio/platform/tone.ts instrumentOscillators). */
  readonly oscillators: LeanOscillator[] = [];
  protected readonly frequency: ConstantSourceNode;
  protected readonly detuneSource: ConstantSourceNode;
  protected readonly nodes: AudioNode[] = [];
  private readonly pairs: Array<[LeanEnvelope, LeanOscillator]> = [];
  /** Envelopes that gate no oscillator (MonoSynth's filter envelope): attack at velocity 1 with each note, release with it. */
  private readonly followers: LeanEnvelope[] = [];
  /** ConstantSources besides the note's frequency and detune, stopped at dispose. */
  protected readonly sources: ConstantSourceNode[] = [];
  private readonly params: Tone.Param[] = [];
  /** What the instrument connects from. */
  protected readonly output: GainNode;

  /**
   * `frequency`: before the first note, what Tone's instrument holds (its
   * oscillator's 440 Hz for the Synth family, a Signal at 0 for
   * ModulationSynth): an oscillator kept running plays it unheard, but a
   * filter after it (MonoSynth) carries its state into the first note.
   */
  constructor(protected readonly ctx: Tone.BaseContext, detune: number, frequency = 0) {
    this.frequency = ctx.createConstantSource();
    this.frequency.offset.value = frequency;
    this.detuneSource = ctx.createConstantSource();
    this.detuneSource.offset.value = detune;
    this.detune = this.detuneSource.offset;
    this.output = this.gain(0);
    this.frequency.start(0);
    this.detuneSource.start(0);
  }

  /** A GainNode at `value`, disconnected at dispose. */
  protected gain(value: number): GainNode {
    const g = this.ctx.createGain();
    g.gain.value = value;
    this.nodes.push(g);
    return g;
  }

  /**
   * An oscillator of `type` and the envelope that gates it, written on `gate`
   * (the gain it plays through) with its values × `scale`.
   */
  protected pair(type: OscillatorType, wiring: ConstructorParameters<typeof LeanOscillator>[2], gate: AudioParam, scale: number, envelope: LeanEnvelopeOptions): LeanOscillator {
    const osc = new LeanOscillator(this.ctx, type, wiring);
    const param = new ScaledParam(this.ctx, gate, scale);
    this.params.push(param);
    this.oscillators.push(osc);
    this.pairs.push([new LeanEnvelope(param, envelope, 1 / this.ctx.sampleRate), osc]);
    return osc;
  }

  /** An envelope written on `param` (values × `scale`) that follows the notes without gating an oscillator. */
  protected follower(param: AudioParam, scale: number, envelope: LeanEnvelopeOptions): void {
    const p = new ScaledParam(this.ctx, param, scale);
    this.params.push(p);
    this.followers.push(new LeanEnvelope(p, envelope, 1 / this.ctx.sampleRate));
  }

  /** Tone's Instrument.triggerAttackRelease: attack at `time`, release `duration` later. */
  triggerAttackRelease(frequency: number, duration: number, time: number, velocity = 1): this {
    this.triggerAttack(frequency, time, velocity);
    this.triggerRelease(time + duration);
    return this;
  }

  /** Tone's Monophonic.triggerAttack and Synth._triggerEnvelopeAttack (portamento 0: the note's frequency is set at `time`). */
  triggerAttack(frequency: number, time: number, velocity = 1): this {
    for (const [env, osc] of this.pairs) {
      env.triggerAttack(time, velocity);
      osc.start(time);
      // Tone's Synth: with no sustain the oscillator stops after the decay.
      if (env.o.sustain === 0) osc.stop(time + env.o.attack + env.o.decay);
    }
    for (const env of this.followers) env.triggerAttack(time, 1);
    this.setNote(frequency, time);
    return this;
  }

  /** Tone's Monophonic.setNote with portamento 0: the note's frequency from `time`. */
  protected setNote(frequency: number, time: number): void {
    this.frequency.offset.setValueAtTime(frequency, time);
  }

  /** Tone's Synth._triggerEnvelopeRelease, for each pair. */
  triggerRelease(time: number): this {
    for (const [env, osc] of this.pairs) {
      env.triggerRelease(time);
      osc.stop(time + env.o.release);
    }
    for (const env of this.followers) env.triggerRelease(time);
    return this;
  }

  connect(destination: AudioNode): this {
    this.output.connect(destination);
    return this;
  }

  dispose(): this {
    for (const osc of this.oscillators) osc.dispose();
    stopQuietly(this.frequency, this.detuneSource, ...this.sources);
    for (const node of [this.frequency, this.detuneSource, ...this.sources, ...this.nodes]) node.disconnect();
    for (const p of this.params) p.dispose();
    return this;
  }
}

/** Tone.Synth in native nodes: one oscillator through its envelope's gain (× volume). Also `synth: pluck`. */
export class LeanSynth extends LeanMonophonic {
  /** Tone.Synth's defaults. */
  static getDefaults() {
    return { volume: 0, detune: 0, portamento: 0, oscillator: { type: 'triangle' as OscillatorType }, envelope: { attack: 0.005, decay: 0.1, sustain: 0.3, release: 1 } };
  }

  constructor(options: LeanSynthOptions) {
    // A subclass's defaults (LeanMembraneSynth's) where it has its own.
    const d = (new.target as typeof LeanSynth).getDefaults();
    super(options.context, options.detune ?? d.detune, TONE_OSCILLATOR_FREQUENCY);
    this.pair(options.oscillator?.type ?? d.oscillator.type, { frequency: [this.frequency], detune: this.detuneSource, output: this.output }, this.output.gain, dbToGain(options.volume ?? d.volume), { ...d.envelope, ...options.envelope });
  }
}

/**
 * Tone.MembraneSynth in native nodes (`synth: membrane`): Tone.Synth whose
 * note starts `octaves` above its pitch and falls to it exponentially over
 * `pitchDecay`, with an exponential attack (Tone.MembraneSynth.setNote and
 * its defaults).
 */
export class LeanMembraneSynth extends LeanSynth {
  /** Tone.MembraneSynth's defaults (Tone 15.5: octaves 8, not the 10 its docs say). */
  static override getDefaults() {
    return {
      volume: 0,
      detune: 0,
      portamento: 0,
      octaves: 8,
      pitchDecay: 0.05,
      oscillator: { type: 'sine' as OscillatorType },
      envelope: { attack: 0.001, attackCurve: 'exponential' as const, decay: 0.4, sustain: 0.01, release: 1.4 },
    };
  }

  private readonly octaves: number;
  private readonly pitchDecay: number;

  constructor(options: LeanSynthOptions & { octaves?: number; pitchDecay?: number }) {
    super(options);
    const d = LeanMembraneSynth.getDefaults();
    this.octaves = options.octaves ?? d.octaves;
    this.pitchDecay = options.pitchDecay ?? d.pitchDecay;
  }

  protected override setNote(frequency: number, time: number): void {
    const offset = this.frequency.offset;
    offset.setValueAtTime(frequency * Math.pow(2, this.octaves), time);
    offset.exponentialRampToValueAtTime(frequency, time + this.pitchDecay);
  }
}

/**
 * Tone.MonoSynth in native nodes (`synth: mono`): an oscillator through a
 * 12 dB/octave lowpass whose cutoff follows its own envelope (Tone's
 * FrequencyEnvelope: base + envelope^exponent × (base × 2^octaves − base),
 * the power a WaveShaper there, here the envelope times itself, exponent 2
 * being the only one a patch gets), then the amplitude envelope (× volume):
 *
 *     oscillator ─► lowpass (Q 1) ─► ×(envelope · volume) ─► output
 *     filter envelope ─► ×itself ─► ×(max − min) ─► lowpass.frequency (at min)
 *
 * 8 native nodes where Tone's makes 36. What it stands for: Tone.js 15.5
 * instrument/MonoSynth.js, component/envelope/FrequencyEnvelope.js,
 * component/filter/Filter.js, signal/Pow.js, signal/Scale.js.
 */
export class LeanMonoSynth extends LeanMonophonic {
  /** Tone.MonoSynth's defaults. */
  static getDefaults() {
    return {
      volume: 0,
      detune: 0,
      portamento: 0,
      oscillator: { type: 'sawtooth' as OscillatorType },
      envelope: { attack: 0.005, decay: 0.1, sustain: 0.9, release: 1 },
      filter: { Q: 1, type: 'lowpass' as BiquadFilterType },
      filterEnvelope: { attack: 0.6, decay: 0.2, sustain: 0.5, release: 2, baseFrequency: 200, octaves: 3 },
    };
  }

  constructor(options: LeanSynthOptions) {
    const d = LeanMonoSynth.getDefaults();
    super(options.context, options.detune ?? d.detune, TONE_OSCILLATOR_FREQUENCY);
    const ctx = options.context;
    const { baseFrequency, octaves, ...filterEnvelope } = d.filterEnvelope;
    const filter = ctx.createBiquadFilter();
    filter.type = d.filter.type;
    filter.Q.value = d.filter.Q;
    filter.frequency.value = baseFrequency;
    filter.connect(this.output);
    this.nodes.push(filter);
    const envelope = ctx.createConstantSource();
    envelope.offset.value = 0;
    envelope.start(0);
    this.sources.push(envelope);
    const squared = this.gain(0);
    envelope.connect(squared);
    envelope.connect(squared.gain);
    squared.connect(this.gain(baseFrequency * Math.pow(2, octaves) - baseFrequency)).connect(filter.frequency);
    this.follower(envelope.offset, 1, filterEnvelope);
    this.pair(options.oscillator?.type ?? d.oscillator.type, { frequency: [this.frequency], detune: this.detuneSource, output: filter }, this.output.gain, dbToGain(options.volume ?? d.volume), { ...d.envelope, ...options.envelope });
  }
}

/** Tone's ModulationSynth defaults (envelopes, a square modulator), as its getDefaults gives them. */
const MODULATION_DEFAULTS = {
  volume: 0,
  detune: 0,
  portamento: 0,
  harmonicity: 3,
  oscillator: { type: 'sine' as OscillatorType },
  modulation: { type: 'square' as OscillatorType },
  envelope: { attack: 0.01, decay: 0.01, sustain: 1, release: 0.5 },
  modulationEnvelope: { attack: 0.5, decay: 0, sustain: 1, release: 0.5 },
};

/**
 * Tone's ModulationSynth (what FMSynth and AMSynth share): a carrier and a
 * modulator, each a Tone Synth at −10 dB with its own envelope, the note's
 * frequency to both (× harmonicity to the modulator), detune to both. The
 * subclass wires the modulator, through `modulationAmp` (its envelope's
 * gain), into the carrier.
 */
abstract class LeanModulationSynth extends LeanMonophonic {
  /** Modulator to carrier frequency ratio. */
  readonly harmonicity: AudioParam;
  protected readonly modulationAmp: GainNode;
  private readonly harmonicityNode: GainNode;

  constructor(options: LeanSynthOptions) {
    super(options.context, options.detune ?? MODULATION_DEFAULTS.detune);
    this.harmonicityNode = this.gain(options.harmonicity ?? MODULATION_DEFAULTS.harmonicity);
    this.harmonicity = this.harmonicityNode.gain;
    this.frequency.connect(this.harmonicityNode);
    this.modulationAmp = this.gain(0);
  }

  /**
   * The carrier (its frequency the sum of `carrierFrequency`, played into
   * `carrierOutput`, which must reach the output) and the modulator (into
   * `modulationAmp`, its envelope's values × `modulationScale`), as Tone makes
   * them: each Synth inside at −10 dB, the instrument's volume on top.
   */
  protected carrierAndModulator(options: LeanSynthOptions, carrierFrequency: AudioNode[], carrierOutput: AudioNode, modulationScale: number): void {
    const d = MODULATION_DEFAULTS;
    this.pair(options.oscillator?.type ?? d.oscillator.type, { frequency: carrierFrequency, detune: this.detuneSource, output: carrierOutput }, this.output.gain, dbToGain(-10 + (options.volume ?? d.volume)), { ...d.envelope, ...options.envelope });
    this.pair(d.modulation.type, { frequency: [this.harmonicityNode], detune: this.detuneSource, output: this.modulationAmp }, this.modulationAmp.gain, dbToGain(-10) * modulationScale, d.modulationEnvelope);
  }
}

/** Tone.FMSynth in native nodes (see the module comment). Plays like a Tone instrument for the voice pool. */
export class LeanFMSynth extends LeanModulationSynth {
  /** Tone.FMSynth's defaults (ModulationSynth's, and a modulation index of 10). */
  static getDefaults() {
    return { ...MODULATION_DEFAULTS, modulationIndex: 10 };
  }

  /** Modulation depth (× the note's frequency). */
  readonly modulationIndex: AudioParam;

  /** frequency × modulationIndex × modulator → the carrier's frequency, summed with the note's. */
  constructor(options: LeanSynthOptions) {
    super(options);
    const modulationIndex = this.gain(options.modulationIndex ?? LeanFMSynth.getDefaults().modulationIndex);
    this.modulationIndex = modulationIndex.gain;
    const modulationNode = this.gain(0);
    this.frequency.connect(modulationIndex).connect(modulationNode);
    this.modulationAmp.connect(modulationNode.gain);
    this.carrierAndModulator(options, [this.frequency, modulationNode], this.output, 1);
  }
}

/**
 * Tone.AMSynth in native nodes: the carrier through a gain of
 * (modulator + 1) / 2 (Tone's AudioToGain, a WaveShaper over [−1, 1] → [0, 1],
 * which is linear: here a gain at 0.5 plus the modulator at half its level).
 */
export class LeanAMSynth extends LeanModulationSynth {
  /** Tone.AMSynth's defaults (ModulationSynth's). */
  static getDefaults() {
    return { ...MODULATION_DEFAULTS };
  }

  constructor(options: LeanSynthOptions) {
    super(options);
    const modulationNode = this.gain(0.5);
    this.modulationAmp.connect(modulationNode.gain);
    modulationNode.connect(this.output);
    this.carrierAndModulator(options, [this.frequency], modulationNode, 0.5);
  }
}
