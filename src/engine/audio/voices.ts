/**
 * Voices: a fixed pool of Tone.js instruments per patch voice (created once,
 * reused note after note), then one filter, level, scene gain, panner and a
 * send per bus. Parameter changes are ramps through {@link rampTo}.
 */
import * as Tone from 'tone';
import type { VoiceSpec } from '../core/patchSchema.ts';
import { mulberry32 } from '../core/random.ts';
import { clampTo, VOICE_PARAMS, type VoiceParam } from '../core/targets.ts';
import { midiToHz, noteToMidi } from '../core/theory.ts';
import { dbToGain, gainToDb } from '../core/units.ts';
import { follow, GhostParam, rampTo, setAt, valueAt, type RampableParam } from './params.ts';
import { LeanAMSynth, LeanFMSynth, LeanMembraneSynth, LeanMonoSynth, LeanSynth } from './leanSynths.ts';
import { instrumentOscillators } from './platform/tone.ts';
import { LeanMetal } from './leanMetal.ts';
import { stopQuietly } from './stop.ts';

/** Resolves a sample path from a patch to a decoded buffer (the host loads files). */
export type SampleLookup = (path: string) => AudioBuffer | undefined;

type PitchedInstrument = Tone.Synth | Tone.FMSynth | Tone.AMSynth | Tone.MonoSynth | Tone.MembraneSynth | Tone.MetalSynth | LeanMetal | LeanFMSynth | LeanAMSynth | LeanSynth | LeanMembraneSynth | LeanMonoSynth;

/** Drops undefined values, so Tone's option merge keeps its defaults. */
function defined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

type InstrumentClass = new (options: object) => PitchedInstrument;

/**
 * The instrument class and options for a pitched voice of a patch. Shared by
 * the voice pool and by the plain-Tone baseline of the benchmarks, so both
 * play the same instrument. `synth` and `pluck`, `fm` and `am` are
 * {@link LeanSynth}, {@link LeanFMSynth} and {@link LeanAMSynth} (Tone's sound
 * in a fifth of its native nodes: src/engine/audio/leanSynths.ts) unless the
 * oscillator is a fat one, and
 * `metal` is {@link LeanMetal}; `plainTone` asks for Tone's own classes (the
 * baselines, and the tests that compare the two).
 */
export function instrumentFor(spec: VoiceSpec, context: Tone.BaseContext, plainTone = false): { Class: InstrumentClass; options: object } {
  const envelope = spec.envelope ? defined(spec.envelope) : undefined;
  const common = defined({ context, volume: 0, detune: spec.detune, envelope });
  const osc = spec.oscillator ? { oscillator: { type: spec.oscillator } } : {};
  const mod = defined({ harmonicity: spec.harmonicity, modulationIndex: spec.modulationIndex });
  // Tone's own instrument: asked for, or a fat oscillator (several detuned ones), which the lean ones do not make.
  const tone = plainTone || !!spec.oscillator?.startsWith('fat');
  switch (spec.synth) {
    case 'fm':
      return { Class: tone ? Tone.FMSynth : (LeanFMSynth as unknown as InstrumentClass), options: { ...common, ...osc, ...mod } };
    case 'am':
      return { Class: tone ? Tone.AMSynth : (LeanAMSynth as unknown as InstrumentClass), options: { ...common, ...osc, ...defined({ harmonicity: spec.harmonicity }) } };
    case 'mono':
      return { Class: tone ? Tone.MonoSynth : (LeanMonoSynth as unknown as InstrumentClass), options: { ...common, ...osc } };
    case 'membrane':
      return { Class: plainTone ? Tone.MembraneSynth : (LeanMembraneSynth as unknown as InstrumentClass), options: common };
    case 'metal':
      // Tone.MetalSynth's sound from 22 native nodes instead of 187 (see leanMetal.ts); it takes Tone.MetalSynth's options.
      return { Class: plainTone ? Tone.MetalSynth : (LeanMetal as InstrumentClass), options: defined({ context, volume: 0, envelope, ...mod }) };
    default:
      return { Class: tone ? Tone.Synth : (LeanSynth as unknown as InstrumentClass), options: { ...common, ...osc } };
  }
}

