/**
 * A session in a child process, watched and brought back: the desktop app's
 * audio host and the session of `ecosym run`. It is a {@link SessionLink}, so
 * a server or a UI drives it exactly as it drives an in-process session.
 *
 * - Starts the child (bin/session-child.mjs, through an injected
 *   {@link SpawnChild}: `child_process.fork` here, Electron's
 *   `utilityProcess` in the app), forwards commands, replies, events and
 *   telemetry, and tells its status ({@link HostStatus}: starting, playing,
 *   restarting, stopped) to `onStatus` listeners.
 * - Watches it: an exit, a heartbeat missing for `hangAfter` seconds (then
 *   SIGKILL) or a start that never finishes is a fault, counted with its
 *   cause ({@link SupervisedSession.lastFault}). What happens next is the
 *   {@link InstallPolicy}'s decision (the one model the soak test drives too):
 *   the child is started again after its delay, which never gives up, and a
 *   patch in a crash loop gives way to the next of `candidates` (an
 *   installation's playlist) or to the fallback patch.
 * - Restores what the show was: the patch last loaded, the scene, a fixed
 *   tempo, mute, parameters set, frozen and rebound streams and the values of
 *   streams with no source, from the commands that changed them and the last
 *   snapshot (taken every `snapshotEvery` seconds).
 * - A command sent while the child is not playing gets an error reply at once
 *   and is never run later; one in flight when the child dies gets an error
 *   reply too (it may or may not have run, and is not replayed).
 */
import { resolve } from 'node:path';
import { HeartbeatWatch, type FaultCause, type RestartPolicyOptions } from '../../core/restartPolicy.ts';
import { InstallPolicy, type InstallDecision } from '../../core/installPolicy.ts';
import { errorReply, okReply, parseCommand, type Command, type HostStatus, type PatchRef, type Reply, type SessionEvent, type Snapshot, type TelemetryFrame } from '../../../shared/protocol.ts';
import { PROJECT_ROOT } from '../files.ts';
import type { SessionLink } from './link.ts';
import { isRenderRequest, serveRenders, type LaunchRender } from './renderProcess.ts';
import { forkChild, type ChildHandle, type ChildStartOptions, type FromChild, type Heartbeat, type SpawnChild } from './hostChannel.ts';

/** The script a supervisor starts: the bundle when fresh, else the sources through tsx. */
export const SESSION_CHILD_ENTRY = resolve(PROJECT_ROOT, 'bin/session-child.mjs');

export interface SupervisedOptions {
  /** How the child opens its session (the patch, sink, bridges…). */
  session: ChildStartOptions;
  /** Starts the child process (default: `child_process.fork`). */
  spawn?: SpawnChild;
  /** The child's entry script (default {@link SESSION_CHILD_ENTRY}). */
  entry?: string;
  /** Environment added for the child. */
  env?: Record<string, string>;
  /**
   * The decisions after a fault: an {@link InstallPolicy} the caller keeps (to
   * read its skips), or the timings of a new one's {@link RestartPolicy}.
   */
  policy?: InstallPolicy | RestartPolicyOptions;
  /**
   * The policy's clock, seconds (default: monotonic, from `performance.now()`).
   * A caller that keeps the policy and asks it about skips itself passes the
   * clock it asks with: the policy's times are on one clock.
   */
  policyClock?: () => number;
  /** Seconds without a heartbeat after which the child is hung (default 5: a starved machine delays a heartbeat by seconds, never by 5). */
  hangAfter?: number;
  /** Seconds a child may take from spawn to playing (default 60: tsx on a busy machine is slow). */
  startTimeout?: number;
  /** Seconds between the snapshots kept for restore (default 2). */
  snapshotEvery?: number;
  /** A patch to play when every candidate is in a crash loop. */
  fallback?: PatchRef;
  /**
   * The patches to choose from when the one playing is in a crash loop, in
   * order (an installation's playlist from its current entry on; default: the
   * patch playing alone), each with its bindings as a `load` command carries
   * them (`data`: they replace the bindings; none: they carry over). The
   * fallback plays with its own sources.
   */
  candidates?: () => SupervisedCandidate[];
  /** Keys patches for the policy (default: by id, path or text); an installation uses its show's patch names. */
  keyOf?: (p: PatchRef) => string;
  /** Told every decision after a fault, with the patch that failed and the one that will start. */
  onDecision?: (d: InstallDecision, failing: PatchRef, next: PatchRef) => void;
  /** Keep trying when the very first start fails (default false: `start()` rejects with the child's error). */
  retryFirstStart?: boolean;
  /** Keep a spare process loaded for a fast restart (default true; costs one idle Node process). */
  standby?: boolean;
  /** When no audio device can be opened, play to no device (`sink: none`) rather than retry it (the app). */
  silentWithoutDevice?: boolean;
  /** Lines about faults and restarts, and the child's stderr. */
  log?: (line: string) => void;
  /**
   * Starts the render processes a child asks for (`render` messages: a bounce in
   * a child started with `session.renderViaParent`); without it they are refused.
   */
  launchRender?: LaunchRender;
}

