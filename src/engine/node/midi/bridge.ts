/**
 * The MIDI bridge: a playing patch's `midi` section, live.
 *
 * In: notes play voices (sustain pedal held), controllers and pitch bend feed
 * streams or drive targets (14-bit pairs joined), MIDI learn binds the next
 * control moved and saves it beside the patch, program changes pick scenes,
 * an external clock sets the tempo and starts and stops the music.
 * Out: the generated notes per voice and channel, signals as 7- or 14-bit CC,
 * and clock (24 per beat, Start/Stop/Continue/Song Position) on the engine's
 * beats. Ports that appear and disappear are noticed by polling (JZZ has no
 * hot-plug events on every platform, webmidi#271).
 *
 * Every handler catches and counts what goes wrong: nothing that comes in over
 * MIDI, and no port that vanishes, can throw into the engine or stop the sound.
 */
import { existsSync, readFileSync, renameSync } from 'node:fs';
import { basename } from 'node:path';
import type { Engine, EngineEvent } from '../../audio/Engine.ts';
import { mapToRange } from '../../core/conditioning.ts';
import { ClockFollower, ClockOut, phaseLockedTempo, type ClockEvent } from '../../core/midi/clock.ts';
import {
  describeDestination,
  describeSource,
  LearnSession,
  mergeBindings,
  parseSidecar,
  resolveMidi,
  sidecarText,
  type ControlBinding,
  type LearnDestination,
  type MidiSetup,
} from '../../core/midi/config.ts';
import { ControlPairs, encodeControl, type ControlValue } from '../../core/midi/controls.ts';
import { controlChange, MidiParser, noteOff, noteOn, STOP, type MidiMessage } from '../../core/midi/parser.ts';
import { Timebase } from '../../core/midi/timebase.ts';
import type { Patch } from '../../core/patchSchema.ts';
import { parseTarget, targetDefaults, type Target } from '../../core/targets.ts';
import { MODE_NAMES } from '../../core/theory.ts';
import { writeFileAtomic } from '../files.ts';
import { matchPort, type MidiInputPort, type MidiOutputPort, type MidiSystem } from './system.ts';

export interface MidiBridgeOptions {
  engine: Engine;
  patch: Patch;
  system: MidiSystem;
  /** Port names (or parts of them) overriding the patch's midi.input / midi.output. */
  input?: string;
  output?: string;
  /** Where learned bindings live: `<patch>.midi.json` (see {@link sidecarPath}); none = learn in memory only. */
  sidecar?: string;
  /** Port poll period, ms (default 1000). */
  pollMs?: number;
  /** Control period, ms: CC out, 14-bit pair timeouts, clock loss (default 20). */
  tickMs?: number;
  log?: (message: string) => void;
}

/** The sidecar of a patch file: `x.yaml` → `x.midi.json`, beside it. */
export function sidecarPath(patchFile: string): string {
  return patchFile.replace(/\.(ya?ml|json)$/i, '') + '.midi.json';
}

/** Pitch bend 0…16383 as −1…1: centre 8192 is 0, both ends reach ±1 exactly. */
export function bendValue(raw: number): number {
  return raw >= 8192 ? (raw - 8192) / 8191 : (raw - 8192) / 8192;
}

/** How early the timer wakes for a clock tick; the rest is waited out (ms). */
const SPIN_MS = 1;

interface Queued {
  at: number;
  seq: number;
  note: boolean;
  run: () => void;
}