/**
 * Keeps an instrument's oscillators running for its whole life; the envelope
 * alone gates the sound. Tone restarts an oscillator per note and stops it after
 * the release, which creates a new native node for every note: measured here,
 * per-note nodes made an 80 s render cost 2.5x more per second than a 20 s one.
 * A pool of always-running voices costs the same per second however long it plays.
 */
function makePersistent(inst: PitchedInstrument, time: number): void {
  for (const osc of instrumentOscillators(inst)) {
    osc.start(time);
    // Notes must neither restart nor stop it; dispose() stops the native node.
    osc.start = () => osc;
    osc.stop = () => osc;
  }
}

/** How a voice keeps time in a render cut into segments (see src/engine/node/render.ts). */
export interface VoiceTiming {
  /**
   * Engine time of the native context's time 0 (default 0): notes that start
   * before it are not played (they take their pool slots all the same), and
   * the noise loop starts where it would be by then.
   */
  origin?: number;
  /**
   * Oscillators started per note (Tone's own way) rather than kept running
   * ({@link makePersistent}): a note then sounds the same whenever the context
   * began, since its oscillator's phase starts with it.
   */
  perNote?: boolean;
  /**
   * Seconds an instrument of a voice's pool may sit unused before it is
   * disposed (undefined: kept for the voice's life, as renders do). Live play
   * sets it: a pool grows to the most notes ever sounding at once, and every
   * instrument in it costs render time while it idles (measured here on one
   * core: 8 idle Tone.MetalSynths 40 %, kept running 72 %; 8 AMSynths 13 %),
   * so a voice that played a chord once, or an alarm that sounded once, would
   * cost that for the rest of a weeks-long show. With it the pool reuses the
   * instrument freed last, so the others fall idle and are reclaimed; a note
   * that finds no live instrument free makes one again in a reclaimed slot.
   */
  reclaimAfter?: number;
}

const noiseBuffers = new WeakMap<object, Map<string, AudioBuffer>>();

/**
 * Two seconds of seeded noise (white; pink by Paul Kellet's economy filter;
 * brown by leaky integration), shared by every noise voice of a context.
 */
function noiseBuffer(raw: BaseAudioContext, colour: 'white' | 'pink' | 'brown'): AudioBuffer {
  let perCtx = noiseBuffers.get(raw);
  if (!perCtx) noiseBuffers.set(raw, (perCtx = new Map()));
  const cached = perCtx.get(colour);
  if (cached) return cached;
  const length = raw.sampleRate * 2;
  const buffer = raw.createBuffer(2, length, raw.sampleRate);
  for (let ch = 0; ch < 2; ch++) {
    const rand = mulberry32(0x5eed + ch);
    const d = buffer.getChannelData(ch);
    let b0 = 0, b1 = 0, b2 = 0, last = 0;
    for (let i = 0; i < length; i++) {
      const w = rand() * 2 - 1;
      if (colour === 'white') d[i] = w * 0.5;
      else if (colour === 'pink') {
        b0 = 0.99765 * b0 + w * 0.099046;
        b1 = 0.963 * b1 + w * 0.2965164;
        b2 = 0.57 * b2 + w * 1.0526913;
        d[i] = (b0 + b1 + b2 + w * 0.1848) * 0.11;
      } else {
        last = (last + 0.02 * w) / 1.02;
        d[i] = last * 3.5;
      }
    }
    // Every colour at the same loudness: RMS 0.25 (−12 dBFS).
    let sum = 0;
    for (let i = 0; i < length; i++) sum += d[i]! * d[i]!;
    const gain = 0.25 / Math.sqrt(sum / length || 1);
    for (let i = 0; i < length; i++) d[i] = d[i]! * gain;
  }
  perCtx.set(colour, buffer);
  return buffer;
}

/** An instrument's Tone signal for a parameter, if it has one (harmonicity: FM, AM; modulationIndex: FM; metal takes both only as fixed numbers, see leanMetal.ts). */
function instrumentParam(inst: PitchedInstrument, param: 'detune' | 'harmonicity' | 'modulationIndex'): RampableParam | undefined {
  const p = (inst as unknown as Record<string, unknown>)[param];
  return p && typeof p === 'object' && 'setTargetAtTime' in p ? (p as RampableParam) : undefined;
}

