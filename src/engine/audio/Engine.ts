/**
 * The engine: plays patches on any Tone context (real time or offline) through
 * one master chain. Hosts call {@link Engine.advance} with "schedule up to this
 * time"; the engine never schedules further ahead than it is asked to.
 *
 * @example
 *   const engine = new Engine({ context });
 *   engine.load(patch);
 *   engine.update('temperature', 14.2, context.currentTime);
 *   engine.advance(context.currentTime + 0.1); // from a timer or an offline window
 */
import * as Tone from 'tone';
import type { Patch } from '../core/patchSchema.ts';
import { MasterChain } from './master.ts';
import { PatchRuntime, type EngineEvent } from './PatchRuntime.ts';
import type { SampleLookup, VoiceTiming } from './voices.ts';
import { GarbageCollection, retainedSourceCount, tonePlatform, type Platform } from './platform/index.ts';

export type { EngineEvent } from './PatchRuntime.ts';

/** Engine construction options. */
export interface EngineOptions {
  context: Tone.BaseContext;
  /** Overrides every loaded patch's seed. */
  seed?: number;
  /** Decoded samples by the path the patch names. */
  samples?: SampleLookup;
  onEvent?: (e: EngineEvent) => void;
  /** Called for errors caught inside the engine (it never throws from advance/update). */
  onError?: (e: unknown) => void;
  /** Where the master chain ends (default: the context destination). */
  destination?: AudioNode;
  /**
   * The runtime's workarounds (Tone.js fixes, a garbage collector for runtimes
   * that need one). Default: Tone.js fixes only; Node hosts pass `nodePlatform`.
   */
  platform?: Platform;
  /**
   * The output ceiling, dBFS sample peak (default -1): the safety clipper's
   * curve cannot exceed it, whatever a patch, a parameter or a command does
   * (an installation's `maxLevel`).
   */
  ceilingDb?: number;
  /**
   * How voices keep time (default: oscillators kept running, origin 0). Offline
   * renders start oscillators per note, and a segment of a render sets the
   * origin (src/engine/node/render.ts).
   */
  timing?: VoiceTiming;
}

/**
 * Seconds of engine time between two sweeps for idle instruments (live play,
 * timing.reclaimAfter). Each sweep that frees some asks for one collection (a
 * full GC on the scheduler's thread, see platform/gc.ts), so at most one per
 * sweep, and none while every instrument keeps playing.
 */
export const RECLAIM_SWEEP_SECONDS = 15;

/** Seconds of audio time between two audio-fault reports to `onError` (every fault is counted). */
export const FAULT_REPORT_INTERVAL = 1;

/** Load options. */
export interface LoadOptions {
  /** Engine time of the switch (default: the context's current time). */
  time?: number;
  /** Crossfade seconds from the playing patch (default 2). */
  crossfade?: number;
}

/** Counters for status lines, tests and benchmarks. */
export interface EngineStats {
  loads: number;
  notes: number;
  errors: number;
  rejected: number;
  retiring: number;
  /** Notes scheduled for a time the audio clock had already passed (heard late). */
  lateNotes: number;
  /** Garbage collections the engine asked its host for. */
  collections: number;
  /** Audio faults found and repaired (each is also an error): see {@link Engine.checkAudio}. */
  faults: number;
  /** Idle instruments disposed (live play: timing.reclaimAfter). */
  reclaimed: number;
}

export class Engine {
  readonly master: MasterChain;
  readonly context: Tone.BaseContext;
  private current?: PatchRuntime;
  private retiring: Array<{ runtime: PatchRuntime; disposeAt: number }> = [];
  private readonly stats_: EngineStats = { loads: 0, notes: 0, errors: 0, rejected: 0, retiring: 0, lateNotes: 0, collections: 0, faults: 0, reclaimed: 0 };
  private disposed = false;
  private readonly listeners = new Set<(e: EngineEvent) => void>();
  private lastTick = NaN;
  /** Engine time of the last sweep for idle instruments (timing.reclaimAfter). */
  private lastReclaim = -Infinity;
  private readonly gc: GarbageCollection;
  private faultReportedAt = -Infinity;
  private faultsUnreported = 0;

