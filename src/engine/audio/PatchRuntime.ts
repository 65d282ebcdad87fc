/**
 * One patch playing: its sequencer, conditioners, mappings, voices and buses,
 * all behind one output gain so the engine can crossfade patches.
 */
import * as Tone from 'tone';
import { Conditioner, mapToRange, type ConditionSpec, type Curve } from '../core/conditioning.ts';
import type { MappingSpec, Patch, SignalSpec } from '../core/patchSchema.ts';
import { Sequencer, type BeatEvent, type NoteEvent } from '../core/sequencer.ts';
import { clampTo, GLOBAL_PARAMS, parseTarget, SEND_PARAM, targetDefaults, VOICE_PARAMS, type Target } from '../core/targets.ts';
import { noteToMidi, type ModeName } from '../core/theory.ts';
import type { VoiceParam } from '../core/targets.ts';
import { dbToGain } from '../core/units.ts';
import { Bus } from './buses.ts';
import { makeProbe, probeFault, type AudioFault } from './health.ts';
import type { MasterChain } from './master.ts';
import { rampTo, setAt } from './params.ts';
import { VoiceGroup, type SampleLookup, type VoiceTiming } from './voices.ts';
import { isPositioned, outputPlan, resolveLayout } from '../core/spatial.ts';
import { SpatialStrip, type SpatialPlan } from './spatial.ts';

/** Something the engine reports to its hosts (UI, OSC, MIDI, logs). */
export type EngineEvent =
  | ({ type: 'note' } & NoteEvent)
  | { type: 'scene'; scene: string; time: number }
  | { type: 'threshold'; signal: string; state: 'on' | 'off'; time: number }
  | ({ type: 'beat' } & BeatEvent)
  /** Panic (everything muted at once) or mute/unmute from a performer. */
  | { type: 'mute'; muted: boolean; panic: boolean; time: number }
  /** An external transport (MIDI clock in) stopped, started or moved the music (Engine.transport). */
  | { type: 'transport'; action: 'start' | 'continue' | 'stop'; time: number; step?: number }
  /** The engine found non-finite or runaway audio and rebuilt the parts holding it (Engine.checkAudio). */
  | { type: 'fault'; fault: AudioFault; rebuilt: string[]; time: number };

/** Minimum spacing of ramps on one audio parameter: updates in between wait and coalesce. */
export const CONTROL_PERIOD = 0.02;
const DEFAULT_GLIDE = 0.05;

interface ResolvedMapping {
  spec: MappingSpec;
  target: Target;
  range: [number, number];
  curve: Curve;
  tau: number;
  lastIndex: number;
  lastApplied: number;
  /** When this mapping last changed the scene or mode (for its `hold`). */
  lastChange: number;
  /** on/off: the scene the last threshold event asked for, until it is set. */
  wanted?: string;
  pending?: { value: number; time: number };
  /** A trigger from a signal without a threshold: one note per value that arrives. */
  event?: boolean;
}

interface SignalState {
  name: string;
  conditioner: Conditioner;
  mappings: ResolvedMapping[];
}

/** Options for building a runtime. */
export interface RuntimeOptions {
  context: Tone.BaseContext;
  master: MasterChain;
  samples: SampleLookup;
  /** Engine time at which the music starts. */
  startTime: number;
  seed?: number;
  onEvent?: (e: EngineEvent) => void;
  /** The voices' timing in a render cut into segments (see VoiceTiming). */
  timing?: VoiceTiming;
}

const RATE_UNIT_SECONDS = { s: 1, min: 60, h: 3600, d: 86400 } as const;

