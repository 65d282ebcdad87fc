/**
 * A live show: one long-lived object that owns the real-time player, the
 * source hub, every bridge (OSC in and out, OSCQuery, MIDI, Art-Net, sACN) and
 * the patch, and that every host drives through one command API
 * ({@link Session.handle}, the protocol of `src/shared/protocol.ts`), one
 * {@link Session.snapshot}, events ({@link Session.onEvent}) and telemetry
 * frames ({@link Session.onTelemetry}).
 *
 * What runs lives in disposable stores: the session's (hot reload, a bounce),
 * the output's (player, telemetry, meter, OSC control in, OSCQuery: they
 * outlive patches, and are rebuilt when the `output` command re-opens the
 * audio on another device or rate), the patch's sources (the hub) and the
 * patch's bridges (OSC out, lighting, MIDI: rebuilt for each patch loaded, and
 * with the output). Each is started in one place and stopped in one place, in
 * reverse order, whatever failed in between.
 *
 * Every stream value, whatever its origin (a feed, OSC `/eco/stream/…`, a MIDI
 * control, an `inject` command), passes the hub's gate before the engine sees it.
 */
import type { SessionLink } from './link.ts';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { Engine, EngineEvent } from '../../audio/Engine.ts';
import { parsePatchOrThrow } from '../../core/patchLoader.ts';
import { parseTarget, targetInfo } from '../../core/targets.ts';
import type { ConnectionChange, Transition } from '../../core/sources/status.ts';
import type { LearnDestination } from '../../core/midi/config.ts';
import { listBuiltinPatchFiles, loadPatchFile, loadPatchSamples, patchId, resolvePatchPath, type PatchFile } from '../files.ts';
import { NoAudioDeviceError, startPlayer, type Player } from '../realtime.ts';
import { findOutputDevice, listOutputDevices } from '../devices.ts';
import { SourceHub } from '../sources/hub.ts';
import { ArtNetBridge, rigFor, type ArtNetTarget } from '../bridges/artnet.ts';
import { isLoopbackHost } from '../../core/osc/allow.ts';
import { OscControl } from '../bridges/oscControl.ts';
import { OscQueryServer } from '../bridges/oscQuery.ts';
import { OscOutBridge, type OscTarget } from '../bridges/oscOut.ts';
import { MidiBridge, sidecarPath } from '../midi/bridge.ts';
import { openMidiSystem, portlessMidi, type MidiSystem } from '../midi/system.ts';
import {
  errorReply,
  okReply,
  parseCommand,
  PROTOCOL_VERSION,
  type Command,
  type PatchProblem,
  type PatchRef,
  type Reply,
  type SessionEvent,
  type Snapshot,
  type TelemetryFrame,
} from '../../../shared/protocol.ts';
import { startRecording, type Recording } from './recorder.ts';
import { FileWatcher } from './watch.ts';
import { Bounce } from './bounce.ts';
import type { LaunchRender } from './renderProcess.ts';
import { checkPatchFile, patchInputs } from '../patchCheck.ts';
import { Telemetry } from './telemetry.ts';
import { AUTHOR_COMMANDS, Authoring, type AuthorCommand } from './authoring.ts';
import { defaultPatchesDir } from './library.ts';
import { BOUNCE_SUBDIR, confineOutputPath } from './outputPath.ts';

/** Things to stop, stopped in reverse order of starting; one failure never skips the rest. */
export class DisposableStore {
  private readonly items: Array<{ name: string; stop: () => unknown }> = [];

  /** Adds something to stop; returns it. */
  add<T>(name: string, thing: T, stop: (t: T) => unknown): T {
    this.items.push({ name, stop: () => stop(thing) });
    return thing;
  }

  /** Stops everything added (last first). Resolves with the errors met, by name. */
  async dispose(): Promise<string[]> {
    const errors: string[] = [];
    while (this.items.length) {
      const it = this.items.pop()!;
      try {
        await it.stop();
      } catch (e) {
        errors.push(`${it.name}: ${(e as Error)?.message ?? String(e)}`);
      }
    }
    return errors;
  }
}

/** A bridge that could not start (a port in use, a socket refused), named. */
export class BridgeError extends Error {
  constructor(
    readonly bridge: string,
    cause: unknown,
  ) {
    super(`${bridge}: ${(cause as Error)?.message ?? String(cause)}`, { cause });
    this.name = 'BridgeError';
  }
}

/** A URL host for an address a server reports (IPv6 in brackets). */
function urlHost(address: string): string {
  return address.includes(':') ? `[${address}]` : address;
}

/** How a session starts. Flags are resolved by the host; a session takes their values. */
export interface SessionOptions {
  patch: PatchFile;
  sink: 'default' | 'none';
  /** An output device (id and label, see `devices.ts`) instead of the default one. */
  device?: { id: string; label: string };
  /** The output's sample rate (default: the device's). */
  sampleRate?: number;
  seed?: number;
  /** stream → source URI (`--data`), replacing the patch's default sources. */
  overrides?: ReadonlyMap<string, string>;
  /** Data seconds per second for files without a speed. */
  speed?: number;
  /** Seconds over which file data is spread when no speed is given (then it loops). */
  loopSeconds?: number;
  /** Feed cache directory; false for none (tests). */
  cacheDir?: string | false;
  /** OSC control in (resolved host and port, sender allow-list). */
  oscIn?: { host: string; port: number; allow?: string[] };
  /** OSCQuery server, describing the OSC control port. */
  oscQuery?: { host: string; port: number };
  /** OSC out targets (used when the playing patch has osc.out). */
  oscOut?: OscTarget[];
  /** DMX targets (used when the playing patch has lighting). */
  lighting?: ArtNetTarget[];
  /**
   * MIDI ports (names or parts); `always` starts the bridge even for a patch
   * without a midi section (MIDI learn needs it); `false` for no MIDI at all.
   */
  midi?: { input?: string; output?: string; always?: boolean } | false;
  /** Lines about what started ("  lighting: Art-Net to …"), for a host to print. */
  log?: (line: string) => void;
  /** Telemetry frames a second (at most 30). */
  telemetryFps?: number;
  /**
   * Hot reload: watch the playing patch's file and the data files and samples
   * it names; on a save, validate and swap (crossfade in seconds, default 1),
   * or report the problems and play on. Only for a patch that is a file.
   */
  watch?: boolean | { crossfade?: number; debounceMs?: number };
  /** The user's patch folder (`--patches-dir`; default: the platform's data folder, see library.ts). */
  patchesDir?: string;
  /** The output ceiling no patch, parameter or command can exceed, dBFS sample peak (an installation's maxLevel; default -1). */
  maxLevelDb?: number;
  /** A level cap below the ceiling from the start, dBFS sample peak (see the `levelCap` command). */
  levelCapDb?: number;
  /** Seconds over which the output fades in from silence after the start and after the output re-opens (default 0). */
  fadeIn?: number;
  /** Starts a bounce's render process (default: this process spawns it; the desktop app's session child asks its main process, see renderProcess.ts). */
  launchRender?: LaunchRender;
}