/** A patch the supervisor may switch to after a crash loop, with what a `load` of it would carry. */
export interface SupervisedCandidate {
  patch: PatchRef;
  /** stream → source URI for this patch, replacing the bindings (see the `load` command). */
  data?: Readonly<Record<string, string>>;
}

/** The last fault: why the child went away, and when (epoch seconds). */
export interface HostFault {
  cause: FaultCause;
  message: string;
  at: number;
}

type State = HostStatus['state'];

/** What the show was, to be restored after a restart. */
interface ShowState {
  patch: PatchRef;
  /** The bindings under the rebinds: the session's `overrides`, then those of the last load or switch that gave them. */
  bindings: Array<[string, string]>;
  /** The scene playing, from heartbeats and scene events while the child plays. */
  scene: string | null;
  tempoFixed: number | null | undefined;
  muted: boolean | undefined;
  params: Map<string, number>;
  frozen: Map<string, number | undefined>;
  rebinds: Map<string, string>;
}

const wallSeconds = () => Date.now() / 1000;
const monoSeconds = () => performance.now() / 1000;

function patchKey(p: PatchRef): string {
  return 'id' in p ? `id:${p.id}` : 'path' in p ? `path:${p.path}` : `text:${p.text.length}:${p.text.slice(0, 200)}`;
}

export class SupervisedSession implements SessionLink {
  private readonly o: SupervisedOptions;
  private readonly policy: InstallPolicy;
  private readonly watch: HeartbeatWatch;
  private child: ChildHandle | undefined;
  private state: State = 'stopped';
  private readonly show: ShowState;
  private readonly events = new Set<(e: SessionEvent) => void>();
  private readonly frames = new Set<(f: TelemetryFrame) => void>();
  private readonly statuses = new Set<(s: HostStatus) => void>();
  private readonly beats = new Set<(h: Heartbeat) => void>();
  private readonly pending = new Map<number, { id: Command['id']; done: (r: Reply) => void }>();
  private seq = 0;
  private timer: NodeJS.Timeout | undefined;
  private restartTimer: NodeJS.Timeout | undefined;
  private spawnedAt = 0;
  /** When {@link tick} last ran, and whether it skipped judging a hang because it ran late. */
  private tickAt = monoSeconds();
  private excused = false;
  private ready = false;
  private hung = false;
  private childError: string | undefined;
  private stderrTail = '';
  private playedOnce = false;
  private firstStart: { resolve: () => void; reject: (e: Error) => void } | undefined;
  private stopping: Promise<void> | undefined;
  private lastSnapshotAt = 0;
  /** The cause a supervisor gave when it killed the child itself ({@link restartChild}). */
  private forcedCause: FaultCause | undefined;
  private sink: ChildStartOptions['sink'];
  private standby: ChildHandle | undefined;
  private standbyTimer: NodeJS.Timeout | undefined;
  /** Restarts done (each time a child was started again after a fault). */
  restarts = 0;
  lastFault: HostFault | undefined;
  /** The last heartbeat of the child playing now (undefined until its first). */
  lastHeartbeat: Heartbeat | undefined;
  /** The last snapshot taken while playing. */
  lastSnapshot: Snapshot | undefined;
  /** The supervisor's level cap (dBFS sample peak): every start and every `levelCap` command is held under it. */
  private capDb: number | undefined;

  constructor(opts: SupervisedOptions) {
    this.o = opts;
    this.sink = opts.session.sink;
    this.policy = opts.policy instanceof InstallPolicy ? opts.policy : new InstallPolicy({ restart: opts.policy });
    this.watch = new HeartbeatWatch(opts.hangAfter ?? 5, monoSeconds());
    this.show = { patch: opts.session.patch, bindings: [...(opts.session.overrides ?? [])], scene: null, tempoFixed: undefined, muted: undefined, params: new Map(), frozen: new Map(), rebinds: new Map() };
  }