export class MidiBridge {
  setup: MidiSetup;
  problems: string[];
  readonly stats = {
    in: { messages: 0, notes: 0, controls: 0, programs: 0, clock: 0, ignored: 0, refused: 0 },
    out: { messages: 0, notes: 0, controls: 0, clock: 0, dropped: 0 },
    ports: { opened: 0, lost: 0 },
    errors: 0,
    lastError: '',
  };
  private learned: ControlBinding[] = [];
  private sidecarBroken = false;
  private readonly parser = new MidiParser();
  private pairs: ControlPairs;
  readonly follower: ClockFollower | undefined;
  readonly clockOut: ClockOut | undefined;
  private readonly timebase = new Timebase();
  private input?: MidiInputPort;
  private output?: MidiOutputPort;
  private waiting = { input: '', output: '' };
  private queue: Queued[] = [];
  private seq = 0;
  private timer?: NodeJS.Timeout;
  private pumpAt = Infinity;
  private ticker?: NodeJS.Timeout;
  private poller?: NodeJS.Timeout;
  private polling = false;
  private stopped = false;
  private readonly sounding = new Map<number, number>();
  private readonly usedChannels = new Set<number>();
  private readonly sentControls = new Map<number, number>();
  private readonly pedal = new Set<number>();
  private readonly sustained = new Map<number, Set<string>>();
  private readonly targets = new Map<string, Target | string>();
  private readonly controlState = new Map<ControlBinding, number>();
  private readonly engineBeats = new Map<number, number>();
  private phase: number | undefined;
  private learning?: { session: LearnSession; resolve: (b: ControlBinding | undefined) => void; timer: NodeJS.Timeout };
  private readonly unlisten: () => void;
  private readonly log: (message: string) => void;

  constructor(private readonly opts: MidiBridgeOptions) {
    this.log = opts.log ?? (() => undefined);
    if (opts.sidecar && existsSync(opts.sidecar)) {
      let text = '';
      try {
        text = readFileSync(opts.sidecar, 'utf8');
      } catch (e) {
        this.sidecarBroken = true;
        this.log(`MIDI: cannot read learned bindings ${opts.sidecar} (${(e as Error).message}); starting without them`);
      }
      const parsed = text ? parseSidecar(text) : [];
      if (typeof parsed === 'string') {
        this.sidecarBroken = true;
        this.log(`MIDI: ignoring learned bindings in ${opts.sidecar}: ${parsed}`);
      } else this.learned = parsed;
    }
    ({ setup: this.setup, problems: this.problems } = resolveMidi(opts.patch, { input: opts.input, output: opts.output }, this.learned));
    for (const p of this.problems) this.log(`MIDI: ${p}`);
    this.pairs = new ControlPairs((ch, msb) => this.isPair(ch, msb));
    this.follower = this.setup.clock.in ? new ClockFollower() : undefined;
    this.clockOut = this.setup.clock.out ? new ClockOut() : undefined;
    this.unlisten = opts.engine.addListener((e) => this.engineEvent(e));
  }

  /** Opens the ports (or starts waiting for them) and starts the timers. */
  async start(): Promise<void> {
    this.observe();
    await this.poll();
    if (this.stopped) return;
    this.poller = setInterval(() => void this.poll(), this.opts.pollMs ?? 1000);
    this.ticker = setInterval(() => this.tick(), this.opts.tickMs ?? 20);
  }

  /** The input and output now open. */
  get ports(): { input?: string; output?: string } {
    return { input: this.input?.name, output: this.output?.name };
  }

  /** Smoothed phase error of the engine's beats against an incoming clock's (s; + = engine late), while locked. */
  get phaseError(): number | undefined {
    return this.phase;
  }

  /** Bindings learned for this patch (as saved in its sidecar). */
  get learnedBindings(): readonly ControlBinding[] {
    return this.learned;
  }

  // ---------------------------------------------------------------- ports