/** A patch's `signals.<name>` (and its stream's unit) in the Conditioner's resolved form. */
export function conditionSpec(s: SignalSpec, streamUnit: string | undefined): ConditionSpec {
  const range: ConditionSpec['range'] = Array.isArray(s.range)
    ? { fixed: [s.range[0], s.range[1]] }
    : s.range === 'auto'
      ? { autoWindowSeconds: Infinity }
      : { autoWindowSeconds: s.range.auto, ...(s.range.percentiles && { percentiles: s.range.percentiles }) };
  return {
    range,
    curve: s.curve,
    smoothSeconds: s.smooth,
    clamp: s.clamp,
    invert: s.invert,
    threshold: s.threshold,
    oneEuro: s.filter?.oneEuro,
    slewPerSecond: s.slew,
    outliers: s.outliers,
    rate: s.derive === 'rate' ? { perSeconds: RATE_UNIT_SECONDS[s.rateUnit ?? 's'] } : undefined,
    categories: s.categories,
    unit: streamUnit,
  };
}

/** A patch's whole graph and state. */
export class PatchRuntime {
  readonly output: GainNode;
  readonly sequencer: Sequencer;
  readonly voices = new Map<string, VoiceGroup>();
  readonly buses = new Map<string, Bus>();
  readonly signals = new Map<string, SignalState>();
  /** Latest raw value per stream. */
  readonly streamValues = new Map<string, number>();
  private readonly byStream = new Map<string, SignalState[]>();
  private readonly dirty = new Set<ResolvedMapping>();
  scene?: string;
  /** Updates refused (unknown stream or bad value). */
  rejected = 0;
  private active = true;
  /** Per voice: the gain its dry output goes through to `output`, and a probe on it (see health.ts). */
  private readonly strips = new Map<string, { out: GainNode; probe: AnalyserNode }>();
  /** The last value given to each voice parameter ("volume", "send.<bus>"…), by voice: a rebuilt voice starts from them. */
  private readonly voiceSettings = new Map<string, Map<string, number>>();
  private readonly busInputs: ReadonlyMap<string, AudioNode>;
  /** Positioned voices and buses, by name (a patch with an `output` section positions all). */
  readonly spatial = new Map<string, SpatialStrip>();
  /** How the patch's layout plays on this context's channels; undefined: plain stereo, no positions. */
  readonly spatialPlan?: SpatialPlan & { note?: string };