/** Per-voice counters. */
export interface VoiceStats {
  notes: number;
  steals: number;
}

/** Instrument parameters a mapping can ramp, on every instrument of the pool. */
type InstrumentParam = 'detune' | 'harmonicity' | 'modulationIndex';

/**
 * One patch voice: its instrument pool and its channel strip.
 *
 * The pool grows on demand up to `poly`: an instrument is made when a note finds
 * every one busy (as Tone's PolySynth does), never more than `poly`, and kept
 * for the voice's life (in live play, until it has been unused for
 * VoiceTiming.reclaimAfter seconds). Each instrument keeps its oscillators running, so an
 * instrument made ahead of need costs render time for nothing: a carbon-pulse
 * graph had 482 native nodes, 163 of them an alarm that sounds once a piece.
 * A voice's mapped instrument parameters are kept on a ghost (see
 * {@link GhostParam}) that a new instrument follows.
 */
export class VoiceGroup {
  readonly stats: VoiceStats = { notes: 0, steals: 0 };
  /** Pitched voices' instruments by slot; undefined: reclaimed while idle (see VoiceTiming.reclaimAfter), made again when a note needs the slot. */
  private readonly pool: Array<PitchedInstrument | undefined> = [];
  /** Makes a pitched voice's instrument, starting at `time`. */
  private readonly make?: (time: number) => PitchedInstrument;
  private readonly ghosts = new Map<InstrumentParam, GhostParam>();
  /** The ghost of an instrument parameter (pitched voices only). */
  private readonly ghostFor?: (param: InstrumentParam) => GhostParam;
  /** An instrument parameter's value before any ramp (pitched voices only). */
  private readonly instrumentInitial?: (param: InstrumentParam) => number;
  private readonly envelopes: Tone.AmplitudeEnvelope[] = [];
  private readonly grow: (time: number) => void;
  private sampler?: Tone.Sampler;
  private noiseSource?: AudioBufferSourceNode;
  private readonly busyUntil: number[] = [];
  private readonly filter: BiquadFilterNode;
  private readonly level: GainNode;
  private readonly sceneGain: GainNode;
  private readonly panner: StereoPannerNode;
  private readonly sends = new Map<string, GainNode>();
  private readonly release: number;
  /** Live notes held (MIDI input): token → pool slot (−1 for the sampler) and note. */
  private readonly held = new Map<number, { slot: number; midi: number }>();
  /** The token of the live note holding each slot (0: none). */
  private readonly slotHold: number[] = [];
  private holdSeq = 0;