/** The first value and its time, for levels over a window. */
interface LevelSample {
  at: number;
  peak: number;
  power: number;
}

const now = () => Date.now() / 1000;

/** Reads a patch by id, path or text. Throws with what was wrong (file, line, path). */
export function readPatch(ref: PatchRef, cwd = process.cwd()): PatchFile {
  if ('text' in ref) return { file: resolve(cwd, '<session>.yaml'), dir: cwd, patch: parsePatchOrThrow(ref.text, '<session>') };
  if ('id' in ref) {
    const found = listBuiltinPatchFiles().find((f) => patchId(f) === ref.id);
    if (!found) throw new Error(`no built-in patch "${ref.id}" (patches: ${listBuiltinPatchFiles().map(patchId).join(', ')})`);
    return loadPatchFile(found);
  }
  const file = resolvePatchPath(ref.path);
  if (!existsSync(file)) throw new Error(`no patch file ${ref.path}`);
  return loadPatchFile(file);
}

/** Where the session's audio goes. */
interface Output {
  sink: 'default' | 'none';
  device?: { id: string; label: string };
  sampleRate?: number;
}

export class Session implements SessionLink {
  private readonly store = new DisposableStore();
  private outputStore = new DisposableStore();
  private patchStore = new DisposableStore();
  private bridgeStore = new DisposableStore();
  private readonly events = new Set<(e: SessionEvent) => void>();
  private readonly authoring: Authoring;
  private telemetry: Telemetry;
  /** Telemetry subscribers, kept across a change of output. */
  private readonly telemetrySubs = new Set<{ fn: (f: TelemetryFrame) => void; remove: () => void }>();
  private output: Output;
  /** Parameters set with the `param` command (target → value), applied again when the output is re-opened or the patch reloaded. */
  private readonly userParams = new Map<string, number>();
  private pf: PatchFile;
  private hub!: SourceHub;
  private control: OscControl | undefined;
  private query: OscQueryServer | undefined;
  private oscOut: OscOutBridge | undefined;
  private lights: ArtNetBridge[] = [];
  /** The MIDI bridge; `unavailable`: why this machine has no MIDI ports (the bridge then only takes `midiIn`). */
  private midi: { bridge: MidiBridge; system: MidiSystem; unavailable?: string } | undefined;
  private recording: Recording | undefined;
  private bouncing: Bounce | undefined;
  private tempoFixed: number | undefined;
  private readonly rebinds = new Map<string, string>();
  /** The bindings (stream → URI) under the rebinds: `overrides` at open, then those of the last `load` that gave `data`. */
  private bindings: ReadonlyMap<string, string>;
  /** Streams held by `freeze`, with the value held. */
  private readonly frozen = new Map<string, number | string>();
  /** The last value of each stream that reached the engine, as it arrived. */
  private readonly last = new Map<string, number | string>();
  private readonly levels: LevelSample[] = [];
  private stopped = false;
  private watcher: FileWatcher | undefined;
  /** Loads, reloads and output changes run one after another, never interleaved. */
  private changes: Promise<unknown> = Promise.resolve();
  private lastReload: { ok: boolean; errors: PatchProblem[] } = { ok: true, errors: [] };
  /** The text a `save` wrote and loaded: the watcher's echo of that write is not a second swap. */
  private saved: { file: string; text: string } | undefined;
  /** Values refused at the gate and commands refused, for tests and status. */
  readonly counts = { commands: 0, refusedCommands: 0, refusedValues: 0 };

  /** The user's patch folder; bounces go to its `out` folder. */
  private readonly userDir: string;
  /** Wall time (epoch s) the sources of the playing patch were made: a source's age before its first value. */
  private hubStartedAt = now();

  private constructor(
    private readonly opts: SessionOptions,
    private current: Player,
    private readonly samples: Map<string, AudioBuffer>,
  ) {
    this.pf = opts.patch;
    this.bindings = opts.overrides ?? new Map();
    this.userDir = resolve(opts.patchesDir ?? defaultPatchesDir());
    this.output = { sink: opts.sink, device: opts.device, sampleRate: opts.sampleRate };
    this.telemetry = new Telemetry(current.engine, current.clock, opts.telemetryFps, () => this.playheads());
    this.authoring = new Authoring({
      userDir: this.userDir,
      playing: () => this.pf,
      opened: () => this.opts.patch,
      boundSource: (stream) => this.rebinds.get(stream) ?? this.bindings.get(stream),
      rebind: (stream, uri) => this.rebind(stream, uri),
      load: async (pf, crossfade, text) => {
        await this.load(pf, crossfade);
        this.saved = { file: resolve(pf.file), text };
      },
      pace: { spreadSeconds: opts.loopSeconds, speed: opts.speed },
    });
  }

  /** Gives a stream another source (kept across loads of patches that have the stream). */
  private async rebind(stream: string, uri: string): Promise<void> {
    await this.hub.rebind(stream, uri);
    this.rebinds.set(stream, uri);
    this.watchInputs();
  }

  /** The real-time player (a new one after the `output` command). */
  get player(): Player {
    return this.current;
  }

  /**
   * Opens the audio output and starts the patch playing (nothing else yet, so a
   * host can say "Playing" first). Throws NoAudioDeviceError without a device.
   * Then call {@link start}.
   */
  static async open(opts: SessionOptions): Promise<Session> {
    // The engine looks samples up in this map as voices need them; later loads add to it.
    const samples = await loadPatchSamples(opts.patch);
    // Events can come before the constructor returns (the first notes): until then, nobody listens.
    const ref: { session?: Session } = {};
    const player = await startPlayer({
      patch: opts.patch.patch,
      sink: opts.sink,
      deviceId: opts.device?.id,
      sampleRate: opts.sampleRate,
      seed: opts.seed,
      samples,
      ceilingDb: opts.maxLevelDb,
      levelCapDb: opts.levelCapDb,
      fadeIn: opts.fadeIn,
      onEvent: (e) => ref.session?.engineEvent(e),
      onError: (e) => ref.session?.emit({ type: 'error', time: now(), where: 'engine', message: (e as Error)?.message ?? String(e) }),
    });
    const session = (ref.session = new Session(opts, player, samples));
    session.store.add('bounce', session, (x) => x.bouncing?.cancel());
    session.outputStore.add('player', player, (p) => p.stop());
    session.outputStore.add('telemetry', session.telemetry, (t) => t.dispose());
    session.outputStore.add('recording', session, (x) => x.recording?.stop());
    try {
      session.hub = session.patchStore.add('sources', session.makeHub(opts.patch), (h) => h.stop());
    } catch (e) {
      // A source URI that does not parse: nothing may stay playing.
      await session.stop();
      throw e;
    }
    return session;
  }