  constructor(
    readonly patch: Patch,
    private readonly opts: RuntimeOptions,
  ) {
    const { context } = opts;
    const raw = context.rawContext as unknown as BaseAudioContext;
    const seed = opts.seed ?? patch.seed;
    // Silent until the engine fades it in: a graph built mid-performance must not
    // be heard before its start time (its envelopes settle on their first notes).
    this.output = raw.createGain();
    setAt(this.output.gain, 0, 0);
    this.output.connect(opts.master.input);
    this.sequencer = new Sequencer(patch, opts.startTime, seed);

    // Positions: every voice and bus of a patch with an output section, or any with a position.
    if (isPositioned(patch)) {
      const layout = resolveLayout(patch.output);
      const plan = outputPlan(layout, opts.master.channels);
      this.spatialPlan = { layout, ...plan };
    }
    const place = (name: string, position: Patch['voices'][string]['position'], index: number): AudioNode => {
      if (!this.spatialPlan) return this.output;
      const strip = new SpatialStrip(raw, this.spatialPlan, position ?? (this.spatialPlan.layout.kind === 'line' ? 0.5 : 0), this.output, opts.startTime, seed + index * 104729);
      this.spatial.set(name, strip);
      return strip.input;
    };
    let busIndex = 0;
    for (const [name, spec] of Object.entries(patch.buses)) {
      const out = place(name, spec.position, 1000 + busIndex);
      this.buses.set(name, new Bus(name, spec, context, out, seed + ++busIndex * 7919, patch.tempo));
    }
    let voiceIndex = 0;
    this.busInputs = new Map([...this.buses].map(([n, b]) => [n, b.input as AudioNode]));
    for (const [name, spec] of Object.entries(patch.voices)) {
      const strip = { out: raw.createGain(), probe: makeProbe(raw, 1024) };
      strip.out.connect(place(name, spec.position, voiceIndex++));
      strip.out.connect(strip.probe);
      this.strips.set(name, strip);
      this.voiceSettings.set(name, new Map());
      this.voices.set(name, new VoiceGroup(name, spec, context, strip.out, this.busInputs, opts.samples, opts.timing));
    }

    for (const [name, spec] of Object.entries(patch.streams)) this.streamValues.set(name, spec.default);
    for (const [name, spec] of Object.entries(patch.signals)) {
      const state: SignalState = { name, conditioner: new Conditioner(conditionSpec(spec, patch.streams[spec.from]?.unit)), mappings: [] };
      this.signals.set(name, state);
      const list = this.byStream.get(spec.from) ?? [];
      list.push(state);
      this.byStream.set(spec.from, list);
    }
    const voiceNames = Object.keys(patch.voices);
    const busNames = Object.keys(patch.buses);
    for (const m of patch.mappings) {
      const target = parseTarget(m.to, voiceNames, busNames);
      if (typeof target === 'string') throw new Error(target); // validated by the schema already
      const d = targetDefaults(target);
      this.signals.get(m.from)!.mappings.push({
        spec: m,
        target,
        range: m.range ?? d?.range ?? [0, 1],
        curve: m.curve ?? d?.curve ?? 'lin',
        tau: m.glide ?? DEFAULT_GLIDE,
        lastIndex: -1,
        lastChange: -Infinity,
        lastApplied: -Infinity,
        event: target.kind === 'trigger' && !patch.signals[m.from]!.threshold,
      });
    }
    const first = patch.scene ?? Object.keys(patch.scenes)[0];
    if (first) this.setScene(first, opts.startTime, 0);
    // Mapped parameters begin where the patch says: a fixed-range signal from its
    // stream's default, an auto-range one from the middle of its range (a default
    // pushed into an auto range would stay in its min/max as if measured).
    for (const s of this.signals.values()) {
      const spec = patch.signals[s.name]!;
      let r: { value: number; event?: 'on' | 'off' } | undefined = { value: s.conditioner.value };
      // A rate needs two measured samples: the default would make a rate out of nothing.
      if (Array.isArray(spec.range) && spec.derive !== 'rate') r = s.conditioner.push(patch.streams[spec.from]!.default, opts.startTime);
      // A stream's default is not an event: event triggers fire on values that arrive.
      if (r) for (const m of s.mappings) if (!(m.target.kind === 'trigger' && !spec.threshold)) this.apply(m, r.value, r.event, opts.startTime);
    }
    this.flush(Infinity);
  }

  /**
   * Feeds a raw stream value playing at `time` (engine seconds), measured at
   * `dataTime` (epoch seconds, for auto-range windows). Returns false if refused.
   */
  update(stream: string, raw: number | string, time: number, dataTime = time): boolean {
    const states = this.byStream.get(stream);
    const text = typeof raw === 'string';
    if (!this.streamValues.has(stream) || (!text && (typeof raw !== 'number' || !Number.isFinite(raw))) || !Number.isFinite(time) || !Number.isFinite(dataTime)) {
      this.rejected++;
      return false;
    }
    // Text (a category such as "rain") goes to the signals that map it; the stream's shown value stays numeric.
    if (!text) this.streamValues.set(stream, raw);
    if (!states) return true;
    for (const s of states) {
      const r = s.conditioner.push(raw, time, dataTime);
      if (!r) continue;
      if (r.event) this.opts.onEvent?.({ type: 'threshold', signal: s.name, state: r.event, time });
      for (const m of s.mappings) this.apply(m, r.value, r.event, time);
    }
    return true;
  }