  constructor(
    readonly name: string,
    readonly spec: VoiceSpec,
    private readonly context: Tone.BaseContext,
    output: AudioNode,
    busInputs: ReadonlyMap<string, AudioNode>,
    samples: SampleLookup,
    private readonly timing: VoiceTiming = {},
  ) {
    const raw = context.rawContext as unknown as BaseAudioContext;
    this.filter = raw.createBiquadFilter();
    this.filter.type = spec.filter?.type ?? 'lowpass';
    setAt(this.filter.frequency, spec.filter?.frequency ?? 18000, 0, 20, 20000);
    setAt(this.filter.Q, spec.filter?.q ?? 0.7, 0, 0.1, 30);
    this.level = raw.createGain();
    setAt(this.level.gain, dbToGain(spec.volume), 0, 0, 16);
    this.sceneGain = raw.createGain();
    this.panner = raw.createStereoPanner();
    setAt(this.panner.pan, spec.pan, 0, -1, 1);
    this.filter.connect(this.level).connect(this.sceneGain).connect(this.panner).connect(output);
    for (const [bus, input] of busInputs) {
      const g = raw.createGain();
      setAt(g.gain, spec.send[bus] ?? 0, 0, 0, 1);
      this.panner.connect(g).connect(input);
      this.sends.set(bus, g);
    }
    this.release = spec.envelope?.release ?? 1;

    if (spec.synth === 'sampler') {
      const urls: Record<string, Tone.ToneAudioBuffer> = {};
      for (const [note, path] of Object.entries(spec.samples ?? {})) {
        const buf = samples(path);
        if (!buf) throw new Error(`voice "${name}": sample "${path}" is not loaded`);
        urls[note] = new Tone.ToneAudioBuffer(buf as unknown as AudioBuffer);
      }
      this.sampler = new Tone.Sampler({ context, urls, release: spec.envelope?.release ?? 0.2, attack: spec.envelope?.attack ?? 0 } as Partial<Tone.SamplerOptions>);
      this.sampler.connect(this.filter);
    } else if (spec.synth === 'noise') {
      const src = raw.createBufferSource();
      src.buffer = noiseBuffer(raw, spec.noise ?? 'white');
      src.loop = true;
      const bus = raw.createGain();
      src.connect(bus);
      // The loop runs from engine time 0: from a later origin, where it would be by then.
      const origin = timing.origin ?? 0;
      const frames = src.buffer.length;
      src.start(origin, (Math.round(origin * raw.sampleRate) % frames) / raw.sampleRate);
      this.noiseSource = src;
      this.grow = () => {
        const env = new Tone.AmplitudeEnvelope({ context, ...defined(spec.envelope ?? {}) });
        Tone.connect(bus, env);
        env.connect(this.filter);
        this.envelopes.push(env);
        this.busyUntil.push(-Infinity);
      };
    } else {
      const { Class, options } = instrumentFor(spec, context);
      const defaults = { ...(Class as unknown as { getDefaults(): Record<string, unknown> }).getDefaults(), ...options } as Record<string, unknown>;
      const initial = (param: InstrumentParam) => (typeof defaults[param] === 'number' ? defaults[param] : 0);
      this.instrumentInitial = initial;
      this.ghostFor = (param) => {
        let g = this.ghosts.get(param);
        if (!g) this.ghosts.set(param, (g = new GhostParam(initial(param))));
        return g;
      };
      this.make = (time) => {
        const inst = new Class(options);
        if (timing.perNote !== true) makePersistent(inst, time);
        for (const [param, ghost] of this.ghosts) {
          const p = instrumentParam(inst, param);
          if (p) follow(p, ghost, time);
        }
        inst.connect(this.filter);
        return inst;
      };
      this.grow = (time) => {
        this.pool.push(this.make!(time));
        this.busyUntil.push(-Infinity);
      };
    }
    this.grow ??= () => undefined;
  }

  /** Pool size now (instruments, or envelopes of a noise voice): grows with need up to `poly`. */
  get size(): number {
    return this.busyUntil.length;
  }

  /**
   * Picks the pool slot free at `time`; with none free, a new instrument while
   * the pool is under `poly`, else steals the one that frees soonest.
   */
  private slot(time: number): number {
    if (this.timing.reclaimAfter !== undefined && this.make) {
      // Live: the live instrument freed last (warm, its tail over), so the
      // others stay unused and are reclaimed; else a reclaimed slot, made again.
      let warm = -1;
      let reclaimed = -1;
      for (let i = 0; i < this.busyUntil.length; i++) {
        if (this.busyUntil[i]! > time) continue;
        if (this.pool[i] === undefined) reclaimed = reclaimed < 0 ? i : reclaimed;
        else if (warm < 0 || this.busyUntil[i]! > this.busyUntil[warm]!) warm = i;
      }
      if (warm >= 0) return warm;
      if (reclaimed >= 0) {
        this.pool[reclaimed] = this.make(time);
        return reclaimed;
      }
    }
    let best = 0;
    for (let i = 1; i < this.busyUntil.length; i++) if (this.busyUntil[i]! < this.busyUntil[best]!) best = i;
    if (best < this.busyUntil.length && this.busyUntil[best]! <= time) return best;
    if (this.busyUntil.length < this.spec.poly) {
      this.grow(time);
      return this.busyUntil.length - 1;
    }
    this.stats.steals++;
    return best;
  }

