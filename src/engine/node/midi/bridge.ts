/**
 * The MIDI bridge: a playing patch's `midi` section, live. It wires the parts:
 * - ports.ts: the input and output, opened when they appear, polled;
 * - input.ts: notes, controllers, pitch bend and program changes in;
 * - learn.ts: MIDI learn, and the learned bindings saved beside the patch;
 * - clock.ts: an external clock followed, and clock sent on the engine's beats;
 * - output.ts: generated notes and signals out.
 * Everything timed goes through the engine's clock service (../clock.ts).
 *
 * Every handler catches and counts what goes wrong: nothing that comes in over
 * MIDI, and no port that vanishes, can throw into the engine or stop the sound.
 */
import type { Engine, EngineEvent } from '../../audio/Engine.ts';
import type { Clock, Disposable } from '../../core/clock.ts';
import type { ClockFollower, ClockOut } from '../../core/midi/clock.ts';
import { resolveMidi, type ControlBinding, type LearnDestination, type MidiSetup } from '../../core/midi/config.ts';
import { MidiParser, type MidiMessage } from '../../core/midi/parser.ts';
import type { Patch } from '../../core/patchSchema.ts';
import { clockFor } from '../clock.ts';
import { MidiClockIn, MidiClockOut } from './clock.ts';
import { MidiInput } from './input.ts';
import { MidiLearn } from './learn.ts';
import { MidiOutput } from './output.ts';
import { MidiPorts } from './ports.ts';
import { countError, midiStats } from './stats.ts';
import type { MidiSystem } from './system.ts';

export { bendValue } from './input.ts';
export { sidecarPath } from './learn.ts';

/** Controllers elsewhere (by client and port name) the bridge keeps a parser for. */
const MAX_REMOTE_PORTS = 16;

/**
 * A controller elsewhere: its own parser (running status never mixes with
 * another's), and what it holds down now, so that when it goes away (a page
 * closed, its client cut off) exactly its notes are let go.
 */
interface RemotePort {
  /** The client it came through (a WebSocket connection of the server), when known. */
  client: string | undefined;
  parser: MidiParser;
  /** Notes held down: `channel << 7 | note`. */
  held: Set<number>;
  /** Channels whose sustain pedal it holds down. */
  pedal: Set<number>;
}

const remoteKey = (client: string | undefined, port: string) => `${client ?? ''}\u0000${port}`;

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
  /** The clock to schedule on (default: the engine context's, shared with the other bridges). */
  clock?: Clock;
  log?: (message: string) => void;
}

export class MidiBridge {
  setup: MidiSetup;
  problems: string[];
  readonly stats = midiStats();
  private readonly clock: Clock;
  private readonly parser = new MidiParser();
  /** Controllers elsewhere, by client and port name ({@link receiveFrom}). */
  private readonly remote = new Map<string, RemotePort>();
  private readonly io: MidiPorts;
  private readonly input: MidiInput;
  private readonly learning: MidiLearn;
  private readonly clockIn: MidiClockIn | undefined;
  private readonly clockOutSender: MidiClockOut | undefined;
  private readonly output: MidiOutput;
  private timers: Disposable[] = [];
  private stopped = false;
  private readonly unlisten: () => void;
  private readonly log: (message: string) => void;

  constructor(private readonly opts: MidiBridgeOptions) {
    const { engine, patch } = opts;
    this.log = opts.log ?? (() => undefined);
    this.clock = opts.clock ?? clockFor(engine.context);
    const fail = (e: unknown) => countError(this.stats, e);
    this.learning = new MidiLearn(patch, opts.sidecar, (learned) => this.resolve(learned), this.log, fail);
    ({ setup: this.setup, problems: this.problems } = this.resolved(this.learning.bindings));
    for (const p of this.problems) this.log(`MIDI: ${p}`);
    const setup = () => this.setup;
    this.clockIn = this.setup.clock.in ? new MidiClockIn(engine, this.clock, this.log) : undefined;
    this.input = new MidiInput(engine, patch, setup, this.clockIn && ((m, wall) => this.clockIn!.message(m, wall)), this.stats);
    this.io = new MidiPorts(opts.system, setup, { receive: (bytes, wall) => this.receive(bytes, wall), opened: (w) => this.opened(w), lost: (w) => this.lost(w) }, this.stats, this.log);
    this.output = new MidiOutput(engine, this.clock, setup, () => this.io.output, this.stats);
    this.clockOutSender = this.setup.clock.out ? new MidiClockOut(this.clock, (b) => this.output.send(b), this.stats.out) : undefined;
    this.unlisten = engine.addListener((e) => this.engineEvent(e));
  }