  private apply(m: ResolvedMapping, x: number, event: 'on' | 'off' | undefined, time: number): void {
    const t = m.target;
    const seq = this.sequencer;
    switch (t.kind) {
      case 'mode':
      case 'scene': {
        if (t.kind === 'scene' && (m.spec.on || m.spec.off)) {
          const scene = event === 'on' ? m.spec.on : event === 'off' ? m.spec.off : undefined;
          if (scene) m.wanted = scene;
          // A change due within `hold` of the last one waits for a later value of the signal.
          if (m.spec.hold !== undefined && time - m.lastChange < m.spec.hold) return;
          if (m.wanted !== undefined && m.wanted !== this.scene) {
            m.lastChange = time;
            this.setScene(m.wanted, time);
          }
          m.wanted = undefined;
          return;
        }
        if (m.spec.hold !== undefined && time - m.lastChange < m.spec.hold) return;
        const steps = m.spec.steps!;
        const i = Math.min(steps.length - 1, Math.max(0, Math.floor(x * steps.length)));
        if (i === m.lastIndex) return;
        m.lastIndex = i;
        m.lastChange = time;
        if (t.kind === 'mode') seq.setMode(steps[i] as ModeName);
        else this.setScene(steps[i]!, time);
        return;
      }
      case 'trigger': {
        // With a threshold: one note each time it turns on. Without one, the signal is
        // an event feed (a quake, a detection): one note for each value that arrives,
        // as loud as the value mapped through the mapping's range (velocity 0…1).
        const v = this.voices.get(t.voice)!;
        const octave = v.spec.notes.octave + Math.round(seq.voices.get(t.voice)?.mod.octave ?? 0);
        let velocity = 0.9;
        if (m.event) velocity = Math.min(1, mapToRange(x, m.range[0], m.range[1], m.curve));
        else if (event !== 'on') return;
        if (!Number.isFinite(velocity) || velocity <= 0) return;
        const note = m.spec.note ?? seq.rootAt(octave);
        v.oneShot(note, time, velocity);
        // A triggered note is a note like the sequencer's: counted, and seen by MIDI out, lights and OSC (step -1: off the grid).
        const midi = typeof note === 'number' ? note : noteToMidi(note);
        if (midi !== undefined) this.opts.onEvent?.({ type: 'note', voice: t.voice, notes: [midi], time, duration: 0.5, velocity, step: -1 });
        return;
      }
    }
    const value = mapToRange(x, m.range[0], m.range[1], m.curve);
    if (!Number.isFinite(value)) return;
    if (t.kind === 'tempo') {
      seq.mappedTempo = clampTo(GLOBAL_PARAMS.tempo, value);
      return;
    }
    if (t.kind === 'voice' && (t.param === 'density' || t.param === 'octave' || t.param === 'velocity')) {
      seq.voices.get(t.voice)!.mod[t.param] = clampTo(VOICE_PARAMS[t.param], value);
      return;
    }
    // Audio-rate parameters: at most one ramp per CONTROL_PERIOD, the latest value wins.
    if (time >= m.lastApplied + CONTROL_PERIOD) {
      this.rampTarget(m, value, time);
    } else {
      m.pending = { value, time: m.lastApplied + CONTROL_PERIOD };
      this.dirty.add(m);
    }
  }

  private rampTarget(m: ResolvedMapping, value: number, time: number): void {
    m.lastApplied = time;
    m.pending = undefined;
    const t = m.target;
    if (t.kind === 'voice') this.setVoice(t.voice, t.param, value, time, m.tau);
    else if (t.kind === 'send') this.setSend(t.voice, t.bus, value, time, m.tau);
    else if (t.kind === 'bus') this.buses.get(t.bus)!.set(t.param, value, time, m.tau);
    else if (t.kind === 'master' && this.active) this.opts.master.setVolume(value, time, m.tau);
  }