  /** Plays MIDI notes at `time` for `duration` seconds with `velocity` 0…1 (none that start before the origin). */
  play(notes: readonly number[], time: number, duration: number, velocity: number): void {
    if (!Number.isFinite(time) || !(duration > 0) || !Number.isFinite(velocity)) return;
    // Before the origin a note is not played, but takes its pool slot as it would
    // have: which slot a later note takes (or steals) depends on every note before.
    const silent = time < (this.timing.origin ?? 0);
    const vel = Math.max(0, Math.min(1, velocity));
    if (this.sampler) {
      if (silent) return;
      const hz = notes.filter(Number.isFinite).map(midiToHz);
      if (hz.length) this.sampler.triggerAttackRelease(hz, duration, time, vel);
      this.stats.notes += hz.length;
      return;
    }
    for (const midi of notes) {
      if (!Number.isFinite(midi)) continue;
      const i = this.slot(time);
      this.unhold(i);
      this.busyUntil[i] = time + duration + this.release;
      if (silent) continue;
      // Per note, a stolen slot's oscillators start again too: Tone would let them
      // run on (its restart cancels the stop), with a phase from notes long gone.
      if (this.timing.perNote && !this.envelopes.length) for (const osc of instrumentOscillators(this.pool[i]!)) osc.stop(time);
      if (this.envelopes.length) this.envelopes[i]!.triggerAttackRelease(duration, time, vel);
      else this.pool[i]!.triggerAttackRelease(midiToHz(midi), duration, time, vel);
      this.stats.notes++;
    }
  }

  /** Plays a one-shot (a note name or the given MIDI note). */
  oneShot(note: string | number, time: number, velocity = 0.9): void {
    const midi = typeof note === 'number' ? note : noteToMidi(note);
    if (midi !== undefined) this.play([midi], time, 0.5, velocity);
  }

  /**
   * Starts a live note (MIDI input) at `time` and holds it until {@link releaseHeld}.
   * Returns its token (0 when refused). A held note takes a pool slot like any
   * other; when the pool is full the one that frees soonest is stolen, a held
   * one last, and a stolen note's later release changes nothing.
   */
  attackHeld(midi: number, time: number, velocity: number): number {
    if (!Number.isFinite(midi) || !Number.isFinite(time) || !Number.isFinite(velocity)) return 0;
    const vel = Math.max(0, Math.min(1, velocity));
    const token = ++this.holdSeq;
    if (this.sampler) {
      this.sampler.triggerAttack(midiToHz(midi), time, vel);
      this.held.set(token, { slot: -1, midi });
    } else {
      const i = this.slot(time);
      this.unhold(i);
      this.busyUntil[i] = Infinity;
      this.slotHold[i] = token;
      if (this.envelopes.length) this.envelopes[i]!.triggerAttack(time, vel);
      else this.pool[i]!.triggerAttack(midiToHz(midi), time, vel);
      this.held.set(token, { slot: i, midi });
    }
    this.stats.notes++;
    return token;
  }

  /** Releases a live note at `time`. Returns false if it was already released or stolen. */
  releaseHeld(token: number, time: number): boolean {
    const h = this.held.get(token);
    if (!h || !Number.isFinite(time)) return false;
    this.held.delete(token);
    if (h.slot < 0) {
      this.sampler?.triggerRelease(midiToHz(h.midi), time);
      return true;
    }
    this.slotHold[h.slot] = 0;
    this.busyUntil[h.slot] = time + this.release;
    if (this.envelopes.length) this.envelopes[h.slot]!.triggerRelease(time);
    else this.pool[h.slot]!.triggerRelease(time);
    return true;
  }

  /**
   * Disposes the instruments unused since `now − reclaimAfter` (engine time;
   * none held by a live note, none with a note scheduled). Returns how many
   * (their native nodes leave the render graph once their wrappers are
   * collected: the engine asks for a collection when this is above 0).
   */
  reclaimIdle(now: number): number {
    const after = this.timing.reclaimAfter;
    if (after === undefined) return 0;
    let n = 0;
    for (let i = 0; i < this.pool.length; i++) {
      const inst = this.pool[i];
      if (!inst || this.slotHold[i] || this.busyUntil[i]! + after > now) continue;
      inst.dispose();
      this.pool[i] = undefined;
      n++;
    }
    return n;
  }

  /** Instruments alive in the pool now (reclaimed slots not counted). */
  get instruments(): number {
    return this.pool.filter((x) => x !== undefined).length + this.envelopes.length;
  }

  /** Live notes now held. */
  get heldCount(): number {
    return this.held.size;
  }

  /** A slot taken by another note: the live note in it (if any) is gone. */
  private unhold(slot: number): void {
    const token = this.slotHold[slot];
    if (token) {
      this.held.delete(token);
      this.slotHold[slot] = 0;
    }
  }

