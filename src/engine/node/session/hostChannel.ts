/**
 * The channel between a session child process and whoever started it: Node's
 * IPC (`child_process.fork`: `process.send` / `process.on('message')`) in the
 * CLI and `ecosym run`, Electron's `utilityProcess` (`process.parentPort`) in
 * the desktop app. Both carry structured-clone objects; {@link HostChannel}
 * hides which one it is, on each side.
 *
 * The messages ({@link ToChild}, {@link FromChild}) wrap the session protocol
 * of `src/shared/protocol.ts`: commands and replies matched by `seq`, events,
 * telemetry, plus what only a supervisor needs (start options, heartbeats,
 * snapshots for restore), and a bounce's render process started by the
 * parent on the child's behalf (renderProcess.ts).
 */
import { fork, type ChildProcess } from 'node:child_process';
import type { PatchRef, Reply, SessionEvent, Snapshot, TelemetryFrame } from '../../../shared/protocol.ts';
import type { SessionOptions } from './Session.ts';
import type { RenderReport, RenderRequest } from './renderProcess.ts';

/** How the child opens its session: {@link SessionOptions} as plain data. */
export interface ChildStartOptions extends Omit<SessionOptions, 'patch' | 'log' | 'overrides' | 'launchRender'> {
  patch: PatchRef;
  /** stream → source URI, replacing the patch's default sources. */
  overrides?: Array<[string, string]>;
  /** Bounces ask the parent to start their render process (`render` messages; the desktop app, where the child cannot start one). */
  renderViaParent?: boolean;
}

/** What the child says every heartbeat period (about 250 ms). */
export interface Heartbeat {
  kind: 'heartbeat';
  /** Wall time of the child, epoch ms. */
  at: number;
  /** How late the heartbeat timer fired, ms: the event loop's lag. */
  lagMs: number;
  /** Output level over the last second, dBFS (null for silence). */
  rmsDb: number | null;
  patch: string;
  scene: string | null;
  rss: number;
  heapUsed: number;
  /** Memory outside the V8 heap that V8 knows of (ArrayBuffers, audio buffers handed to JS), bytes. */
  external: number;
}

export type ToChild =
  | { kind: 'start'; options: ChildStartOptions }
  /** A standby process: open (and close) the session once with no device, so a later `start` runs warm code. */
  | { kind: 'warm'; options: ChildStartOptions }
  | { kind: 'command'; seq: number; message: unknown }
  | { kind: 'telemetry'; on: boolean }
  | { kind: 'debugStall'; seconds: number }
  | { kind: 'stop' }
  | RenderReport;

export type FromChild =
  | { kind: 'ready'; pid: number; snapshot: Snapshot }
  | { kind: 'failed'; error: string; where: 'start' | 'run' }
  | { kind: 'reply'; seq: number; reply: Reply }
  | { kind: 'event'; event: SessionEvent }
  | { kind: 'telemetry'; frame: TelemetryFrame }
  | Heartbeat
  | { kind: 'stopped' }
  | RenderRequest;

/** One side of the channel. */
export interface HostChannel<In, Out> {
  send(message: Out): void;
  /** Subscribes to messages; returns the unsubscribe function. */
  onMessage(fn: (message: In) => void): () => void;
}

/** What an Electron utility process has as `process.parentPort`. */
interface ParentPort {
  postMessage(message: unknown): void;
  on(event: 'message', fn: (e: { data: unknown }) => void): unknown;
  off?(event: 'message', fn: (e: { data: unknown }) => void): unknown;
}

/**
 * The child's side, from this process: Electron's `process.parentPort` when
 * there is one, else Node's IPC. Undefined when this process has neither (it
 * was not started as a session child).
 */
export function parentChannel(): HostChannel<ToChild, FromChild> | undefined {
  const port = (process as unknown as { parentPort?: ParentPort }).parentPort;
  if (port) {
    return {
      send: (m) => port.postMessage(m),
      onMessage(fn) {
        const h = (e: { data: unknown }) => fn(e.data as ToChild);
        port.on('message', h);
        return () => port.off?.('message', h);
      },
    };
  }
  if (typeof process.send !== 'function') return undefined;
  return {
    send: (m) => {
      // The parent may be gone (its channel closed): nothing to tell then.
      if (process.connected) process.send!(m, undefined, undefined, () => undefined);
    },
    onMessage(fn) {
      const h = (m: unknown) => fn(m as ToChild);
      process.on('message', h);
      return () => process.off('message', h);
    },
  };
}

/**
 * A started child process, as its parent sees it: the same shape whether
 * `child_process.fork` or Electron's `utilityProcess.fork` made it (the app's
 * main process adapts the latter).
 */
export interface ChildHandle extends HostChannel<FromChild, ToChild> {
  readonly pid: number | undefined;
  /** Called once when the process has exited (code, or the signal that ended it); at once if it already has. */
  onExit(fn: (code: number | null, signal: string | null) => void): void;
  /** Kills the process (SIGKILL: a hung process does not answer SIGTERM). */
  kill(): void;
  /** Lines the child writes to stderr, when they can be read. */
  onStderr?(fn: (text: string) => void): void;
}

/** Starts a session child: the entry script, and the environment to add. */
export type SpawnChild = (entry: string, env: Record<string, string>) => ChildHandle;

/** {@link SpawnChild} with Node's `child_process.fork` (the CLI, `ecosym run`, tests). */
export const forkChild: SpawnChild = (entry, env) => {
  const cp: ChildProcess = fork(entry, [], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
    serialization: 'advanced',
  });
  let exited: { code: number | null; signal: string | null } | undefined;
  // Always read, so a chatty child never blocks on a full pipe.
  const errFns: Array<(text: string) => void> = [];
  cp.stderr?.setEncoding('utf8');
  cp.stderr?.on('data', (d: string) => {
    for (const fn of errFns) fn(d);
  });
  const exitFns: Array<(code: number | null, signal: string | null) => void> = [];
  cp.on('exit', (code, signal) => {
    exited = { code, signal };
    for (const fn of exitFns.splice(0)) fn(code, signal);
  });
  // A spawn failure (no such file) comes as 'error' with no 'exit'.
  cp.on('error', () => {
    if (cp.pid === undefined && !exited) {
      exited = { code: 1, signal: null };
      for (const fn of exitFns.splice(0)) fn(1, null);
    }
  });
  return {
    get pid() {
      return cp.pid;
    },
    send(m) {
      if (cp.connected) cp.send(m, undefined, undefined, () => undefined);
    },
    onMessage(fn) {
      const h = (m: unknown) => fn(m as FromChild);
      cp.on('message', h);
      return () => cp.off('message', h);
    },
    onExit(fn) {
      if (exited) fn(exited.code, exited.signal);
      else exitFns.push(fn);
    },
    kill() {
      if (!exited) cp.kill('SIGKILL');
    },
    onStderr(fn) {
      errFns.push(fn);
    },
  };
};
