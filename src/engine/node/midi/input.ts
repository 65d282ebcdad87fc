/**
 * MIDI in: notes play voices (sustain pedal held), controllers and pitch bend
 * feed streams or drive targets (14-bit pairs joined), program changes pick
 * scenes. Clock and transport messages go to the clock follower. Every
 * message is handled inside a catch: nothing that comes in over MIDI can throw
 * into the engine.
 */
import type { Engine } from '../../audio/Engine.ts';
import { mapToRange } from '../../core/conditioning.ts';
import type { ControlBinding, MidiSetup } from '../../core/midi/config.ts';
import { ControlPairs, type ControlValue } from '../../core/midi/controls.ts';
import type { MidiMessage } from '../../core/midi/parser.ts';
import type { Patch } from '../../core/patchSchema.ts';
import { parseTarget, targetDefaults, type Target } from '../../core/targets.ts';
import { MODE_NAMES } from '../../core/theory.ts';
import { countError, type MidiStats } from './stats.ts';

/** Pitch bend 0…16383 as −1…1: centre 8192 is 0, both ends reach ±1 exactly. */
export function bendValue(raw: number): number {
  return raw >= 8192 ? (raw - 8192) / 8191 : (raw - 8192) / 8192;
}

type ClockMessage = Extract<MidiMessage, { type: 'clock' | 'start' | 'continue' | 'stop' | 'songPosition' }>;

export class MidiInput {
  private readonly pairs: ControlPairs;
  private readonly pedal = new Set<number>();
  private readonly sustained = new Map<number, Set<number>>();
  private readonly targets = new Map<string, Target | string>();
  private readonly controlState = new Map<ControlBinding, number>();

  /**
   * @param setup the setup now (it changes when a binding is learned).
   * @param clock where clock and transport messages go (undefined: the patch does not follow a clock).
   */
  constructor(
    private readonly engine: Engine,
    private readonly patch: Patch,
    private readonly setup: () => MidiSetup,
    private readonly clock: ((m: ClockMessage, wall: number) => void) | undefined,
    private readonly stats: MidiStats,
  ) {
    this.pairs = new ControlPairs((ch, msb) => this.isPair(ch, msb));
  }

  /** Handles one message that arrived at `wall` (seconds). */
  handle(m: MidiMessage, wall: number): void {
    try {
      const engine = this.engine;
      const setup = this.setup();
      switch (m.type) {
        case 'noteOn':
          this.sustained.get(m.channel)?.delete(m.note);
          for (const p of setup.play) {
            if (p.channel !== undefined && p.channel !== m.channel) continue;
            if (engine.playNote(p.voice, m.note, m.velocity / 127)) this.stats.in.notes++;
          }
          return;
        case 'noteOff':
          if (this.pedal.has(m.channel)) {
            let s = this.sustained.get(m.channel);
            if (!s) this.sustained.set(m.channel, (s = new Set()));
            s.add(m.note);
          } else this.release(m.channel, m.note);
          return;
        case 'cc':
          this.stats.in.controls++;
          if (m.controller === 64) this.sustain(m.channel, m.value >= 64);
          if (m.controller === 120 || m.controller === 123) engine.releaseAll();
          for (const v of this.pairs.push(m.channel, m.controller, m.value, wall)) this.control(v);
          return;
        case 'pitchBend':
          this.stats.in.controls++;
          for (const b of setup.controls)
            if (b.bend && (b.channel === undefined || b.channel - 1 === m.channel)) this.drive(b, m.value / 16383, bendValue(m.value));
          return;
        case 'program': {
          const scene = setup.programs.get(m.program);
          if (scene) {
            this.stats.in.programs++;
            engine.setScene(scene);
          } else this.stats.in.ignored++;
          return;
        }
        case 'clock':
        case 'start':
        case 'continue':
        case 'stop':
        case 'songPosition':
          if (m.type === 'clock') this.stats.in.clock++;
          if (this.clock) this.clock(m, wall);
          else this.stats.in.ignored++;
          return;
        default:
          this.stats.in.ignored++;
      }
    } catch (e) {
      countError(this.stats, e);
    }
  }

  /** Every control period: a 14-bit MSB whose LSB never came takes effect alone. */
  flush(wall: number): void {
    for (const v of this.pairs.flush(wall)) this.control(v);
  }

  /** The input went away: nothing it held may keep sounding. */
  lost(): void {
    this.engine.releaseAll();
    this.pedal.clear();
    this.sustained.clear();
  }

  /** Bindings changed (one was learned): buttons and steps start from scratch. */
  rebound(): void {
    this.controlState.clear();
  }

  private release(channel: number, note: number): void {
    for (const p of this.setup().play) {
      if (p.channel !== undefined && p.channel !== channel) continue;
      this.engine.releaseNote(p.voice, note);
    }
  }

  private sustain(channel: number, down: boolean): void {
    if (down) return void this.pedal.add(channel);
    this.pedal.delete(channel);
    const held = this.sustained.get(channel);
    this.sustained.delete(channel);
    for (const n of held ?? []) this.release(channel, n);
  }

  private isPair(channel: number, msb: number): boolean {
    return this.setup().controls.some((b) => b.cc === msb && b.bits === 14 && (b.channel === undefined || b.channel - 1 === channel));
  }

  private control(v: ControlValue): void {
    for (const b of this.setup().controls) {
      if (b.bend || b.cc !== v.controller || (b.channel !== undefined && b.channel - 1 !== v.channel)) continue;
      this.drive(b, v.value, v.value);
    }
  }

  /** Applies a binding: `x` is 0…1; `streamValue` what a stream gets (CC 0…1, pitch bend −1…1). */
  private drive(b: ControlBinding, x: number, streamValue: number): void {
    const engine = this.engine;
    if (b.stream !== undefined) {
      if (!engine.update(b.stream, streamValue)) this.stats.in.refused++;
      return;
    }
    const to = b.to!;
    let t = this.targets.get(to);
    if (t === undefined) {
      t = parseTarget(to, Object.keys(this.patch.voices), Object.keys(this.patch.buses));
      this.targets.set(to, t);
    }
    if (typeof t === 'string') return void this.stats.in.refused++;
    switch (t.kind) {
      case 'scene':
      case 'mode': {
        const steps = t.kind === 'scene' ? Object.keys(this.patch.scenes) : MODE_NAMES;
        const i = Math.min(steps.length - 1, Math.max(0, Math.floor(x * steps.length)));
        if (this.controlState.get(b) === i) return;
        this.controlState.set(b, i);
        if (t.kind === 'scene') engine.setScene(steps[i]!);
        else engine.runtime?.sequencer.setMode(steps[i] as (typeof MODE_NAMES)[number]);
        return;
      }
      case 'trigger': {
        // a button: fires when it goes past half way, once until it comes back
        const up = x >= 0.5 ? 1 : 0;
        const was = this.controlState.get(b) ?? 0;
        this.controlState.set(b, up);
        if (up && !was) this.refuse(engine.setParameter(to, Math.min(1, Math.max(0.5, x))));
        return;
      }
      default: {
        const d = targetDefaults(t)!;
        const [lo, hi] = b.range ?? d.range;
        this.refuse(engine.setParameter(to, mapToRange(x, lo, hi, b.curve ?? d.curve)));
      }
    }
  }

  private refuse(error: string | undefined): void {
    if (error === undefined) return;
    this.stats.in.refused++;
    this.stats.lastError = error;
  }
}