  /** Ramps a continuous voice parameter. Sequencer-side parameters (density …) are not handled here. */
  set(param: VoiceParam, value: number, time: number, tau: number): void {
    switch (param) {
      case 'volume':
        rampTo(this.level.gain, dbToGain(clampTo(VOICE_PARAMS.volume, value)), time, tau, 0, 16);
        break;
      case 'pan':
        rampTo(this.panner.pan, value, time, tau, ...VOICE_PARAMS.pan.limits);
        break;
      case 'filter.frequency':
        rampTo(this.filter.frequency, value, time, tau, ...VOICE_PARAMS['filter.frequency'].limits);
        break;
      case 'filter.q':
        rampTo(this.filter.Q, value, time, tau, ...VOICE_PARAMS['filter.q'].limits);
        break;
      case 'detune':
        this.setInstruments('detune', value, time, tau, ...VOICE_PARAMS.detune.limits);
        break;
      case 'harmonicity':
        this.setInstruments('harmonicity', value, time, tau, ...VOICE_PARAMS.harmonicity.limits);
        break;
      case 'modulationIndex':
        this.setInstruments('modulationIndex', value, time, tau, ...VOICE_PARAMS.modulationIndex.limits);
        break;
      default:
        break;
    }
  }

  /** Ramps a parameter on every instrument, and on its ghost for instruments made later. */
  private setInstruments(param: InstrumentParam, value: number, time: number, tau: number, min: number, max: number): void {
    if (!this.ghostFor) return;
    const ghost = this.ghostFor(param);
    // Instruments are made for notes now or later: older ramps are not needed.
    ghost.prune(this.context.currentTime);
    if (!rampTo(ghost, value, time, tau, min, max)) return;
    for (const inst of this.pool) {
      if (!inst) continue;
      const p = instrumentParam(inst, param);
      if (p) rampTo(p, value, time, tau, min, max);
    }
  }

  /**
   * Where a continuous parameter is at `time`, in its own units (volume in dB),
   * read from the ramps scheduled; undefined for sequencer-side parameters and
   * instrument parameters this voice's synth does not have. Changes nothing.
   */
  get(param: VoiceParam, time: number): number | undefined {
    switch (param) {
      case 'volume':
        return gainToDb(valueAt(this.level.gain, time));
      case 'pan':
        return valueAt(this.panner.pan, time);
      case 'filter.frequency':
        return valueAt(this.filter.frequency, time);
      case 'filter.q':
        return valueAt(this.filter.Q, time);
      case 'detune':
      case 'harmonicity':
      case 'modulationIndex': {
        if (!this.instrumentInitial) return undefined;
        const ghost = this.ghosts.get(param);
        return ghost ? valueAt(ghost, time) : this.instrumentInitial(param);
      }
      default:
        return undefined;
    }
  }

  /** The send level to a bus at `time` (0…1), or undefined for no such bus. */
  sendLevel(bus: string, time: number): number | undefined {
    const g = this.sends.get(bus);
    return g ? valueAt(g.gain, time) : undefined;
  }

  /** Ramps the send level to a bus. */
  setSend(bus: string, value: number, time: number, tau: number): void {
    const g = this.sends.get(bus);
    if (g) rampTo(g.gain, value, time, tau, 0, 1);
  }

  /** Crossfades the scene gain to `gain` over about `fadeSeconds`. */
  setSceneGain(gain: number, time: number, fadeSeconds: number): void {
    if (fadeSeconds <= 0) setAt(this.sceneGain.gain, gain, time, 0, 16);
    else rampTo(this.sceneGain.gain, gain, time, fadeSeconds / 3, 0, 16);
  }

  dispose(): void {
    for (const inst of this.pool) inst?.dispose();
    for (const env of this.envelopes) env.dispose();
    this.sampler?.dispose();
    if (this.noiseSource) {
      stopQuietly(this.noiseSource);
      this.noiseSource.disconnect();
    }
    this.filter.disconnect();
    this.level.disconnect();
    this.sceneGain.disconnect();
    this.panner.disconnect();
    for (const g of this.sends.values()) g.disconnect();
  }
}