  /** Opens the ports (or starts waiting for them) and starts the timers. */
  async start(): Promise<void> {
    await this.io.poll();
    if (this.stopped) return;
    this.timers = [this.clock.every((this.opts.pollMs ?? 1000) / 1000, () => void this.io.poll()), this.clock.every((this.opts.tickMs ?? 20) / 1000, () => this.tick())];
  }

  /** The input and output now open. */
  get ports(): { input?: string; output?: string } {
    return { input: this.io.input?.name, output: this.io.output?.name };
  }

  /** The clock follower, when the patch follows an external clock. */
  get follower(): ClockFollower | undefined {
    return this.clockIn?.follower;
  }

  /** The clock-out plan, when the patch sends clock. */
  get clockOut(): ClockOut | undefined {
    return this.clockOutSender?.plan;
  }

  /** Smoothed phase error of the engine's beats against an incoming clock's (s; + = engine late), while locked. */
  get phaseError(): number | undefined {
    return this.clockIn?.phase;
  }

  /** Bindings learned for this patch (as saved in its sidecar). */
  get learnedBindings(): readonly ControlBinding[] {
    return this.learning.bindings;
  }

  /** Parser counters: stray data, truncated messages, aborted and oversized SysEx… */
  get parserStats(): MidiParser['stats'] {
    return this.parser.stats;
  }

  /**
   * Bytes from the input port (or a test), with their arrival time (wall ms,
   * performance.now(); a driver's timestamp where there is one).
   */
  receive(bytes: readonly number[], wallMs: number = this.clock.wallMs()): void {
    this.parse(this.parser, bytes, wallMs);
  }

  /**
   * Bytes from a controller elsewhere (a page's Web MIDI input, the `midiIn`
   * command): the same learn and bindings as the input port, with a parser of
   * its own per port name (and client) so that its messages never mix with
   * the port's. The notes it holds are tracked: {@link releaseRemote}.
   */
  receiveFrom(port: string, bytes: readonly number[], wallMs: number = this.clock.wallMs(), client?: string): void {
    const key = remoteKey(client, port);
    let r = this.remote.get(key);
    if (!r) {
      // a handful of names at most: the oldest is forgotten, and what it held let go
      if (this.remote.size >= MAX_REMOTE_PORTS) this.forget(this.remote.keys().next().value!, wallMs);
      this.remote.set(key, (r = { client, parser: new MidiParser(), held: new Set(), pedal: new Set() }));
    }
    const held = r;
    this.parse(r.parser, bytes, wallMs, (m) => {
      if (m.type === 'noteOn') held.held.add((m.channel << 7) | m.note);
      else if (m.type === 'noteOff') held.held.delete((m.channel << 7) | m.note);
      else if (m.type === 'cc' && m.controller === 64) {
        if (m.value >= 64) held.pedal.add(m.channel);
        else held.pedal.delete(m.channel);
      } else if (m.type === 'cc' && (m.controller === 120 || m.controller === 123)) held.held.clear();
    });
  }

  /**
   * A controller elsewhere went away (its page closed, its connection
   * dropped): the notes it held and its sustain pedal are let go, as if it
   * had sent the note-offs, and its parser is forgotten. `port` undefined:
   * every port of `client`. Returns how many notes were let go.
   */
  releaseRemote(client: string | undefined, port?: string): number {
    let n = 0;
    for (const [key, r] of [...this.remote]) if (r.client === client && (port === undefined || key === remoteKey(client, port))) n += this.forget(key);
    return n;
  }