  constructor(private readonly opts: EngineOptions) {
    this.context = opts.context;
    const platform = opts.platform ?? tonePlatform;
    platform.install();
    this.gc = new GarbageCollection(platform.collectGarbage, undefined, () => retainedSourceCount(opts.context.rawContext));
    const raw = opts.context.rawContext as unknown as BaseAudioContext;
    this.master = new MasterChain(raw, Math.min(-0.1, opts.ceilingDb ?? -1), -6, opts.destination);
  }

  /** The patch now playing. */
  get patch(): Patch | undefined {
    return this.current?.patch;
  }

  /** The runtime now playing (for status and tests). */
  get runtime(): PatchRuntime | undefined {
    return this.current;
  }

  get stats(): EngineStats {
    return { ...this.stats_, retiring: this.retiring.length, collections: this.gc.count };
  }

  /**
   * Plays `patch`. If another patch is playing, the new one fades in while the
   * old one fades out over `crossfade` seconds; the old graph is disposed once
   * its tails have passed. A patch that fails to build throws here, before
   * anything changes: the playing patch keeps playing.
   */
  load(patch: Patch, options: LoadOptions = {}): void {
    if (this.disposed) throw new Error('engine is disposed');
    const time = Math.max(options.time ?? this.context.currentTime, this.context.currentTime);
    const crossfade = this.current ? (options.crossfade ?? 2) : 0;
    const previous = Tone.getContext();
    Tone.setContext(this.context);
    let next: PatchRuntime;
    try {
      next = new PatchRuntime(patch, {
        context: this.context,
        master: this.master,
        samples: this.opts.samples ?? (() => undefined),
        startTime: time,
        seed: this.opts.seed,
        timing: this.opts.timing,
        onEvent: (e) => {
          if (e.type === 'note') {
            this.stats_.notes += e.notes.length;
            if (e.time < this.context.rawContext.currentTime) this.stats_.lateNotes++;
          }
          this.emit(e);
        },
      });
    } finally {
      if (previous !== this.context) Tone.setContext(previous);
    }
    this.stats_.loads++;
    const old = this.current;
    this.current = next;
    this.carryLive(next);
    if (!old) next.open(time);
    else {
      next.fade(1, time, crossfade / 4);
      old.fade(0, time, crossfade / 4);
      old.retire(time + crossfade);
      // Its output is silent a few time constants after the fade starts; free it
      // then, or after its release tails if those end sooner than the fade.
      this.retiring.push({ runtime: old, disposeAt: time + Math.min(crossfade * 1.5, crossfade + old.tailSeconds) + 0.05 });
    }
    this.master.setVolume(patch.master.volume, time, crossfade > 0 ? crossfade / 4 : 0.001);
  }

  /**
   * Feeds a raw value of a named stream at engine time `time` (default now),
   * measured at `dataTime` (epoch seconds; default: the engine time). Text values
   * reach only signals with `categories`. Never throws.
   */
  update(stream: string, value: number | string, time?: number, dataTime?: number): boolean {
    const rt = this.current;
    if (!rt) return false;
    try {
      const t = time ?? this.context.currentTime;
      const ok = rt.update(stream, value, t, dataTime ?? t);
      if (!ok) this.stats_.rejected++;
      return ok;
    } catch (e) {
      this.fail(e);
      return false;
    }
  }