  /** Now on the policy's clock ({@link SupervisedOptions.policyClock}). */
  private policyNow(): number {
    return (this.o.policyClock ?? monoSeconds)();
  }

  /** The session process's id (undefined while none runs). */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** The spare process's id, while one waits (see {@link SupervisedOptions.standby}). */
  get standbyPid(): number | undefined {
    return this.standby?.pid;
  }

  /** The host's state now. */
  get status(): HostStatus {
    return { type: 'status', state: this.state, restarts: this.restarts, ...(this.sink === 'none' ? { silent: true } : {}), ...(this.lastFault ? { reason: this.lastFault.message } : {}) };
  }

  /** Failures by cause since start. */
  get faults(): Readonly<Record<FaultCause, number>> {
    return this.policy.counts;
  }

  /** The patch the host plays (or will play after a restart). */
  get patch(): PatchRef {
    return this.show.patch;
  }

  /**
   * Starts the child and resolves once it plays. When that first start fails
   * (an invalid patch, no audio device) it rejects with the child's error and
   * the supervisor stops, unless `retryFirstStart`.
   */
  start(): Promise<void> {
    if (this.state !== 'stopped' || this.stopping) return Promise.reject(new Error('the supervised session has already started'));
    const p = new Promise<void>((res, rej) => (this.firstStart = { resolve: res, reject: rej }));
    this.timer = setInterval(() => this.tick(), 250);
    this.timer.unref?.();
    this.spawn();
    return p;
  }

  private setState(state: State, reason?: string): void {
    this.state = state;
    const s: HostStatus = { ...this.status, ...(reason === undefined ? {} : { reason }) };
    for (const fn of this.statuses) {
      try {
        fn(s);
      } catch {
        // a listener's failure must not reach the supervisor
      }
    }
  }

  private log(line: string): void {
    this.o.log?.(line);
  }

  /** Starts a session process and wires it; it plays once sent `start`. */
  private launch(): ChildHandle {
    const child = (this.o.spawn ?? forkChild)(this.o.entry ?? SESSION_CHILD_ENTRY, { ECOSYM_SESSION_CHILD: '1', ...(this.o.env ?? {}) });
    // A bounce's render, started here for the child; killed with it.
    const renders = serveRenders((r) => child.send(r), this.o.launchRender);
    child.onMessage((m) => {
      if (isRenderRequest(m)) renders.handle(m);
      else if (this.child === child) this.message(m);
    });
    child.onStderr?.((text) => {
      if (this.child !== child) return;
      this.stderrTail = (this.stderrTail + text).slice(-2000);
      for (const line of text.split('\n')) if (line.trim()) this.log(line);
    });
    child.onExit((code, signal) => {
      renders.close();
      if (this.standby === child) this.standby = undefined;
      if (this.child !== child) return;
      this.child = undefined;
      this.exited(code, signal);
    });
    return child;
  }

  /**
   * A spare process, its modules loaded and warmed up (it has opened and
   * closed the show's patch once with no device), waiting for `start`: a
   * restart then skips loading and compiling the engine (most of a start's time). Made a while after the
   * session plays, so it never competes with a start.
   */
  private prepareStandby(): void {
    if (this.o.standby === false || this.standby || this.standbyTimer) return;
    this.standbyTimer = setTimeout(() => {
      this.standbyTimer = undefined;
      if (this.stopping || this.standby) return;
      try {
        const spare = (this.standby = this.launch());
        // It runs the start path once with no device: a restart then runs warm code.
        spare.send({ kind: 'warm', options: { ...this.o.session, sink: this.sink, patch: this.show.patch } });
      } catch (e) {
        this.log(`could not start a standby session process: ${(e as Error)?.message ?? String(e)}`);
      }
    }, 1000);
    this.standbyTimer.unref?.();
  }