  /**
   * Sets a parameter directly, in its own units (a performer's OSC or MIDI
   * control): the same target names as mappings ("pad.filter.frequency",
   * "hall.wet", "master.volume", "tempo", "bells.trigger"…). Returns an error
   * sentence, or undefined when applied. The next data-driven mapping to the
   * same target takes over again (last writer wins).
   */
  setParameter(text: string, value: number, time: number): string | undefined {
    const positioned = this.positionOf(text);
    if (positioned) return this.setPosition(positioned, value, time);
    const t = parseTarget(text, [...this.voices.keys()], [...this.buses.keys()]);
    if (typeof t === 'string') return t;
    if (typeof value !== 'number' || !Number.isFinite(value)) return `${text}: expected a finite number`;
    switch (t.kind) {
      case 'voice':
        if (t.param === 'density' || t.param === 'velocity') this.sequencer.voices.get(t.voice)!.mod[t.param] = clampTo(VOICE_PARAMS[t.param], value);
        else if (t.param === 'octave') this.sequencer.voices.get(t.voice)!.mod.octave = clampTo(VOICE_PARAMS.octave, value);
        else this.setVoice(t.voice, t.param, value, time, DEFAULT_GLIDE);
        return undefined;
      case 'send':
        this.setSend(t.voice, t.bus, clampTo(SEND_PARAM, value), time, DEFAULT_GLIDE);
        return undefined;
      case 'bus':
        this.buses.get(t.bus)!.set(t.param, value, time, DEFAULT_GLIDE);
        return undefined;
      case 'master':
        if (this.active) this.opts.master.setVolume(clampTo(GLOBAL_PARAMS['master.volume'], value), time, DEFAULT_GLIDE);
        return undefined;
      case 'tempo':
        this.sequencer.mappedTempo = clampTo(GLOBAL_PARAMS.tempo, value);
        return undefined;
      case 'trigger': {
        const v = this.voices.get(t.voice)!;
        v.oneShot(this.sequencer.rootAt(v.spec.notes.octave), time, value > 0 && value <= 1 ? value : 0.9);
        return undefined;
      }
      case 'mode':
      case 'scene':
        return `${text}: not a numeric parameter (set scenes by name)`;
    }
  }

  /**
   * The value of a parameter at `time` in the units {@link setParameter} takes
   * (what a control surface shows): read from the audio graph's ramps and the
   * sequencer. Undefined for targets without a value (trigger, scene, mode).
   */
  parameterValue(text: string, time: number): number | undefined {
    const positioned = this.positionOf(text);
    if (positioned) return this.spatial.get(positioned)?.currentPlace;
    const t = parseTarget(text, [...this.voices.keys()], [...this.buses.keys()]);
    if (typeof t === 'string') return undefined;
    switch (t.kind) {
      case 'voice': {
        if (t.param === 'density' || t.param === 'velocity' || t.param === 'octave') {
          const plan = this.sequencer.voices.get(t.voice)!;
          const spec = this.voices.get(t.voice)!.spec;
          return plan.mod[t.param] ?? (t.param === 'octave' ? 0 : spec[t.param]);
        }
        return this.voices.get(t.voice)!.get(t.param, time);
      }
      case 'send':
        return this.voices.get(t.voice)!.sendLevel(t.bus, time);
      case 'bus':
        return this.buses.get(t.bus)!.get(t.param, time);
      case 'master':
        return this.opts.master.volumeAt(time);
      case 'tempo':
        return this.sequencer.tempo;
      default:
        return undefined;
    }
  }

  private setVoice(voice: string, param: VoiceParam, value: number, time: number, tau: number): void {
    this.voices.get(voice)!.set(param, value, time, tau);
    this.voiceSettings.get(voice)!.set(param, value);
  }

  private setSend(voice: string, bus: string, value: number, time: number, tau: number): void {
    this.voices.get(voice)!.setSend(bus, value, time, tau);
    this.voiceSettings.get(voice)!.set(`send.${bus}`, value);
  }