  private async poll(): Promise<void> {
    if (this.polling || this.stopped) return;
    this.polling = true;
    try {
      const { inputs, outputs } = await this.opts.system.ports();
      if (this.stopped) return;
      const wantIn = this.setup.input;
      if (wantIn !== undefined) {
        const name = matchPort(inputs, wantIn);
        if (this.input && !inputs.some((p) => p.name === this.input!.name)) this.lose('input');
        if (!this.input && name) {
          const port = await this.opts.system.openInput(name, (bytes, wall) => this.receive(bytes, wall));
          if (this.stopped) port.close();
          else {
            this.input = port;
            this.parser.reset();
            this.stats.ports.opened++;
            this.waiting.input = '';
            this.log(`MIDI input: ${name}`);
          }
        } else if (!this.input && this.waiting.input !== wantIn) {
          this.waiting.input = wantIn;
          this.log(`MIDI input "${wantIn}" not found (inputs: ${inputs.map((p) => p.name).join(', ') || 'none'}); waiting for it`);
        }
      }
      const wantOut = this.setup.output;
      if (wantOut !== undefined) {
        const name = matchPort(outputs, wantOut);
        if (this.output && !outputs.some((p) => p.name === this.output!.name)) this.lose('output');
        if (!this.output && name) {
          const port = await this.opts.system.openOutput(name);
          if (this.stopped) port.close();
          else {
            this.output = port;
            this.stats.ports.opened++;
            this.waiting.output = '';
            this.sentControls.clear();
            this.log(`MIDI output: ${name}`);
          }
        } else if (!this.output && this.waiting.output !== wantOut) {
          this.waiting.output = wantOut;
          this.log(`MIDI output "${wantOut}" not found (outputs: ${outputs.map((p) => p.name).join(', ') || 'none'}); waiting for it`);
        }
      }
    } catch (e) {
      this.fail(e);
    } finally {
      this.polling = false;
    }
  }

  private lose(which: 'input' | 'output'): void {
    const port = which === 'input' ? this.input : this.output;
    if (!port) return;
    port.close();
    this.stats.ports.lost++;
    this.log(`MIDI ${which} "${port.name}" disappeared; waiting for it to come back`);
    if (which === 'input') {
      this.input = undefined;
      // a keyboard unplugged mid-chord must not leave notes hanging
      this.opts.engine.releaseAll();
      this.pedal.clear();
      this.sustained.clear();
    } else {
      this.output = undefined;
      this.sounding.clear();
    }
  }

  // ---------------------------------------------------------------- in

  /** Bytes from the input port (or a test), with their arrival time (performance.now(), ms). */
  receive(bytes: readonly number[], wallMs: number = performance.now()): void {
    this.stats.in.messages++;
    try {
      this.observe();
      this.parser.push(bytes, (m) => this.handle(m, wallMs / 1000));
    } catch (e) {
      this.fail(e);
    }
  }

  /** Parser counters: stray data, truncated messages, aborted and oversized SysEx… */
  get parserStats(): MidiParser['stats'] {
    return this.parser.stats;
  }