  private spawn(): void {
    this.ready = false;
    this.hung = false;
    this.forcedCause = undefined;
    this.childError = undefined;
    this.stderrTail = '';
    this.lastHeartbeat = undefined;
    this.setState(this.restarts === 0 && !this.playedOnce ? 'starting' : 'restarting');
    let child = this.standby;
    this.standby = undefined;
    try {
      child ??= this.launch();
    } catch (e) {
      this.childError = `could not start the session process: ${(e as Error)?.message ?? String(e)}`;
      setImmediate(() => this.fault('start'));
      return;
    }
    this.child = child;
    this.spawnedAt = monoSeconds();
    this.watch.reset(this.spawnedAt);
    const overrides = new Map(this.show.bindings);
    for (const [stream, uri] of this.show.rebinds) overrides.set(stream, uri);
    const cap = this.capDb ?? this.o.session.levelCapDb;
    child.send({ kind: 'start', options: { ...this.o.session, sink: this.sink, patch: this.show.patch, overrides: [...overrides], ...(cap === undefined ? {} : { levelCapDb: cap }) } });
  }

  private message(m: FromChild): void {
    switch (m.kind) {
      case 'heartbeat':
        this.watch.beat(monoSeconds());
        this.lastHeartbeat = m;
        if (this.state === 'playing') this.show.scene = m.scene;
        for (const fn of this.beats) fn(m);
        return;
      case 'reply': {
        const p = this.pending.get(m.seq);
        if (!p) return;
        this.pending.delete(m.seq);
        p.done(m.reply);
        return;
      }
      case 'event':
        if (m.event.type === 'mute') this.show.muted = m.event.muted;
        if (m.event.type === 'scene' && this.state === 'playing') this.show.scene = m.event.scene;
        for (const fn of this.events) {
          try {
            fn(m.event);
          } catch {
            // as above
          }
        }
        return;
      case 'telemetry':
        for (const fn of this.frames) {
          try {
            fn(m.frame);
          } catch {
            // as above
          }
        }
        return;
      case 'failed':
        this.childError = m.error;
        return;
      case 'ready':
        this.ready = true;
        this.watch.reset(monoSeconds());
        void this.restore(m.snapshot);
        return;
      case 'stopped':
        return;
    }
  }

  /** Brings the new child to where the show was, then says it plays. */
  private async restore(fresh: Snapshot): Promise<void> {
    const child = this.child;
    const cmds: Command[] = [];
    const s = this.show;
    const last = this.lastSnapshot;
    if (last) {
      // Streams with no source sit at their default in a new process: give them their last values.
      for (const [stream, st] of Object.entries(last.streams))
        if (st.uri === undefined && st.raw !== undefined && !s.frozen.has(stream) && Object.hasOwn(fresh.streams, stream)) cmds.push({ type: 'inject', stream, value: st.raw });
    }
    for (const [stream, value] of s.frozen) {
      const v = value ?? (typeof last?.streams[stream]?.raw === 'number' ? (last.streams[stream].raw as number) : undefined);
      cmds.push({ type: 'freeze', stream, on: true, ...(v === undefined ? {} : { value: v }) });
    }
    const scene = s.scene ?? last?.scene;
    if (scene && scene !== fresh.scene) cmds.push({ type: 'scene', name: scene });
    if (s.tempoFixed !== undefined && s.tempoFixed !== null) cmds.push({ type: 'tempo', bpm: s.tempoFixed });
    if (s.muted !== undefined && s.muted !== fresh.muted) cmds.push({ type: 'mute', on: s.muted });
    for (const [target, value] of s.params) cmds.push({ type: 'param', target, value });
    // The cap may have changed while this child started.
    if (this.capDb !== undefined) cmds.push({ type: 'levelCap', db: this.capDb });
    if (this.frames.size) child?.send({ kind: 'telemetry', on: true });
    for (const c of cmds) {
      const r = await this.request(c);
      if (!r.ok) this.log(`restore: ${c.type} ${JSON.stringify(c).slice(0, 120)}: ${r.error}`);
    }
    if (this.child !== child || this.stopping) return;
    this.policy.started(this.policyNow());
    this.playedOnce = true;
    this.setState('playing');
    this.prepareStandby();
    this.firstStart?.resolve();
    this.firstStart = undefined;
    if (last) void this.restoreTransport(last, child);
  }