  /**
   * Adds a listener for engine events (notes, scenes, thresholds, mute) besides
   * `onEvent`: the bridges (OSC, MIDI, lighting) use this. Returns a remover.
   * A listener that throws is counted as an engine error, never stops the engine.
   */
  addListener(fn: (e: EngineEvent) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private emit(e: EngineEvent): void {
    try {
      this.opts.onEvent?.(e);
    } catch (err) {
      this.fail(err);
    }
    for (const fn of this.listeners) {
      try {
        fn(e);
      } catch (err) {
        this.fail(err);
      }
    }
  }

  /**
   * The panic button: silences the output at once (a 3 ms ramp after the
   * ceiling, so no click) and tells every bridge (MIDI all-notes-off, lighting
   * blackout). The patch keeps running underneath; {@link setMuted}(false) brings it back.
   */
  panic(time?: number): void {
    this.setMuted(true, time, true);
  }

  /** Mutes or unmutes the output (after the safety ceiling). */
  setMuted(muted: boolean, time?: number, panic = false): void {
    const t = time ?? this.context.currentTime;
    try {
      this.master.setMuted(muted, t);
    } catch (e) {
      this.fail(e);
    }
    this.emit({ type: 'mute', muted, panic, time: t });
  }

  /** True while muted (by panic or mute). */
  get muted(): boolean {
    return this.master.muted;
  }

  /**
   * Sets a parameter of the playing patch in its own units (see
   * PatchRuntime.setParameter). Returns an error sentence, or undefined. Never throws.
   */
  setParameter(target: string, value: number, time?: number): string | undefined {
    const rt = this.current;
    if (!rt) return 'no patch is playing';
    try {
      return rt.setParameter(target, value, time ?? this.context.currentTime);
    } catch (e) {
      this.fail(e);
      return (e as Error)?.message ?? String(e);
    }
  }

  /**
   * A parameter's value now, in the units {@link setParameter} takes (same
   * target names), for control surfaces and OSCQuery. Undefined when there is
   * no such target, it has no value (trigger, scene) or no patch plays. Never throws.
   */
  parameterValue(target: string): number | undefined {
    try {
      return this.current?.parameterValue(target, this.context.currentTime);
    } catch (e) {
      this.fail(e);
      return undefined;
    }
  }

  // ---------------------------------------------------------------- live input (MIDI)
  // Notes held from a keyboard, an external clock's tempo and transport. Kept
  // here, not in the runtime, so they carry over to the next patch loaded.

  private readonly live: {
    notes: Map<string, { runtime: PatchRuntime; voice: string; midi: number; token: number }>;
    tempo?: number;
    /** Transport stopped by an external clock (from this time), or undefined. */
    heldFrom?: number;
  } = { notes: new Map() };

  /**
   * Starts a live note on a voice of the playing patch (velocity 0…1) and holds
   * it until {@link releaseNote}. The same note again on the same voice retriggers
   * it. Returns false when refused (no such voice, not a number). Never throws.
   */
  playNote(voice: string, midi: number, velocity: number, time?: number): boolean {
    const rt = this.current;
    const group = rt?.voices.get(voice);
    if (!rt || !group || !Number.isFinite(midi) || !Number.isFinite(velocity)) return false;
    const t = time ?? this.context.currentTime;
    const key = `${voice}\u0000${midi}`;
    try {
      this.releaseNote(voice, midi, t);
      const token = group.attackHeld(midi, t, velocity);
      if (!token) return false;
      this.live.notes.set(key, { runtime: rt, voice, midi, token });
      this.stats_.notes++;
      return true;
    } catch (e) {
      this.fail(e);
      return false;
    }
  }

  /** Releases a live note (in whichever patch started it). Returns false if it was not held. */
  releaseNote(voice: string, midi: number, time?: number): boolean {
    const key = `${voice}\u0000${midi}`;
    const held = this.live.notes.get(key);
    if (!held) return false;
    this.live.notes.delete(key);
    try {
      return held.runtime.voices.get(voice)?.releaseHeld(held.token, time ?? this.context.currentTime) ?? false;
    } catch (e) {
      this.fail(e);
      return false;
    }
  }

  /** Releases every live note (all notes off, a port gone). Returns how many were held. */
  releaseAll(time?: number): number {
    const t = time ?? this.context.currentTime;
    const held = [...this.live.notes.values()];
    for (const h of held) this.releaseNote(h.voice, h.midi, t);
    return held.length;
  }

  /** Live notes now held. */
  get heldNotes(): number {
    return this.live.notes.size;
  }

  /**
   * Sets the tempo of an external clock (BPM, 20…300), which wins over the
   * patch, its scenes and tempo mappings from the next step on; undefined gives
   * the tempo back to the patch.
   */
  setTempo(bpm: number | undefined): void {
    this.live.tempo = bpm === undefined || !Number.isFinite(bpm) ? undefined : Math.min(300, Math.max(20, bpm));
    if (this.current) this.current.sequencer.externalTempo = this.live.tempo;
  }

  /** The tempo now playing (BPM). */
  get tempo(): number | undefined {
    return this.current?.sequencer.tempo;
  }

  /**
   * An external transport: 'stop' generates no notes from `time` on (sounding
   * notes ring out); 'start' plays from the top, 'continue' from `step` (16th
   * notes; default: where it stopped), the first step at `time`. Never throws.
   */
  transport(action: 'start' | 'continue' | 'stop', time?: number, step?: number): void {
    const t = time ?? this.context.currentTime;
    const seq = this.current?.sequencer;
    if (action === 'stop') {
      this.live.heldFrom = t;
      if (seq) seq.holdFrom = Math.min(seq.holdFrom, t);
      this.emit({ type: 'transport', action, time: t });
      return;
    }
    this.live.heldFrom = undefined;
    const from = action === 'start' ? 0 : (step ?? seq?.nextStep ?? 0);
    seq?.locate(from, t);
    this.emit({ type: 'transport', action, time: t, step: from });
  }

  /** A patch just loaded keeps the external tempo and a stopped transport. */
  private carryLive(next: PatchRuntime): void {
    next.sequencer.externalTempo = this.live.tempo;
    if (this.live.heldFrom !== undefined) next.sequencer.holdFrom = next.sequencer.nextStepTime;
  }

  /** Switches the playing patch's scene. */
  setScene(name: string, time?: number): void {
    try {
      this.current?.setScene(name, time ?? this.context.currentTime);
    } catch (e) {
      this.fail(e);
    }
  }

  /**
   * Schedules everything due before `until` (engine seconds) and disposes retired
   * patches whose tails are over. Never throws.
   */
  advance(until: number): void {
    if (this.disposed) return;
    // Tone's own timeouts (which stop and free finished one-shot sources) run on
    // its context's "tick"; our contexts have no Tone ticker, so the engine ticks,
    // once per clock time (offline, many data points share one window's time).
    const now = this.context.currentTime;
    if (now !== this.lastTick) {
      this.lastTick = now;
      try {
        (this.context as unknown as { emit(event: string): void }).emit('tick');
      } catch (e) {
        this.fail(e);
      }
      this.checkAudio(now);
    }
    const onError = (e: unknown) => this.fail(e);
    for (const r of this.retiring) {
      try {
        r.runtime.advance(until, onError);
      } catch (e) {
        this.fail(e);
      }
    }
    try {
      this.current?.advance(until, onError);
    } catch (e) {
      this.fail(e);
    }
    let settled = false;
    let freed = false;
    if (this.opts.timing?.reclaimAfter !== undefined && now - this.lastReclaim >= RECLAIM_SWEEP_SECONDS) {
      this.lastReclaim = now;
      try {
        const n = this.current?.reclaimIdle(now) ?? 0;
        this.stats_.reclaimed += n;
        freed = n > 0;
      } catch (e) {
        this.fail(e);
      }
    }
    if (this.retiring.length && this.retiring[0]!.disposeAt <= now) {
      const keep: typeof this.retiring = [];
      for (const r of this.retiring) {
        if (r.disposeAt <= now) this.safeDispose(r.runtime);
        else keep.push(r);
      }
      this.retiring = keep;
      freed = true;
      settled = keep.length === 0;
    }
    this.gc.afterAdvance(freed, settled, (e) => this.fail(e));
  }

  /**
   * The audio watchdog, run once per clock time (each scheduler window): when
   * the master's probes see a non-finite sample or a runaway level, it rebuilds
   * every voice and bus whose own probe sees one (in the playing and the
   * retiring patches), then the master chain's filter, compressor and clipper,
   * at once. A NaN held in a node's state never leaves it, and it reached the
   * output through the mute gate (0 × NaN is NaN), so nothing else would bring
   * the sound back. Each fault is counted in `stats.faults` and `stats.errors`,
   * reported to `onError` and sent as a `fault` event. Never throws.
   */
  private checkAudio(now: number): void {
    let found: ReturnType<MasterChain['fault']>;
    try {
      found = this.master.fault();
    } catch (e) {
      this.fail(e);
      return;
    }
    if (!found) return;
    const rebuilt: string[] = [];
    const previous = Tone.getContext();
    Tone.setContext(this.context);
    try {
      for (const rt of [...(this.current ? [this.current] : []), ...this.retiring.map((r) => r.runtime)]) rebuilt.push(...rt.heal(now));
      this.master.rebuild();
      rebuilt.push('the master chain');
    } catch (e) {
      this.fail(e);
    } finally {
      if (previous !== this.context) Tone.setContext(previous);
    }
    this.stats_.faults++;
    this.emit({ type: 'fault', fault: found.fault, rebuilt, time: now });
    // A part that breaks again at once (a voice making NaN note after note) is
    // rebuilt every window, but reported at most once a second of audio time.
    if (now - this.faultReportedAt < FAULT_REPORT_INTERVAL) {
      this.stats_.errors++;
      this.faultsUnreported++;
      return;
    }
    const where = found.at === 'input' ? 'coming into the master' : 'in the master chain';
    const more = this.faultsUnreported ? ` (and ${this.faultsUnreported} more since the last report)` : '';
    this.faultReportedAt = now;
    this.faultsUnreported = 0;
    this.fail(new Error(`audio fault at ${now.toFixed(3)} s: ${found.fault === 'runaway' ? 'a runaway level' : 'non-finite samples'} ${where}; rebuilt ${rebuilt.join(', ')}${more}`));
  }

  /**
   * The playing patch's speaker layout (as played: `folded` to stereo on a
   * smaller output) and where each voice and bus is on it (see
   * PatchRuntime.positions); undefined for a patch without positions.
   */
  space(): { layout: string; kind: 'circle' | 'line'; speakers: Array<number | null>; folded: boolean; places: Record<string, number> } | undefined {
    const rt = this.current;
    const plan = rt?.spatialPlan;
    if (!rt || !plan) return undefined;
    return { layout: plan.layout.name, kind: plan.layout.kind, speakers: [...plan.layout.speakers], folded: plan.folded, places: rt.positions() };
  }

  /** Latest signal values (0…1) and raw stream values of the playing patch. */
  values(): { signals: Record<string, number>; streams: Record<string, number>; scene?: string } {
    const rt = this.current;
    if (!rt) return { signals: {}, streams: {} };
    return { signals: rt.signalValues(), streams: Object.fromEntries(rt.streamValues), scene: rt.scene };
  }

  /** Stops and disconnects everything; nothing stays scheduled or connected. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.listeners.clear();
    for (const r of this.retiring) this.safeDispose(r.runtime);
    this.retiring = [];
    if (this.current) this.safeDispose(this.current);
    this.current = undefined;
    this.master.dispose();
  }

  private safeDispose(rt: PatchRuntime): void {
    try {
      rt.dispose();
    } catch (e) {
      this.fail(e);
    }
  }

  private fail(e: unknown): void {
    this.stats_.errors++;
    this.opts.onError?.(e);
  }
}