  /** Notes held down now by controllers elsewhere (all, or one client's). */
  remoteHeld(client?: string): number {
    let n = 0;
    for (const r of this.remote.values()) if (client === undefined || r.client === client) n += r.held.size;
    return n;
  }

  private forget(key: string, wallMs: number = this.clock.wallMs()): number {
    const r = this.remote.get(key);
    if (!r) return 0;
    this.remote.delete(key);
    const n = r.held.size;
    const wall = wallMs / 1000;
    try {
      for (const ch of r.pedal) this.input.handle({ type: 'cc', channel: ch, controller: 64, value: 0 }, wall);
      for (const k of r.held) this.input.handle({ type: 'noteOff', channel: k >> 7, note: k & 0x7f, velocity: 0 }, wall);
    } catch (e) {
      countError(this.stats, e);
    }
    return n;
  }

  private parse(parser: MidiParser, bytes: readonly number[], wallMs: number, seen?: (m: MidiMessage) => void): void {
    this.stats.in.messages++;
    try {
      parser.push(bytes, (m) => {
        try {
          seen?.(m);
          this.learning.push(m);
        } catch (e) {
          countError(this.stats, e);
        }
        this.input.handle(m, wallMs / 1000);
      });
    } catch (e) {
      countError(this.stats, e);
    }
  }

  /**
   * MIDI learn: the next controller (or pitch bend) moved is bound to
   * `destination` (a target such as "pad.filter.frequency", or a stream),
   * replacing what that control or destination was bound to, and saved to the
   * sidecar. Resolves with the binding, or undefined after `timeoutMs` or when
   * another learn or stop() cancels it. Rejects a destination the patch lacks.
   */
  learn(destination: LearnDestination, timeoutMs = 30_000): Promise<ControlBinding | undefined> {
    return this.learning.learn(destination, timeoutMs);
  }

  private resolved(learned: readonly ControlBinding[]): { setup: MidiSetup; problems: string[] } {
    return resolveMidi(this.opts.patch, { input: this.opts.input, output: this.opts.output }, learned);
  }

  private resolve(learned: readonly ControlBinding[]): void {
    ({ setup: this.setup, problems: this.problems } = this.resolved(learned));
    this.input.rebound();
  }

  private opened(which: 'input' | 'output'): void {
    if (which === 'input') this.parser.reset();
    else this.output.opened();
  }

  private lost(which: 'input' | 'output'): void {
    // a keyboard unplugged mid-chord must not leave notes hanging
    if (which === 'input') this.input.lost();
    else this.output.lost();
  }

  private engineEvent(e: EngineEvent): void {
    try {
      if (e.type === 'note') this.output.notes(e.voice, e.notes, e.time, e.duration, e.velocity);
      else if (e.type === 'beat') {
        this.clockIn?.engineBeat(e.beat, e.time);
        this.clockOutSender?.beat(e.beat, e.time, e.tempo);
      } else if (e.type === 'transport' && e.action === 'stop') this.clockOutSender?.transportStop(e.time);
      else if (e.type === 'mute' && e.muted) this.output.allNotesOff();
    } catch (err) {
      countError(this.stats, err);
    }
  }

  /** Every control period: pair timeouts, clock loss, signals out as CC. */
  private tick(): void {
    try {
      const wall = this.clock.wallMs() / 1000;
      this.input.flush(wall);
      this.clockIn?.check(wall);
      this.output.controls();
    } catch (e) {
      countError(this.stats, e);
    }
  }

  /** Ends sent notes, stops the clock, releases held notes, closes the ports. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.learning.cancel();
    this.unlisten();
    for (const t of this.timers) t.dispose();
    try {
      this.clockOutSender?.close();
      this.output.allNotesOff();
      this.opts.engine.releaseAll();
    } catch (e) {
      countError(this.stats, e);
    }
    this.io.close();
  }
}