  /**
   * The file streams' transport as the last snapshot saw it (speed, loop
   * region, play head), once the new child has read its files: a restart
   * does not send the data back to its start. Waits at most ~10 s.
   */
  private async restoreTransport(last: Snapshot, child: ChildHandle | undefined): Promise<void> {
    const files = Object.entries(last.streams).flatMap(([stream, st]) => (st.file ? [{ stream, file: st.file }] : []));
    if (files.length === 0) return;
    for (let i = 0; ; i++) {
      if (this.child !== child || this.stopping) return;
      const r = await this.request({ type: 'snapshot' });
      if (r.ok && files.every(({ stream }) => (r.data as Snapshot).streams[stream]?.file !== undefined)) break;
      if (i >= 100) return this.log('restore: the data files were not read within 10 s; their play heads start over');
      await new Promise((done) => setTimeout(done, 100));
    }
    for (const { stream, file } of files) {
      const cmds: Command[] = [];
      // Seek before loop: the snapshot's head is inside its region, so the loop then leaves it where it is.
      // Loop first would jump the data to the region's start and hand that value over for a moment (and a
      // client reading between the two would see the head there).
      if (file.speed !== 1) cmds.push({ type: 'speed', stream, factor: file.speed });
      cmds.push({ type: 'seek', stream, time: file.time });
      if (file.loop) cmds.push({ type: 'loop', stream, region: file.loop });
      for (const c of cmds) {
        if (this.child !== child || this.stopping) return;
        const r = await this.request(c);
        if (!r.ok) this.log(`restore: ${c.type} ${stream}: ${r.error}`);
      }
    }
  }

  private tick(): void {
    if (!this.child || this.stopping) return;
    const now = monoSeconds();
    if (!this.ready) {
      if (now - this.spawnedAt > (this.o.startTimeout ?? 60)) {
        this.childError = `the session process did not start within ${this.o.startTimeout ?? 60} s`;
        this.hung = true;
        this.child.kill();
      }
      return;
    }
    // This process starved (its own tick came over a second late): heartbeats may wait unread
    // behind this timer, so the child is not judged on this tick, only on the next.
    const late = now - this.tickAt > 1 && !this.excused;
    this.excused = late;
    this.tickAt = now;
    if (!late && this.watch.hung(now) && !this.hung) {
      this.hung = true;
      this.log(`session process ${this.child.pid} hung: no heartbeat for ${this.watch.silentFor(now).toFixed(1)} s; killing it`);
      this.child.kill();
      return;
    }
    if (this.state === 'playing' && now - this.lastSnapshotAt >= (this.o.snapshotEvery ?? 2)) {
      this.lastSnapshotAt = now;
      const child = this.child;
      void this.request({ type: 'snapshot' }).then((r) => {
        if (r.ok && this.child === child) this.lastSnapshot = r.data as Snapshot;
      });
    }
  }

  private exited(code: number | null, signal: string | null): void {
    const how = signal ? `killed by ${signal}` : `exited with code ${code}`;
    for (const [, p] of this.pending) p.done(errorReply(p.id, `the audio host stopped before answering (${how}); the command may not have run and will not be replayed`));
    this.pending.clear();
    if (this.stopping) return;
    const wasReady = this.ready;
    const noDevice = !this.hung && !signal && /no audio output device/.test(this.childError ?? '');
    const cause: FaultCause = this.forcedCause ?? (noDevice ? 'device' : !wasReady ? 'start' : this.hung ? 'hang' : signal ? 'crash' : 'exit');
    const detail = this.childError ?? (this.hung ? `no heartbeat for ${this.o.hangAfter ?? 5} s` : lastLine(this.stderrTail));
    this.childError = `${how}${detail ? `: ${detail}` : ''}`;
    this.fault(cause);
  }