  /** The engine (for hosts' status lines and tests). */
  get engine(): Engine {
    return this.player.engine;
  }

  /** The patch file playing. */
  get patchFile(): PatchFile {
    return this.pf;
  }

  /** The hub's per-stream statuses (sources of the playing patch). */
  get sources(): SourceHub {
    return this.hub;
  }

  /** The bridges running, for hosts' status lines. */
  get bridges(): { control?: OscControl; query?: OscQueryServer; oscOut?: OscOutBridge; lighting: readonly ArtNetBridge[]; midi?: MidiBridge } {
    return { control: this.control, query: this.query, oscOut: this.oscOut, lighting: this.lights, midi: this.midi?.bridge };
  }

  /**
   * Starts the sources and the bridges. A bridge that cannot start (a port in
   * use) stops everything the session started and throws.
   */
  async start(): Promise<void> {
    const log = this.opts.log ?? (() => undefined);
    try {
      this.hub.start();
      this.startMeter();
      this.startLighting(log);
      try {
        await this.startOscIn(log);
        await this.startOscOut(log);
      } catch (e) {
        throw new BridgeError('OSC', e);
      }
      await this.startMidi(log);
      this.startWatch(log);
    } catch (e) {
      await this.stop();
      throw e;
    }
  }

  /** Runs `fn` after every load, reload and output change before it has finished. */
  private serially<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.changes.then(fn, fn);
    this.changes = run.catch(() => undefined);
    return run;
  }

  /** Hot reload: watches the patch file and what it reads (see {@link SessionOptions.watch}). */
  private startWatch(log: (line: string) => void): void {
    const w = this.opts.watch;
    if (!w) return;
    if (!existsSync(this.pf.file)) return log('  watch: the patch is not a file; nothing to watch');
    const o = typeof w === 'object' ? w : {};
    this.watcher = this.store.add(
      'watch',
      new FileWatcher({
        debounceMs: o.debounceMs,
        onChange: (changed) => {
          void this.serially(() => this.reload(changed, o.crossfade ?? 1)).catch(() => undefined);
        },
        onError: (e) => this.emit({ type: 'error', time: now(), where: 'watch', message: e.message }),
      }),
      (x) => x.close(),
    );
    this.watchInputs();
    log(`  watching ${this.watcher.watched.length} file${this.watcher.watched.length === 1 ? '' : 's'} for changes (the patch, its data and samples)`);
  }

  /** Points the watcher at the playing patch's files (after a load or a rebind). */
  private watchInputs(): void {
    if (!this.watcher) return;
    this.watcher.setFiles(existsSync(this.pf.file) ? patchInputs(this.pf, this.sourceOverrides(this.pf)) : []);
  }

  /** Streams' sources given from outside the patch (`--data` or a load's `data`, rebind), for the streams it has. */
  private sourceOverrides(pf: PatchFile): Map<string, string> {
    const overrides = new Map<string, string>();
    for (const [stream, uri] of [...this.bindings, ...this.rebinds]) if (Object.hasOwn(pf.patch.streams, stream)) overrides.set(stream, uri);
    return overrides;
  }

  /**
   * A watched file changed: checks the patch as `validate` does; swaps it in
   * when it is valid, and otherwise reports every problem and plays on.
   */
  private async reload(changed: string[], crossfade: number): Promise<void> {
    if (this.stopped) return;
    const file = this.pf.file;
    const saved = this.saved;
    if (saved && saved.file === resolve(file) && changed.every((f) => resolve(f) === saved.file)) {
      try {
        if (readFileSync(file, 'utf8') === saved.text) return;
      } catch {
        // unreadable now: the check below says so
      }
    }
    const report = (ok: boolean, errors: PatchProblem[]) => {
      this.lastReload = { ok, errors };
      this.emit({ type: 'reload', time: now(), ok, file, changed, ...(ok ? {} : { errors }) });
    };
    const r = checkPatchFile(file, this.sourceOverrides(this.pf));
    if (!r.ok) return report(false, r.errors.map((e) => ({ file: e.file, ...(e.line === undefined ? {} : { line: e.line }), path: e.path, message: e.message })));
    try {
      await this.load(r.pf, crossfade);
    } catch (e) {
      return report(false, [{ file, path: '', message: (e as Error)?.message ?? String(e) }]);
    }
    report(true, []);
  }

  /** The output level for the snapshot, on the player's clock service. */
  private startMeter(): void {
    // The analyser holds the last 43 ms: sampled every 40 ms.
    this.outputStore.add('meter', this.player.clock.every(0.04, () => this.meter()), (t) => t.dispose());
  }

  /**
   * OSC control in and OSCQuery: they outlive patches (OscControl follows the
   * playing one). `ports`: the ports they had, when re-opened with a new output.
   */
  private async startOscIn(log: (line: string) => void, ports: { osc?: number; query?: number } = {}): Promise<void> {
    const at = this.opts.oscIn;
    if (!at) return;
    this.control = this.outputStore.add('OSC control in', new OscControl(this.engine, (stream, value) => this.inject(stream, value, 'osc'), { allow: at.allow }), (c) => c.close());
    const port = await this.control.listen(at.host, ports.osc ?? at.port);
    const bound = this.control.bound!;
    log(`  OSC control in on ${urlHost(bound.address)}:${port} (/eco/…; see README)${at.allow ? `, from ${at.allow.join(', ')} only` : ''}`);
    if (!isLoopbackHost(bound.address) && !at.allow)
      log(`  warning: OSC control in is open to the network: anyone who reaches ${urlHost(bound.address)}:${port} can send panic, volume or stream values; limit senders with --osc-allow CIDR (osc.in.allow)`);
    const q = this.opts.oscQuery;
    if (!q) return;
    // HOST_INFO's OSC_IP only when it is an address a tool can send to (not 0.0.0.0 or ::).
    const oscHost = bound.address === '0.0.0.0' || bound.address === '::' ? undefined : bound.address;
    this.query = this.outputStore.add('OSCQuery', new OscQueryServer(this.engine, this.control, { name: this.pf.patch.name, oscPort: port, oscHost }), (s) => s.close());
    await this.query.listen(q.host, ports.query ?? q.port);
    const qa = this.query.bound!;
    log(`  OSCQuery on http://${urlHost(qa.address)}:${qa.port}/ (the address space, values, LISTEN over WebSocket)`);
    if (!isLoopbackHost(qa.address)) log(`  warning: OSCQuery is open to the network (it answers anyone; its WebSocket takes no control)`);
  }

  /** The patch's lighting (rebuilt when a patch is loaded). */
  private startLighting(log: (line: string) => void): void {
    const patch = this.pf.patch;
    for (const target of patch.lighting ? (this.opts.lighting ?? []) : []) {
      const b = this.bridgeStore.add('lighting', new ArtNetBridge(this.engine, rigFor(patch.lighting!), target), (x) => x.stop());
      b.start();
      this.lights.push(b);
      log(`  lighting: ${target.protocol === 'sacn' ? 'sACN' : 'Art-Net'} to ${target.host} universe ${target.universe} at ${target.fps} fps`);
    }
  }

  /** The patch's OSC out (rebuilt when a patch is loaded). */
  private async startOscOut(log: (line: string) => void): Promise<void> {
    const patch = this.pf.patch;
    const targets = this.opts.oscOut ?? [];
    if (!patch.osc?.out || !targets.length) return;
    this.oscOut = this.bridgeStore.add('OSC out', new OscOutBridge(this.engine, patch.osc.out, targets), (b) => b.stop());
    await this.oscOut.start();
    log(`  OSC out to ${targets.map((t) => `${t.host}:${t.port}`).join(', ')}`);
  }

  /**
   * The MIDI bridge, when the patch has a midi section or ports were given. No
   * MIDI here: one line saying why, and the music plays on without it.
   */
  private async startMidi(log: (line: string) => void): Promise<void> {
    const patch = this.pf.patch;
    const m = this.opts.midi;
    if (m === false || (patch.midi === undefined && m?.input === undefined && m?.output === undefined && !m?.always)) return;
    const opened = await openMidiSystem();
    // No MIDI ports here: the bridge still runs for controllers elsewhere (a page's Web MIDI, `midiIn`).
    const unavailable = 'unavailable' in opened ? opened.unavailable : undefined;
    if (unavailable !== undefined) log(`MIDI ports disabled: ${unavailable}. MIDI from a page's controller (midiIn) still plays.`);
    const system = 'unavailable' in opened ? portlessMidi() : opened;
    await this.runMidiBridge(system, unavailable, m?.input, m?.output, log);
  }

  private async runMidiBridge(system: MidiSystem, unavailable: string | undefined, input: string | undefined, output: string | undefined, log: (line: string) => void): Promise<void> {
    const bridge = new MidiBridge({ engine: this.gatedEngine(), patch: this.pf.patch, system, input, output, sidecar: sidecarPath(this.pf.file), log: (x) => log(`  ${x}`) });
    this.midi = this.bridgeStore.add('MIDI', { bridge, system, unavailable }, async (x) => {
      await x.bridge.stop();
      x.system.close();
      if (this.midi === x) this.midi = undefined;
    });
    await bridge.start();
  }

  /** A page bridge being started ({@link midiBridge}). */
  private midiStarting: Promise<void> | undefined;

  /**
   * The MIDI bridge for `midiIn` and `midiLearn`: the running one, or, when
   * the patch asked for none, one started now for controllers elsewhere only
   * (a page's Web MIDI): it opens no port of this machine, plays the patch's
   * first voice (or its midi.play) and learns like any other. A load stops it;
   * the next `midiIn` starts it again.
   */
  private async midiBridge(): Promise<MidiBridge> {
    if (this.midiStarting) await this.midiStarting;
    if (this.midi) return this.midi.bridge;
    const log = this.opts.log ?? (() => undefined);
    this.midiStarting ??= this.serially(async () => {
      if (this.midi || this.stopped) return;
      await this.runMidiBridge(portlessMidi(), undefined, undefined, undefined, log);
      log(`  MIDI: a page's controller plays "${this.pf.patch.name}" (midiIn; no MIDI port of this machine opened)`);
    }).finally(() => (this.midiStarting = undefined));
    await this.midiStarting;
    // (set by the start just awaited)
    const started = this.midi as { bridge: MidiBridge } | undefined;
    if (!started) throw new Error('MIDI in: the session has stopped');
    return started.bridge;
  }

  /**
   * The engine as the MIDI bridge sees it: the same engine, except that a
   * stream value from a MIDI control goes through the hub's gate. (The bridge
   * takes an engine; until it takes an injection callback as OscControl does,
   * this proxy is the seam.)
   */
  private gatedEngine(): Engine {
    const engine = this.engine;
    const inject = (stream: string, value: number | string) => 'value' in this.inject(stream, value, 'midi');
    return new Proxy(engine, {
      get(target, key) {
        if (key === 'update') return inject;
        const v = Reflect.get(target, key, target) as unknown;
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
  }

  private makeHub(pf: PatchFile): SourceHub {
    this.hubStartedAt = now();
    const overrides = this.sourceOverrides(pf);
    return new SourceHub({
      patch: pf.patch,
      baseDir: pf.dir,
      overrides,
      spreadSeconds: this.opts.loopSeconds,
      speed: this.opts.speed,
      cacheDir: this.opts.cacheDir,
      deliver: (stream, value, dataTime) => {
        if (this.frozen.has(stream)) return;
        this.last.set(stream, value);
        this.engine.update(stream, value, undefined, dataTime);
      },
      onTransition: (stream, t) => this.sourceEvent(stream, t, false),
      onConnection: (stream, c) => this.sourceEvent(stream, c, true),
      onFileLoaded: (stream, summary) => this.emit({ type: 'sourceRead', time: now(), stream, summary }),
    });
  }

  private sourceEvent(stream: string, t: Transition | ConnectionChange, link: boolean): void {
    this.emit({ type: 'source', time: t.at, stream, from: t.from, to: t.to, link, ...(t.reason === undefined ? {} : { reason: t.reason }) });
  }

  /**
   * A stream value from outside its source: through the hub's gate (finite,
   * valid, maxRate), then to the engine. Refusals are counted per stream.
   */
  inject(stream: string, value: unknown, origin: string): { value: number | string } | { refused: string } {
    if (this.frozen.has(stream)) return { refused: `stream "${stream}" is frozen` };
    const r = this.hub.inject(stream, value);
    if ('refused' in r) {
      this.counts.refusedValues++;
      this.emit({ type: 'error', time: now(), where: `${origin} stream ${stream}`.slice(0, 200), message: `refused: ${r.refused}` });
    }
    return r;
  }

  private engineEvent(e: EngineEvent): void {
    if (this.events.size === 0) return;
    const t = now();
    if (e.type === 'note') this.emit({ type: 'note', time: t, voice: e.voice, notes: e.notes, velocity: e.velocity });
    else if (e.type === 'scene') this.emit({ type: 'scene', time: t, scene: e.scene });
    else if (e.type === 'threshold') this.emit({ type: 'threshold', time: t, signal: e.signal, state: e.state });
    else if (e.type === 'mute') this.emit({ type: 'mute', time: t, muted: e.muted, panic: e.panic });
    else if (e.type === 'fault') this.emit({ type: 'error', time: t, where: 'audio', message: `${e.fault} audio${e.rebuilt.length ? `: rebuilt ${e.rebuilt.join(', ')}` : ''}` });
  }

  private emit(e: SessionEvent): void {
    for (const fn of this.events) {
      try {
        fn(e);
      } catch {
        // one listener's failure must not reach the engine or the others
      }
    }
  }

  /** Listens to events; returns a remover. */
  onEvent(fn: (e: SessionEvent) => void): () => void {
    this.events.add(fn);
    return () => this.events.delete(fn);
  }

  /** Receives telemetry frames (up to 30 a second; made only while someone listens). Returns a remover. */
  onTelemetry(fn: (f: TelemetryFrame) => void): () => void {
    const sub = { fn, remove: this.telemetry.subscribe(fn) };
    this.telemetrySubs.add(sub);
    return () => {
      sub.remove();
      this.telemetrySubs.delete(sub);
    };
  }

  /** Samples the output level (the analyser holds the last 43 ms) for the last-second window. */
  private meter(): void {
    const l = this.engine.master.levels();
    const t = this.player.raw.currentTime;
    this.levels.push({ at: t, peak: l.peak, power: l.rms * l.rms });
    while (this.levels.length && this.levels[0]!.at < t - 1) this.levels.shift();
  }

  /** Peak and RMS (linear) of the output over the last second. */
  outputLevels(): { peak: number; rms: number } {
    if (!this.levels.length) return { peak: 0, rms: 0 };
    let peak = 0;
    let power = 0;
    for (const s of this.levels) {
      peak = Math.max(peak, s.peak);
      power += s.power;
    }
    return { peak, rms: Math.sqrt(power / this.levels.length) };
  }

  /** The state now. */
  snapshot(): Snapshot {
    const e = this.engine;
    const v = e.values();
    const patch = this.pf.patch;
    const { peak, rms } = this.outputLevels();
    const db = (x: number) => (x > 0 ? 20 * Math.log10(x) : null);
    const statuses = new Map(this.hub.statuses().map((s) => [s.stream, s]));
    const streams: Snapshot['streams'] = {};
    for (const name of Object.keys(patch.streams)) {
      const st = statuses.get(name);
      const inj = this.hub.injected(name);
      const rejected: Record<string, number> = { ...(st?.rejected ?? {}) };
      for (const [k, n] of Object.entries(inj.rejected)) rejected[k] = (rejected[k] ?? 0) + (n ?? 0);
      const conditioned: Record<string, number> = {};
      for (const [sig, spec] of Object.entries(patch.signals)) if (spec.from === name && v.signals[sig] !== undefined) conditioned[sig] = v.signals[sig]!;
      const raw = this.last.get(name);
      const file = this.hub.files().get(name)?.transport();
      streams[name] = {
        ...(st ? { uri: st.uri } : {}),
        state: st?.state ?? 'manual',
        ...(st?.connection ? { link: st.connection } : {}),
        ...(raw === undefined ? {} : { raw }),
        // Seconds since its source last gave a value (since the source started, when it never did).
        ...(st ? { ageSeconds: Math.max(0, now() - (st.lastTime ?? this.hubStartedAt)) } : {}),
        conditioned,
        frozen: this.frozen.has(name),
        accepted: (st?.accepted ?? 0) + inj.accepted,
        rejected,
        ...(patch.streams[name]?.description ? { description: patch.streams[name].description } : {}),
        ...(file ? { file } : {}),
      };
    }
    const params: Record<string, number> = {};
    const paramOf = (target: string) => {
      if (!Object.hasOwn(params, target)) {
        const x = e.parameterValue(target);
        if (x !== undefined && Number.isFinite(x)) params[target] = x;
      }
      return params[target];
    };
    paramOf('master.volume');
    const mappings = patch.mappings.map((m) => {
      const value = paramOf(m.to);
      const stream = patch.signals[m.from]?.from;
      return { from: m.from, ...(stream ? { stream } : {}), to: m.to, ...(value === undefined ? {} : { value }) };
    });
    const bridges: Snapshot['bridges'] = {};
    if (this.control) bridges.oscIn = { ...this.control.stats, ...this.control.bound };
    if (this.query) bridges.oscQuery = { ...this.query.stats, ...this.query.bound };
    if (this.oscOut) bridges.oscOut = { ...this.oscOut.stats };
    this.lights.forEach((b, i) => (bridges[`lighting${i}`] = { ...b.stats, protocol: b.target.protocol, host: b.target.host, universe: b.target.universe }));
    if (this.midi) bridges.midi = { ...this.midi.bridge.ports, in: this.midi.bridge.stats.in.messages, out: this.midi.bridge.stats.out.messages, errors: this.midi.bridge.stats.errors };
    const s = e.stats;
    return {
      v: PROTOCOL_VERSION,
      patch: {
        name: patch.name,
        id: patchId(this.pf.file),
        file: this.pf.file,
        ...(patch.description ? { description: patch.description } : {}),
        scenes: Object.entries(patch.scenes).map(([name, sc]) => ({ name, fade: sc.fade })),
      },
      scene: v.scene ?? null,
      tempo: e.tempo ?? null,
      tempoFixed: this.tempoFixed ?? null,
      muted: e.muted,
      ...(e.master.capDb === undefined ? {} : { levelCapDb: e.master.capDb }),
      rmsDb: db(rms),
      peakDb: db(peak),
      streams,
      signals: v.signals,
      bridges,
      recording: this.recording ? { path: this.recording.path, seconds: this.recording.seconds } : null,
      bounce: this.bouncing?.current === 'running' ? { path: this.bouncing.path, progress: this.bouncing.progress } : null,
      watch: this.watcher ? { files: this.watcher.watched, ...this.lastReload } : null,
      mappings,
      params,
      engine: {
        sink: this.sinkName(),
        sampleRate: this.player.raw.sampleRate,
        time: this.player.raw.currentTime,
        notes: s.notes,
        errors: s.errors,
        lateNotes: s.lateNotes,
        faults: s.faults,
        loads: s.loads,
        rearms: this.player.driver.stats.rearms,
      },
    };
  }

  /**
   * Takes one protocol message (an object or its JSON text) and answers it.
   * Never throws: a bad message, or a command that fails, is an error reply.
   */
  async handle(message: unknown): Promise<Reply> {
    const parsed = parseCommand(message);
    if (!parsed.ok) {
      this.counts.refusedCommands++;
      return parsed.reply;
    }
    const c = parsed.command;
    if (this.stopped) return errorReply(c.id, 'the session has stopped');
    try {
      const r = await this.run(c);
      this.counts.commands++;
      return typeof r === 'string' ? errorReply(c.id, r) : okReply(c.id, r?.data);
    } catch (e) {
      return errorReply(c.id, (e as Error)?.message ?? String(e));
    }
  }

  /** Runs a valid command: an error sentence, or the reply's data. */
  private async run(c: Command): Promise<string | { data?: unknown } | undefined> {
    const e = this.engine;
    const patch = this.pf.patch;
    switch (c.type) {
      case 'load':
        // Another patch: its parameters start from what it says.
        await this.serially(() => this.load(readPatch(c.patch), c.crossfade, 'reset', c.data));
        return { data: { patch: this.pf.patch.name } };
      case 'param': {
        const t = parseTarget(c.target, Object.keys(patch.voices), Object.keys(patch.buses));
        if (typeof t === 'string') return t;
        if (t.kind === 'scene' || t.kind === 'mode') return `${c.target}: not a numeric parameter (use the scene command)`;
        const err = e.setParameter(c.target, c.value);
        if (err) return err;
        const info = targetInfo(t);
        const value = info ? Math.min(info.limits[1], Math.max(info.limits[0], c.value)) : c.value;
        this.userParams.set(c.target, value);
        return { data: { target: c.target, value } };
      }
      case 'scene':
        if (!Object.hasOwn(patch.scenes, c.name)) return `no scene "${c.name}" (scenes: ${Object.keys(patch.scenes).join(', ') || 'none'})`;
        e.setScene(c.name);
        return undefined;
      case 'tempo':
        this.tempoFixed = c.bpm ?? undefined;
        e.setTempo(this.tempoFixed);
        return undefined;
      case 'mute':
        e.setMuted(c.on);
        return undefined;
      case 'levelCap':
        e.master.setCap(c.db ?? undefined, this.player.raw.currentTime);
        return { data: { db: e.master.capDb ?? null, ceiling: e.master.ceilingDb } };
      case 'panic':
        e.panic();
        return undefined;
      case 'inject': {
        const r = this.inject(c.stream, c.value, 'command');
        return 'refused' in r ? `inject ${c.stream}: refused (${r.refused})` : { data: r };
      }
      case 'freeze': {
        if (!Object.hasOwn(patch.streams, c.stream)) return `no stream "${c.stream}" (streams: ${Object.keys(patch.streams).join(', ')})`;
        if (!c.on) {
          this.frozen.delete(c.stream);
          return undefined;
        }
        this.frozen.delete(c.stream);
        const value = c.value ?? this.last.get(c.stream);
        if (value !== undefined) {
          const r = this.inject(c.stream, value, 'freeze');
          if ('refused' in r) return `freeze ${c.stream}: refused (${r.refused})`;
          this.last.set(c.stream, r.value);
        }
        this.frozen.set(c.stream, value ?? NaN);
        return undefined;
      }
      case 'rebind':
        await this.rebind(c.stream, c.uri);
        return undefined;
      case 'midiIn': {
        const bridge = await this.midiBridge();
        for (const m of c.messages) bridge.receiveFrom(c.port, m, undefined, c.client);
        return undefined;
      }
      case 'midiRelease': {
        if (this.midiStarting) await this.midiStarting;
        return { data: { released: this.midi?.bridge.releaseRemote(c.client, c.port) ?? 0 } };
      }
      case 'midiLearn': {
        let dest: LearnDestination;
        if (c.target.startsWith('stream:')) {
          const stream = c.target.slice(7);
          if (!Object.hasOwn(patch.streams, stream)) return `no stream "${stream}"`;
          dest = { stream };
        } else {
          const t = parseTarget(c.target, Object.keys(patch.voices), Object.keys(patch.buses));
          if (typeof t === 'string') return t;
          dest = { to: c.target };
        }
        void (await this.midiBridge()).learn(dest, (c.timeoutSeconds ?? 30) * 1000).catch(() => undefined);
        return undefined;
      }
      case 'record': {
        if (c.action === 'stop') {
          const rec = this.recording;
          if (!rec) return 'not recording';
          this.recording = undefined;
          const seconds = await rec.stop();
          this.emit({ type: 'record', time: now(), state: 'stopped', path: rec.path, seconds });
          return { data: { path: rec.path, seconds } };
        }
        if (this.recording) return `already recording to ${this.recording.path}`;
        // Like a bounce: a client names the file inside the output folder, never a path elsewhere on this machine.
        const target = confineOutputPath(join(this.userDir, BOUNCE_SUBDIR), c.path ?? '');
        if ('error' in target) return `record.path: ${target.error}`;
        const path = target.file;
        mkdirSync(dirname(path), { recursive: true });
        this.recording = startRecording(this.player.raw, e.master.analyser, path, (err) =>
          this.emit({ type: 'record', time: now(), state: 'failed', path, error: (err as Error)?.message ?? String(err) }),
        );
        this.emit({ type: 'record', time: now(), state: 'started', path });
        return { data: { path } };
      }
      case 'bounce':
        return this.bounce(c);
      case 'output':
        return this.serially(() => this.reopenOutput(c.device, c.sampleRate));
      case 'list':
        return { data: await this.list(c.what) };
      case 'seek':
      case 'loop':
      case 'speed':
      case 'fileSeries':
        return this.transport(c);
      case 'snapshot':
        return { data: this.snapshot() };
      default:
        if (AUTHOR_COMMANDS.has(c.type)) return this.authoring.run(c as AuthorCommand);
        return `command "${(c as Command).type}" is not handled here`;
    }
  }

  /**
   * The file streams' transport (the Live screen's timeline): seek, loop,
   * speed, or their series for drawing. Without a stream, every file stream
   * whose file has been read; data time is their shared axis, so streams of
   * the same years move together. Replies with the transports (by stream).
   */
  private transport(c: Extract<Command, { type: 'seek' | 'loop' | 'speed' | 'fileSeries' }>): string | { data: unknown } {
    const all = this.hub.files();
    if (c.stream !== undefined) {
      if (!Object.hasOwn(this.pf.patch.streams, c.stream)) return `no stream "${c.stream}" (streams: ${Object.keys(this.pf.patch.streams).join(', ') || 'none'})`;
      if (!all.has(c.stream)) return `${c.type}: stream "${c.stream}" does not play from a file`;
    }
    const files = [...all].filter(([name, f]) => (c.stream === undefined || name === c.stream) && f.transport() !== undefined);
    if (files.length === 0) return c.stream === undefined ? `${c.type}: no stream of this patch plays from a file (or none has been read yet)` : `${c.type}: the file of "${c.stream}" has not been read yet`;
    const out: Record<string, unknown> = {};
    const skipped: Record<string, string> = {};
    for (const [name, f] of files) {
      try {
        switch (c.type) {
          case 'seek': {
            // A fraction of the loop: the shared axis's for the dated streams (they move together).
            out[name] = f.seek(c.time ?? f.origin + c.fraction! * f.span);
            break;
          }
          case 'loop':
            out[name] = f.setLoop(c.region);
            break;
          case 'speed':
            out[name] = f.setSpeed(c.factor);
            break;
          case 'fileSeries':
            out[name] = { ...f.series(c.buckets ?? 400)!, transport: f.transport()! };
            break;
        }
      } catch (e) {
        skipped[name] = (e as Error).message;
      }
    }
    if (Object.keys(out).length === 0) return Object.entries(skipped).map(([k, m]) => `${k}: ${m}`).join('; ');
    return { data: { streams: out, ...(Object.keys(skipped).length ? { skipped } : {}) } };
  }

  /** File streams' play heads, `[data time, index]`, for telemetry frames. */
  private playheads(): Record<string, [number, number]> | undefined {
    let out: Record<string, [number, number]> | undefined;
    for (const [name, f] of this.hub?.files() ?? []) {
      const t = f.transport();
      if (t) (out ??= {})[name] = [t.time, t.index];
    }
    return out;
  }

  /**
   * Starts an offline bounce in a child process (which checks the patch: a
   * bad one ends in a `failed` event with its problems), or cancels the one running.
   */
  private async bounce(c: Extract<Command, { type: 'bounce' }>): Promise<string | { data: unknown }> {
    if (c.action === 'cancel') {
      const b = this.bouncing;
      if (!b || b.current !== 'running') return 'no bounce is running';
      const state = await b.cancel();
      return { data: { path: b.path, state } };
    }
    if (this.bouncing?.current === 'running') return `already bouncing to ${this.bouncing.path} (cancel it first)`;
    // A client names the file inside the output folder, never a path elsewhere on this machine.
    const target = confineOutputPath(join(this.userDir, BOUNCE_SUBDIR), c.path!);
    if ('error' in target) return `bounce.path: ${target.error}`;
    // The child takes a file: a patch given as text (or the playing one, when it came as text) goes to a temporary one.
    let file: string;
    let temp: string | undefined;
    if (c.patch && 'id' in c.patch) {
      const id = c.patch.id;
      const found = listBuiltinPatchFiles().find((f) => patchId(f) === id);
      if (!found) return `no built-in patch "${id}" (patches: ${listBuiltinPatchFiles().map(patchId).join(', ')})`;
      file = found;
    }
    else if (c.patch && 'path' in c.patch) file = resolvePatchPath(c.patch.path);
    else if (!c.patch && existsSync(this.pf.file)) file = this.pf.file;
    else {
      temp = mkdtempSync(join(tmpdir(), 'ecosym-bounce-'));
      file = join(temp, 'patch.json');
      writeFileSync(file, c.patch && 'text' in c.patch ? c.patch.text : JSON.stringify(this.pf.patch));
    }
    // The patch is checked by the child, not here: parsing a patch took 220–400 ms on a
    // loaded machine, long enough to make the playing show's notes late. A broken one is a `failed` event.
    if (!existsSync(file)) return `no patch file ${file}`;
    const b = new Bounce({
      patch: file,
      duration: c.duration!,
      path: target.file,
      seed: c.seed,
      sampleRate: c.sampleRate,
      onUpdate: (u) => this.emit({ type: 'bounce', time: now(), ...u }),
      launch: this.opts.launchRender,
    });
    this.bouncing = b;
    if (temp) void b.finished.then(() => rmSync(temp, { recursive: true, force: true }));
    return { data: { path: b.path } };
  }

  private async list(what: 'patches' | 'devices' | 'midiPorts'): Promise<unknown> {
    if (what === 'patches')
      return listBuiltinPatchFiles().map((f) => {
        try {
          return { id: patchId(f), name: loadPatchFile(f).patch.name };
        } catch (e) {
          return { id: patchId(f), error: (e as Error).message.split('\n')[0] };
        }
      });
    if (what === 'midiPorts') {
      if (this.midi?.unavailable !== undefined) return { available: false, reason: this.midi.unavailable };
      const system = this.midi?.system ?? (await openMidiSystem());
      if ('unavailable' in system) return { available: false, reason: system.unavailable };
      return { available: true, ...(await system.ports()) };
    }
    const { devices, reason } = await listOutputDevices();
    return { available: devices.length > 0, devices, ...(reason === undefined ? {} : { reason }) };
  }

  /**
   * Re-opens the audio output on another device and/or at another sample
   * rate. The new player is opened first (a device that cannot be opened
   * changes nothing); then the show moves over: the patch, scene, fixed tempo,
   * mute, the streams' last values and the parameters set with `param`. The
   * sources keep running; OSC control and OSCQuery re-open on the ports they
   * had; a recording of the old output ends (a `record` stopped event).
   */
  private async reopenOutput(device: string | undefined, sampleRate: number | undefined): Promise<string | { data: unknown }> {
    if (this.stopped) return 'the session has stopped';
    const next: Output = { ...this.output, ...(sampleRate === undefined ? {} : { sampleRate }) };
    if (device === 'none') next.sink = 'none';
    else if (device === 'default') next.sink = 'default';
    if (device === 'none' || device === 'default') delete next.device;
    else if (device !== undefined) {
      const found = await findOutputDevice(device);
      if (typeof found === 'string') return found;
      next.sink = 'default';
      next.device = found;
    }
    let player: Player;
    try {
      player = await startPlayer({
        patch: this.pf.patch,
        sink: next.sink,
        deviceId: next.device?.id,
        sampleRate: next.sampleRate,
        seed: this.opts.seed,
        samples: this.samples,
        ceilingDb: this.opts.maxLevelDb,
        levelCapDb: this.engine.master.capDb,
        fadeIn: this.opts.fadeIn,
        onEvent: (e) => this.engineEvent(e),
        onError: (e) => this.emit({ type: 'error', time: now(), where: 'engine', message: (e as Error)?.message ?? String(e) }),
      });
    } catch (e) {
      if (e instanceof NoAudioDeviceError) return `cannot open the output: ${e.message}`;
      throw e;
    }
    const old = this.engine;
    const before = old.values();
    const muted = old.muted;
    const ports = { osc: this.control?.bound?.port, query: this.query?.bound?.port };
    const rec = this.recording;
    this.recording = undefined;
    if (rec) {
      const seconds = await rec.stop();
      this.emit({ type: 'record', time: now(), state: 'stopped', path: rec.path, seconds });
    }
    await this.disposeBridges();
    for (const message of await this.outputStore.dispose()) this.emit({ type: 'error', time: now(), where: 'output', message });
    this.outputStore = new DisposableStore();
    this.control = undefined;
    this.query = undefined;
    this.current = player;
    this.output = next;
    this.levels.length = 0;
    this.outputStore.add('player', player, (p) => p.stop());
    this.telemetry = this.outputStore.add('telemetry', new Telemetry(player.engine, player.clock, this.opts.telemetryFps, () => this.playheads()), (t) => t.dispose());
    for (const sub of this.telemetrySubs) sub.remove = this.telemetry.subscribe(sub.fn);
    this.outputStore.add('recording', this, (x) => x.recording?.stop());
    // The show as it was, from just after the new player's start.
    const e = player.engine;
    const time = player.raw.currentTime + 0.06;
    if (before.scene && Object.hasOwn(this.pf.patch.scenes, before.scene)) e.setScene(before.scene, time);
    for (const [stream, value] of this.last) e.update(stream, value, time);
    if (this.tempoFixed !== undefined) e.setTempo(this.tempoFixed);
    if (muted) e.setMuted(true);
    this.applyUserParams(time);
    const log = this.opts.log ?? (() => undefined);
    this.startMeter();
    try {
      await this.startOscIn(log, ports);
    } catch (err) {
      this.emit({ type: 'error', time: now(), where: 'output', message: `OSC control could not re-open: ${(err as Error)?.message ?? String(err)}` });
    }
    this.startLighting(log);
    await this.startOscOut(log);
    await this.startMidi(log);
    const s = this.sinkName();
    this.emit({ type: 'output', time: now(), sink: s, sampleRate: player.raw.sampleRate });
    return { data: { sink: s, sampleRate: player.raw.sampleRate } };
  }

  /** What the snapshot calls the output: none, default, or the device's label. */
  private sinkName(): string {
    return this.output.sink === 'none' ? 'none' : (this.output.device?.label ?? 'default');
  }

  /** Sets again the parameters set with `param` (those the playing patch still has). */
  private applyUserParams(time?: number): void {
    for (const [target, value] of [...this.userParams]) if (this.engine.setParameter(target, value, time)) this.userParams.delete(target);
  }

  /** Stops the patch's bridges (OSC out, lighting, MIDI). */
  private async disposeBridges(): Promise<void> {
    const old = this.bridgeStore;
    this.bridgeStore = new DisposableStore();
    this.oscOut = undefined;
    this.lights = [];
    this.midi = undefined;
    for (const message of await old.dispose()) this.emit({ type: 'error', time: now(), where: 'bridges', message });
  }

  /**
   * Loads a patch with a crossfaded hot swap: the new patch fades in while the
   * old one fades out. The scene, a fixed tempo and the streams' last values
   * carry over where the new patch has them; its sources and output bridges
   * start afresh. A patch that fails to build changes nothing. Parameters set
   * with `param` are set again on the new patch (`keep`: a reload of the same
   * patch), or forgotten (`reset`). `data` replaces the bindings and rebinds
   * (see the `load` command); without it they carry over.
   */
  async load(pf: PatchFile, crossfade = 2, params: 'keep' | 'reset' = 'keep', data?: Readonly<Record<string, string>>): Promise<void> {
    const e = this.engine;
    const before = e.values();
    const samples = await loadPatchSamples(pf);
    for (const [k, v] of samples) this.samples.set(k, v);
    const time = this.player.raw.currentTime + 0.05;
    e.load(pf.patch, { time, crossfade });
    const old = this.patchStore;
    this.patchStore = new DisposableStore();
    this.pf = pf;
    if (data !== undefined) {
      this.bindings = new Map(Object.entries(data));
      this.rebinds.clear();
    }
    await this.disposeBridges();
    await old.dispose();
    if (before.scene && Object.hasOwn(pf.patch.scenes, before.scene)) e.setScene(before.scene, time);
    // The new patch starts from where the show is, not from its defaults.
    for (const [stream, value] of this.last) if (Object.hasOwn(pf.patch.streams, stream)) e.update(stream, value, time);
    for (const stream of [...this.frozen.keys()]) if (!Object.hasOwn(pf.patch.streams, stream)) this.frozen.delete(stream);
    for (const stream of [...this.last.keys()]) if (!Object.hasOwn(pf.patch.streams, stream)) this.last.delete(stream);
    if (this.tempoFixed !== undefined) e.setTempo(this.tempoFixed);
    if (params === 'reset') this.userParams.clear();
    this.applyUserParams(time);
    this.hub = this.patchStore.add('sources', this.makeHub(pf), (h) => h.stop());
    this.hub.start();
    const log = this.opts.log ?? (() => undefined);
    this.startLighting(log);
    await this.startOscOut(log);
    await this.startMidi(log);
    this.watchInputs();
    this.emit({ type: 'load', time: now(), patch: pf.patch.name, crossfade });
  }

  /** Stops everything the session started, each in its turn. Safe to call twice. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    const errors = [...(await this.bridgeStore.dispose()), ...(await this.patchStore.dispose()), ...(await this.outputStore.dispose()), ...(await this.store.dispose())];
    for (const message of errors) this.emit({ type: 'error', time: now(), where: 'stop', message });
    this.events.clear();
  }
}