  /**
   * Reads the probes of every voice and bus, and rebuilds each one whose output
   * has gone non-finite or run away, from `time` (see health.ts). Returns what
   * was rebuilt and why, e.g. `bus "echo" (non-finite)`; empty when all are sound.
   * Tone must be on this runtime's context (a voice makes Tone instruments).
   */
  heal(time: number): string[] {
    const healed: string[] = [];
    for (const [name, strip] of this.strips) {
      const fault = probeFault(strip.probe);
      if (!fault) continue;
      this.rebuildVoice(name, time);
      healed.push(`voice "${name}" (${fault})`);
    }
    for (const [name, bus] of this.buses) {
      const fault = bus.fault();
      if (!fault) continue;
      bus.rebuild(time);
      healed.push(`bus "${name}" (${fault})`);
    }
    return healed;
  }

  /**
   * Replaces a voice (its instruments, filter and channel strip) with a new one
   * from `time`, set as the old one was: the last value of each parameter and
   * send, and the scene's gain. Its sounding notes and held live notes end.
   */
  rebuildVoice(name: string, time: number): void {
    const old = this.voices.get(name)!;
    const strip = this.strips.get(name)!;
    old.dispose();
    strip.out.disconnect(strip.probe);
    strip.probe = makeProbe(this.opts.context.rawContext as unknown as BaseAudioContext, 1024);
    strip.out.connect(strip.probe);
    const group = new VoiceGroup(name, old.spec, this.opts.context, strip.out, this.busInputs, this.opts.samples, this.opts.timing);
    this.voices.set(name, group);
    for (const [key, value] of this.voiceSettings.get(name)!) {
      if (key.startsWith('send.')) group.setSend(key.slice(5), value, time, 0.001);
      else group.set(key as VoiceParam, value, time, 0.001);
    }
    const vs = (this.scene && this.patch.scenes[this.scene]?.voices[name]) || {};
    group.setSceneGain(vs.mute ? 0 : dbToGain(vs.volume ?? 0), time, 0);
  }

  /** Applies coalesced parameter changes due before `until`. */
  flush(until: number): void {
    for (const m of this.dirty) {
      if (m.pending && m.pending.time < until) {
        this.rampTarget(m, m.pending.value, m.pending.time);
        this.dirty.delete(m);
      }
    }
  }

  /** Switches scene at `time`, crossfading over the scene's fade (or `fade` if given). */
  setScene(name: string, time: number, fade?: number): void {
    const scene = this.patch.scenes[name];
    if (!scene || name === this.scene) return;
    this.scene = name;
    const seconds = fade ?? scene.fade;
    for (const [vname, group] of this.voices) {
      const vs = scene.voices[vname] ?? {};
      const mod = this.sequencer.voices.get(vname)!.mod;
      group.setSceneGain(vs.mute ? 0 : dbToGain(vs.volume ?? 0), time, seconds);
      mod.sceneDensity = vs.density ?? 1;
      mod.sceneOctave = vs.octave ?? 0;
      mod.mutedFrom = vs.mute ? time + seconds : Infinity;
    }
    this.sequencer.sceneTempo = scene.tempo;
    this.opts.onEvent?.({ type: 'scene', scene: name, time });
  }

  /** Generates and schedules notes up to `until`; applies due parameter changes. */
  advance(until: number, onError: (e: unknown) => void): void {
    this.flush(until);
    for (const [name, strip] of this.spatial) {
      const p = (this.patch.voices[name] ?? this.patch.buses[name])?.position;
      strip.advance(until, typeof p === 'object' && 'follow' in p ? this.signals.get(p.follow)?.conditioner.value : undefined);
    }
    this.sequencer.advance(
      until,
      (e) => {
        try {
          this.voices.get(e.voice)!.play(e.notes, e.time, e.duration, e.velocity);
          this.opts.onEvent?.({ type: 'note', ...e });
        } catch (err) {
          onError(err);
        }
      },
      // A retiring patch's beats would double the playing one's.
      this.active ? (b) => this.opts.onEvent?.({ type: 'beat', ...b }) : undefined,
    );
  }