  private fault(cause: FaultCause): void {
    const message = `session process ${cause === 'device' ? 'has no audio device' : cause === 'start' ? 'failed to start' : cause === 'hang' ? 'hung' : 'died'}: ${this.childError ?? 'unknown'}`;
    this.lastFault = { cause, message, at: wallSeconds() };
    this.ready = false;
    this.emitEvent({ type: 'error', time: wallSeconds(), where: 'audio host', message: message.slice(0, 500) });
    if ((cause === 'start' || cause === 'device') && this.o.silentWithoutDevice && this.sink !== 'none' && /no audio output device/.test(this.childError ?? '')) {
      // Not a fault of the patch: play silently at once, so the UI works.
      this.sink = 'none';
      this.log(`${message}; playing with no audio device`);
      this.setState('restarting', `${message}; playing with no audio device`);
      this.restartTimer = setTimeout(() => {
        this.restartTimer = undefined;
        if (!this.stopping) this.spawn();
      }, 0);
      return;
    }
    if (!this.playedOnce && this.firstStart && !this.o.retryFirstStart) {
      const fs = this.firstStart;
      this.firstStart = undefined;
      void this.stop().then(() => fs.reject(new Error(this.childError ?? message)));
      return;
    }
    const key = this.o.keyOf ?? patchKey;
    const failing = this.show.patch;
    // The first candidate of each patch is the one the policy picks (it knows patches, not entries).
    const refs = new Map<string, SupervisedCandidate>();
    for (const c of this.o.candidates?.() ?? [{ patch: failing }]) if (!refs.has(key(c.patch))) refs.set(key(c.patch), c);
    const candidates = [...refs.keys()];
    if (this.o.fallback && !refs.has(key(this.o.fallback))) refs.set(key(this.o.fallback), { patch: this.o.fallback, data: {} });
    if (!refs.has(key(failing))) refs.set(key(failing), { patch: failing });
    const d = this.policy.failed(this.policyNow(), key(failing), cause, candidates, this.o.fallback && key(this.o.fallback));
    const chosen = d.patch === key(failing) ? { patch: failing } : (refs.get(d.patch) ?? { patch: failing });
    const next = chosen.patch;
    let reason = cause === 'device' ? `${message}; trying the device again in ${d.delay} s (attempt ${d.attempt})` : `${message}; restarting in ${d.delay} s`;
    if (d.patch !== key(failing)) {
      reason += `; ${key(failing)} keeps failing: playing ${d.fallback ? 'the fallback patch ' : ''}${d.patch} instead`;
      this.show.patch = next;
      if (chosen.data !== undefined) this.show.bindings = Object.entries(chosen.data);
      this.show.params.clear();
      this.show.frozen.clear();
      this.show.rebinds.clear();
      this.show.scene = null;
      this.lastSnapshot = undefined;
      this.lastHeartbeat = undefined;
    }
    try {
      this.o.onDecision?.(d, failing, next);
    } catch {
      // a listener's failure must not reach the supervisor
    }
    this.log(reason);
    this.setState('restarting', reason);
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      if (this.stopping) return;
      this.restarts++;
      this.spawn();
    }, d.delay * 1000);
  }

  private emitEvent(e: SessionEvent): void {
    for (const fn of this.events) {
      try {
        fn(e);
      } catch {
        // as above
      }
    }
  }

  /** Sends a command to the child now; resolves with its reply (an error reply if the child dies first). */
  private request(c: Command): Promise<Reply> {
    const child = this.child;
    if (!child) return Promise.resolve(errorReply(c.id, 'the audio host is not running'));
    const seq = ++this.seq;
    return new Promise((done) => {
      this.pending.set(seq, { id: c.id, done });
      child.send({ kind: 'command', seq, message: c });
    });
  }

  /**
   * Runs one protocol command in the child. While the host is not playing,
   * an error reply at once: the command is not kept for later.
   */
  async handle(message: unknown): Promise<Reply> {
    const hook = this.testHook(message);
    if (hook) return hook;
    const parsed = parseCommand(message);
    if (!parsed.ok) return parsed.reply;
    const c = parsed.command;
    if (this.state !== 'playing' || !this.child) return errorReply(c.id, `the audio host is ${this.state}: "${c.type}" was not run (send it again once it plays)`);
    // A client's level cap can lower the output, never lift the supervisor's.
    const r = await this.request(c.type === 'levelCap' && this.capDb !== undefined ? { ...c, db: Math.min(c.db ?? 0, this.capDb) } : c);
    if (r.ok) this.remember(c, r);
    return r;
  }

  /** `{type: "debugStall", seconds}` busy-waits the child (tests of hang detection; ECOSYM_TEST_HOOKS=1 only). */
  private testHook(message: unknown): Reply | undefined {
    if (process.env.ECOSYM_TEST_HOOKS !== '1') return undefined;
    let m = message;
    if (typeof m === 'string' && m.length < 200 && m.includes('debugStall')) {
      try {
        m = JSON.parse(m);
      } catch {
        return undefined;
      }
    }
    if (typeof m !== 'object' || m === null || (m as { type?: unknown }).type !== 'debugStall') return undefined;
    const seconds = Number((m as { seconds?: unknown }).seconds);
    if (!(seconds > 0 && seconds <= 600)) return errorReply(undefined, 'debugStall.seconds: expected 0 < seconds ≤ 600');
    if (!this.child) return errorReply(undefined, 'the audio host is not running');
    this.child.send({ kind: 'debugStall', seconds });
    return okReply(undefined);
  }

  /** Keeps what a successful command changed, to restore it after a restart. */
  private remember(c: Command, r: Reply): void {
    const s = this.show;
    switch (c.type) {
      case 'load':
        s.patch = c.patch;
        if (c.data !== undefined) {
          s.bindings = Object.entries(c.data);
          s.rebinds.clear();
        }
        // A new patch's own voices and buses: parameters of the old one do not carry over.
        for (const t of [...s.params.keys()]) if (!t.startsWith('master.')) s.params.delete(t);
        this.lastSnapshot = undefined;
        return;
      case 'param':
        s.params.set(c.target, r.ok && typeof (r.data as { value?: unknown })?.value === 'number' ? (r.data as { value: number }).value : c.value);
        return;
      case 'scene':
        s.scene = c.name;
        return;
      case 'tempo':
        s.tempoFixed = c.bpm;
        return;
      case 'mute':
        s.muted = c.on;
        return;
      case 'panic':
        s.muted = true;
        return;
      case 'freeze':
        if (c.on) s.frozen.set(c.stream, c.value);
        else s.frozen.delete(c.stream);
        return;
      case 'rebind':
        s.rebinds.set(c.stream, c.uri);
        return;
      case 'snapshot':
        if (r.ok) this.lastSnapshot = r.data as Snapshot;
        return;
      default:
        return;
    }
  }

  onEvent(fn: (e: SessionEvent) => void): () => void {
    this.events.add(fn);
    return () => this.events.delete(fn);
  }

  /** Telemetry frames; the child computes them only while someone here listens. */
  onTelemetry(fn: (f: TelemetryFrame) => void): () => void {
    this.frames.add(fn);
    if (this.frames.size === 1 && this.ready) this.child?.send({ kind: 'telemetry', on: true });
    return () => {
      this.frames.delete(fn);
      if (this.frames.size === 0 && this.ready) this.child?.send({ kind: 'telemetry', on: false });
    };
  }

  onStatus(fn: (s: HostStatus) => void): () => void {
    this.statuses.add(fn);
    return () => this.statuses.delete(fn);
  }

  /** Every heartbeat of the child (lag, level, patch, scene, memory): for a supervisor's health and metrics. */
  onHeartbeat(fn: (h: Heartbeat) => void): () => void {
    this.beats.add(fn);
    return () => this.beats.delete(fn);
  }

  /**
   * The supervisor's level cap (an installation's quiet hours, its maxLevel):
   * the session now (when it plays) and every restart start under it, and a
   * client's `levelCap` command cannot lift it. Undefined: no cap beyond the
   * session's ceiling.
   */
  async setLevelCap(db: number | undefined): Promise<Reply> {
    this.capDb = db;
    if (this.state !== 'playing' || !this.child) return okReply(undefined, { db: db ?? null, applied: 'at the next start' });
    return this.request({ type: 'levelCap', db: db ?? null });
  }

  /** The supervisor's level cap (see {@link setLevelCap}). */
  get levelCap(): number | undefined {
    return this.capDb;
  }

  /**
   * Kills the child so that it is restarted like after any fault, counted
   * with `cause` (an installation's silence watch: `silence`).
   */
  restartChild(cause: FaultCause, message: string): void {
    if (!this.child || this.stopping) return;
    this.forcedCause = cause;
    this.childError = message;
    this.child.kill();
  }

  /** Stops the child (asks, then kills it after `graceSeconds`) and the watching. Safe to call twice. */
  stop(graceSeconds = 5): Promise<void> {
    return (this.stopping ??= (async () => {
      if (this.timer) clearInterval(this.timer);
      if (this.restartTimer) clearTimeout(this.restartTimer);
      if (this.standbyTimer) clearTimeout(this.standbyTimer);
      const spare = this.standby;
      this.standby = undefined;
      spare?.kill();
      const child = this.child;
      if (child) {
        const gone = new Promise<void>((r) => child.onExit(() => r()));
        child.send({ kind: 'stop' });
        const kill = setTimeout(() => child.kill(), graceSeconds * 1000);
        await gone;
        clearTimeout(kill);
      }
      this.child = undefined;
      for (const [, p] of this.pending) p.done(errorReply(p.id, 'the audio host stopped'));
      this.pending.clear();
      this.setState('stopped');
    })());
  }
}

function lastLine(text: string): string {
  const lines = text.split('\n').filter((l) => l.trim());
  return (lines.at(-1) ?? '').slice(0, 300);
}