  private handle(m: MidiMessage, wall: number): void {
    try {
      if (this.learning && (m.type === 'cc' || m.type === 'pitchBend')) {
        const b = this.learning.session.push(m);
        if (b) this.learnt(b);
      }
      const engine = this.opts.engine;
      switch (m.type) {
        case 'noteOn':
          this.sustained.get(m.channel)?.delete(`${m.note}`);
          for (const p of this.setup.play) {
            if (p.channel !== undefined && p.channel !== m.channel) continue;
            if (engine.playNote(p.voice, m.note, m.velocity / 127)) this.stats.in.notes++;
          }
          return;
        case 'noteOff':
          if (this.pedal.has(m.channel)) {
            let s = this.sustained.get(m.channel);
            if (!s) this.sustained.set(m.channel, (s = new Set()));
            s.add(`${m.note}`);
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
          for (const b of this.setup.controls)
            if (b.bend && (b.channel === undefined || b.channel - 1 === m.channel)) this.drive(b, m.value / 16383, bendValue(m.value));
          return;
        case 'program': {
          const scene = this.setup.programs.get(m.program);
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
          if (this.follower) this.clockEvents(this.follower.message(m, wall));
          else this.stats.in.ignored++;
          return;
        default:
          this.stats.in.ignored++;
      }
    } catch (e) {
      this.fail(e);
    }
  }

  private release(channel: number, note: number): void {
    for (const p of this.setup.play) {
      if (p.channel !== undefined && p.channel !== channel) continue;
      this.opts.engine.releaseNote(p.voice, note);
    }
  }

  private sustain(channel: number, down: boolean): void {
    if (down) return void this.pedal.add(channel);
    this.pedal.delete(channel);
    const held = this.sustained.get(channel);
    this.sustained.delete(channel);
    for (const n of held ?? []) this.release(channel, Number(n));
  }

  private isPair(channel: number, msb: number): boolean {
    return this.setup.controls.some((b) => b.cc === msb && b.bits === 14 && (b.channel === undefined || b.channel - 1 === channel));
  }

  private control(v: ControlValue): void {
    for (const b of this.setup.controls) {
      if (b.bend || b.cc !== v.controller || (b.channel !== undefined && b.channel - 1 !== v.channel)) continue;
      this.drive(b, v.value, v.value);
    }
  }

  /** Applies a binding: `x` is 0…1; `streamValue` what a stream gets (CC 0…1, pitch bend −1…1). */
  private drive(b: ControlBinding, x: number, streamValue: number): void {
    const engine = this.opts.engine;
    if (b.stream !== undefined) {
      if (!engine.update(b.stream, streamValue)) this.stats.in.refused++;
      return;
    }
    const to = b.to!;
    let t = this.targets.get(to);
    if (t === undefined) {
      t = parseTarget(to, Object.keys(this.opts.patch.voices), Object.keys(this.opts.patch.buses));
      this.targets.set(to, t);
    }
    if (typeof t === 'string') return void this.stats.in.refused++;
    switch (t.kind) {
      case 'scene':
      case 'mode': {
        const steps = t.kind === 'scene' ? Object.keys(this.opts.patch.scenes) : MODE_NAMES;
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

  // ---------------------------------------------------------------- clock in

  private clockEvents(events: ClockEvent[]): void {
    const engine = this.opts.engine;
    for (const e of events) {
      switch (e.type) {
        case 'tempo':
          this.applyTempo();
          break;
        case 'start':
        case 'continue': {
          this.engineBeats.clear();
          this.phase = undefined;
          const t = this.engineTime(e.time);
          engine.transport(e.type, t, e.step);
          this.applyTempo();
          break;
        }
        case 'stop': {
          engine.transport('stop', this.engineTime(e.time));
          this.phase = undefined;
          break;
        }
        case 'beat': {
          const mine = this.engineBeats.get(e.beat);
          if (mine === undefined) break;
          const error = mine - this.timebase.toEngine(e.time);
          // receive jitter is a millisecond or two: average it out a little
          this.phase = this.phase === undefined ? error : 0.7 * this.phase + 0.3 * error;
          this.applyTempo();
          break;
        }
        case 'lost':
          this.phase = undefined;
          this.log(`MIDI clock lost${this.follower?.bpm ? `; keeping ${this.follower.bpm.toFixed(1)} BPM` : ''}`);
          break;
      }
    }
  }

  private applyTempo(): void {
    const f = this.follower;
    if (!f?.bpm) return;
    this.opts.engine.setTempo(f.running && this.phase !== undefined ? phaseLockedTempo(f.bpm, this.phase) : f.bpm);
  }

  /** Engine time of a wall instant (seconds), never in the engine's past. */
  private engineTime(wall: number): number {
    return Math.max(this.timebase.toEngine(wall), this.opts.engine.context.currentTime);
  }

  // ---------------------------------------------------------------- out

  private engineEvent(e: EngineEvent): void {
    try {
      if (e.type === 'note') this.notesOut(e.voice, e.notes, e.time, e.duration, e.velocity);
      else if (e.type === 'beat') {
        this.engineBeats.set(e.beat, e.time);
        this.engineBeats.delete(e.beat - 16);
        if (this.clockOut) {
          this.clockOut.beat(e.beat, e.time, e.tempo);
          this.arm();
        }
      } else if (e.type === 'transport' && e.action === 'stop') {
        // the next beat after a stop sends the song position and Start or Continue
        this.clockOut?.stop(e.time);
        this.arm();
      } else if (e.type === 'mute' && e.muted) this.allNotesOff();
    } catch (err) {
      this.fail(err);
    }
  }

  private notesOut(voice: string, notes: readonly number[], time: number, duration: number, velocity: number): void {
    const channel = this.setup.channels.get(voice);
    if (channel === undefined || !this.output || this.opts.engine.muted) return;
    this.usedChannels.add(channel);
    const vel = Math.max(1, Math.min(127, Math.round(velocity * 127)));
    const on = this.timebase.toWall(time) * 1000;
    const off = this.timebase.toWall(time + duration) * 1000;
    for (const n of notes) {
      const note = Math.max(0, Math.min(127, Math.round(n)));
      const key = (channel << 7) | note;
      const token = ++this.seq;
      this.enqueue(on, true, () => {
        // the same note still sounding (a repeat): end it first, or the later
        // note-off would cut the new one
        if (this.sounding.has(key)) this.send(noteOff(channel, note));
        this.sounding.set(key, token);
        if (this.send(noteOn(channel, note, vel))) this.stats.out.notes++;
      });
      this.enqueue(off, true, () => {
        if (this.sounding.get(key) !== token) return;
        this.sounding.delete(key);
        this.send(noteOff(channel, note));
      });
    }
  }

  /** Ends every note sent (panic, stop): note-offs, then All Notes Off on each channel used. */
  private allNotesOff(): void {
    this.queue = this.queue.filter((q) => !q.note);
    for (const key of this.sounding.keys()) this.send(noteOff(key >> 7, key & 127));
    this.sounding.clear();
    for (const ch of this.usedChannels) this.send(controlChange(ch, 123, 0));
  }

  private enqueue(at: number, note: boolean, run: () => void): void {
    const item = { at, seq: this.seq++, note, run };
    let lo = 0;
    let hi = this.queue.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.queue[mid]!.at <= at) lo = mid + 1;
      else hi = mid;
    }
    this.queue.splice(lo, 0, item);
    this.arm();
  }

  /** Arms the one timer for the next message due (notes, CC, clock). */
  private arm(): void {
    if (this.stopped) return;
    const clockNext = this.clockOut?.next;
    const at = Math.min(this.queue[0]?.at ?? Infinity, clockNext === undefined ? Infinity : this.timebase.toWall(clockNext) * 1000);
    if (at === Infinity) return;
    if (this.timer && this.pumpAt <= at) return;
    if (this.timer) clearTimeout(this.timer);
    this.pumpAt = at;
    // Timers fire up to a millisecond late: wake a little early for clock ticks and wait the rest out.
    this.timer = setTimeout(() => this.pump(), Math.max(0, at - performance.now() - (this.clockOut ? SPIN_MS : 0)));
  }

  private pump(): void {
    this.timer = undefined;
    this.pumpAt = Infinity;
    try {
      const until = performance.now() + SPIN_MS;
      for (;;) {
        const horizon = performance.now() + 0.05;
        if (this.clockOut)
          for (const m of this.clockOut.take(this.timebase.toEngine(horizon / 1000))) if (this.send(m.bytes) && m.bytes[0] === 0xf8) this.stats.out.clock++;
        while (this.queue.length && this.queue[0]!.at <= horizon) this.queue.shift()!.run();
        const next = this.clockOut?.next;
        if (next === undefined) break;
        const due = this.timebase.toWall(next) * 1000;
        if (due > until) break;
        while (performance.now() < due) {
          // a short wait for a clock tick due within SPIN_MS
        }
      }
    } catch (e) {
      this.fail(e);
    }
    this.arm();
  }

  private send(bytes: readonly number[]): boolean {
    if (!this.output) {
      this.stats.out.dropped++;
      return false;
    }
    try {
      this.output.send(bytes);
      this.stats.out.messages++;
      return true;
    } catch (e) {
      this.fail(e);
      return false;
    }
  }

  /** Every control period: pair timeouts, clock loss, signals out as CC. */
  private tick(): void {
    try {
      this.observe();
      const wall = performance.now() / 1000;
      for (const v of this.pairs.flush(wall)) this.control(v);
      if (this.follower) this.clockEvents(this.follower.check(wall));
      if (this.output && this.setup.send.length) {
        const signals = this.opts.engine.values().signals;
        this.setup.send.forEach((s, i) => {
          const v = signals[s.from];
          if (v === undefined) return;
          const enc = encodeControl(s.channel, s.cc, v, s.bits, this.sentControls.get(i));
          for (const m of enc.messages) if (this.send(m)) this.stats.out.controls++;
          this.sentControls.set(i, enc.raw);
        });
      }
    } catch (e) {
      this.fail(e);
    }
  }

  private observe(): void {
    this.timebase.observe(this.opts.engine.context.currentTime, performance.now() / 1000);
  }

  // ---------------------------------------------------------------- learn

  /**
   * MIDI learn: the next controller (or pitch bend) moved is bound to
   * `destination` (a target such as "pad.filter.frequency", or a stream),
   * replacing what that control or destination was bound to, and saved to the
   * sidecar. Resolves with the binding, or undefined after `timeoutMs` or when
   * another learn or stop() cancels it. Rejects a destination the patch lacks.
   */
  learn(destination: LearnDestination, timeoutMs = 30_000): Promise<ControlBinding | undefined> {
    const patch = this.opts.patch;
    if ('stream' in destination) {
      if (!Object.hasOwn(patch.streams, destination.stream))
        return Promise.reject(new Error(`learn: the patch has no stream "${destination.stream}" (streams: ${Object.keys(patch.streams).join(', ')})`));
    } else {
      const t = parseTarget(destination.to, Object.keys(patch.voices), Object.keys(patch.buses));
      if (typeof t === 'string') return Promise.reject(new Error(`learn: ${t}`));
    }
    this.cancelLearn();
    return new Promise((resolve) => {
      this.learning = { session: new LearnSession(destination), resolve, timer: setTimeout(() => this.cancelLearn(), timeoutMs) };
    });
  }

  private cancelLearn(): void {
    const l = this.learning;
    if (!l) return;
    this.learning = undefined;
    clearTimeout(l.timer);
    l.resolve(undefined);
  }

  private learnt(b: ControlBinding): void {
    const l = this.learning!;
    this.learning = undefined;
    clearTimeout(l.timer);
    this.learned = mergeBindings(this.learned, [b]);
    ({ setup: this.setup, problems: this.problems } = resolveMidi(this.opts.patch, { input: this.opts.input, output: this.opts.output }, this.learned));
    this.controlState.clear();
    let where = ' (not saved: no patch file)';
    const file = this.opts.sidecar;
    if (file) {
      try {
        if (this.sidecarBroken && existsSync(file)) renameSync(file, `${file}.bad`);
        this.sidecarBroken = false;
        writeFileAtomic(file, sidecarText(this.learned));
        where = ` (saved to ${basename(file)})`;
      } catch (e) {
        this.fail(e);
        where = ` (NOT saved: ${(e as Error)?.message ?? String(e)})`;
      }
    }
    this.log(`MIDI learn: ${describeSource(b)} → ${describeDestination(b)}${where}`);
    l.resolve(b);
  }

  // ---------------------------------------------------------------- stop

  /** Ends sent notes, stops the clock, releases held notes, closes the ports. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.cancelLearn();
    this.unlisten();
    clearInterval(this.poller);
    clearInterval(this.ticker);
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    try {
      if (this.clockOut?.running) this.send([STOP]);
      this.allNotesOff();
      this.opts.engine.releaseAll();
    } catch (e) {
      this.fail(e);
    }
    this.stopped = true;
    this.queue = [];
    this.input?.close();
    this.output?.close();
    this.input = this.output = undefined;
  }

  private fail(e: unknown): void {
    this.stats.errors++;
    this.stats.lastError = (e as Error)?.message ?? String(e);
  }
}