  /** Disposes the voices' instruments unused for their reclaim time (live play; see VoiceTiming.reclaimAfter). Returns how many. */
  reclaimIdle(now: number): number {
    let n = 0;
    for (const v of this.voices.values()) n += v.reclaimIdle(now);
    return n;
  }

  /** Fades the output to `gain` from `time` (time constant `tau`). */
  fade(gain: number, time: number, tau: number): void {
    rampTo(this.output.gain, gain, time, tau, 0, 1);
  }

  /** Seconds this patch keeps sounding after its last note: the longest release, plus reverb decay. */
  get tailSeconds(): number {
    const release = Math.max(0, ...Object.values(this.patch.voices).map((v) => v.envelope?.release ?? 1));
    const decay = Math.max(0, ...Object.values(this.patch.buses).map((b) => (b.type === 'reverb' ? (b.decay ?? 3) : b.type === 'delay' ? 2 : 0.1)));
    return 0.1 + release + decay;
  }

  /** Opens the output at `time` at once (the first patch of an engine). */
  open(time: number): void {
    setAt(this.output.gain, 1, time);
  }

  /** Stops generating notes at `time`; the graph keeps sounding its tails. */
  retire(time: number): void {
    this.active = false;
    this.sequencer.stopAt = time;
  }

  /**
   * Where each voice's dry sound (its level and pan applied) and each bus's
   * return can be heard on their own, by name: for stems. A positioned voice or
   * bus is heard after its position, in the layout's channels (the spatial plan's),
   * so that the stems sum to what reaches the master.
   */
  stemTaps(): Map<string, AudioNode> {
    const taps = new Map<string, AudioNode>();
    for (const [name, s] of this.strips) taps.set(name, this.spatial.get(name)?.output ?? s.out);
    for (const [name, b] of this.buses) taps.set(name, this.spatial.get(name)?.output ?? b.returnNode);
    return taps;
  }

  /** The voice or bus of a `<name>.position` target, if it names one. */
  private positionOf(text: string): string | undefined {
    const m = /^(.+)\.position$/.exec(text);
    return m && (this.voices.has(m[1]!) || this.buses.has(m[1]!)) ? m[1] : undefined;
  }

  /**
   * Moves a voice or bus with a fixed position to `place` (degrees, or 0…1 on a
   * line or zones) from `time`. Returns an error sentence for one that moves by
   * itself (orbit, drift, follow, mapped) or in a patch without positions.
   */
  setPosition(name: string, place: number, time: number): string | undefined {
    const strip = this.spatial.get(name);
    if (!strip) return `${name}.position: this patch has no positions (it needs an output section or a position)`;
    if (typeof place !== 'number' || !Number.isFinite(place)) return `${name}.position: expected a finite number`;
    if (strip.moving) return `${name}.position: ${name} moves by itself (its position is not fixed); only a fixed position can be set`;
    strip.moveTo(this.spatialPlan!.layout.kind === 'line' ? Math.min(1, Math.max(0, place)) : place, time);
    return undefined;
  }

  /**
   * Where each positioned voice and bus is (degrees, or 0…1 on a line), as
   * scheduled: a moving one up to a scheduler window ahead. Empty without positions.
   */
  positions(): Record<string, number> {
    return Object.fromEntries([...this.spatial].map(([name, s]) => [name, s.currentPlace]));
  }

  /** Current value of every signal, 0…1. */
  signalValues(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [name, s] of this.signals) out[name] = s.conditioner.value;
    return out;
  }

  dispose(): void {
    this.output.disconnect();
    for (const s of this.strips.values()) s.out.disconnect();
    for (const s of this.spatial.values()) s.dispose();
    for (const v of this.voices.values()) v.dispose();
    for (const b of this.buses.values()) b.dispose();
    this.voices.clear();
    this.buses.clear();
  }
}
