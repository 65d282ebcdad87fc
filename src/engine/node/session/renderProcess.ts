/**
 * How a bounce starts its `ecosym render` process, and the protocol that lets
 * a session child have its parent start it.
 *
 * The render runs in a process of its own at a lower priority, so its CPU never
 * makes the playing show's notes late. Under plain Node (the CLI, `ecosym run`,
 * tests) the session starts it itself ({@link spawnRender}: `nice` + the
 * `ecosym` launcher). In the desktop app the session is an Electron utility
 * process, which can start neither Electron as Node (the `runAsNode` fuse is
 * off) nor a utility process (main-process only): it asks the main process over
 * its host channel ({@link renderViaParent}), and main starts the render bundle
 * as a utility process and forwards what it says ({@link serveRenders}).
 *
 * The render reports progress with `{type: 'progress', done, total}` and its
 * summary with `{type: 'rendered', …}` (src/cli/render.ts, `ECOSYM_PROGRESS=ipc`).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { setPriority } from 'node:os';
import { resolve } from 'node:path';
import { PROJECT_ROOT } from '../files.ts';

/** A running render process, as a bounce sees it. */
export interface RenderProcess {
  /** Known once the process has started (at once for a local one). */
  readonly pid: number | undefined;
  onMessage(fn: (message: unknown) => void): void;
  onStderr(fn: (text: string) => void): void;
  /** Called once: the exit code (null when killed), or why the process could not start. */
  onExit(fn: (code: number | null, error?: string) => void): void;
  /** SIGKILL: a render has nothing worth saving. */
  kill(): void;
  /** For a process whose pid comes later (Electron's utility process: at its 'spawn'): called then. */
  onSpawn?(fn: () => void): void;
}

export interface RenderLaunch {
  /** The CLI's arguments, starting with `render`. */
  args: string[];
  /** How far below the caller the render runs (nice value, 0…19). */
  niceness: number;
  cwd: string;
}

/** Starts a render process. */
export type LaunchRender = (launch: RenderLaunch) => RenderProcess;

/**
 * The environment a render process needs beside its arguments: progress over
 * its parent channel, and glibc's mmap threshold that gives each segment's
 * large buffers back to the system (bin/ecosym.mjs sets it by re-running a
 * render in a child, which would lose the parent channel; set here, it is not
 * needed).
 */
export const RENDER_ENV = { ECOSYM_PROGRESS: 'ipc', MALLOC_MMAP_THRESHOLD_: '131072' } as const;

/** nice(1), which starts a program at a lower priority (it execs it: the pid stays the child's). */
const NICE = '/usr/bin/nice';

/** The `ecosym` launcher (it runs the built CLI, or the sources through tsx). */
const BIN = resolve(PROJECT_ROOT, 'bin/ecosym.mjs');

/** Makes the callbacks of a {@link RenderProcess} from the events of one. */
function exitOnce(): { onExit: RenderProcess['onExit']; exit(code: number | null, error?: string): void } {
  let exited: { code: number | null; error?: string } | undefined;
  const fns: Array<(code: number | null, error?: string) => void> = [];
  return {
    onExit(fn) {
      if (exited) fn(exited.code, exited.error);
      else fns.push(fn);
    },
    exit(code, error) {
      if (exited) return;
      exited = { code, error };
      for (const fn of fns.splice(0)) fn(code, error);
    },
  };
}

/**
 * {@link LaunchRender} under Node: the `ecosym` launcher run by this Node, under
 * nice(1) where there is one (so every thread of the child runs below the show),
 * else reniced once started; progress over Node IPC.
 */
export const spawnRender: LaunchRender = ({ args, niceness, cwd }) => {
  const nice = process.platform !== 'win32' && existsSync(NICE) ? NICE : undefined;
  const argv = [BIN, ...args];
  const child = spawn(nice ?? process.execPath, nice ? ['-n', String(niceness), process.execPath, ...argv] : argv, {
    cwd,
    env: { ...process.env, ...RENDER_ENV },
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  try {
    if (!nice && child.pid !== undefined) setPriority(child.pid, niceness);
  } catch {
    // not allowed here: the child runs at the same priority
  }
  const ended = exitOnce();
  child.once('error', (e) => ended.exit(null, e.message));
  child.once('close', (code) => ended.exit(code));
  return {
    get pid() {
      return child.pid;
    },
    onMessage: (fn) => void child.on('message', fn),
    onStderr: (fn) => void child.stderr!.on('data', (d: Buffer) => fn(d.toString())),
    onExit: ended.onExit,
    kill: () => void child.kill('SIGKILL'),
  };
};

/** What a session child asks its parent. */
export type RenderRequest = { kind: 'render'; id: number; launch: RenderLaunch } | { kind: 'renderKill'; id: number };

/** What the parent tells the child about a render it started. */
export type RenderReport =
  | { kind: 'renderStarted'; id: number; pid: number | undefined }
  | { kind: 'renderMessage'; id: number; message: unknown }
  | { kind: 'renderStderr'; id: number; text: string }
  | { kind: 'renderExit'; id: number; code: number | null; error?: string };

const REPORT_KINDS = new Set(['renderStarted', 'renderMessage', 'renderStderr', 'renderExit']);

export function isRenderReport(m: unknown): m is RenderReport {
  return typeof m === 'object' && m !== null && REPORT_KINDS.has((m as { kind?: unknown }).kind as string) && typeof (m as { id?: unknown }).id === 'number';
}

export function isRenderRequest(m: unknown): m is RenderRequest {
  const k = typeof m === 'object' && m !== null ? (m as { kind?: unknown }).kind : undefined;
  return (k === 'render' || k === 'renderKill') && typeof (m as { id?: unknown }).id === 'number';
}

/**
 * The child's side: a {@link LaunchRender} that has the parent start the
 * render. `send` goes to the parent; `subscribe` gets what the parent says
 * (other messages are ignored).
 */
export function renderViaParent(send: (m: RenderRequest) => void, subscribe: (fn: (m: unknown) => void) => void): LaunchRender {
  let next = 1;
  const running = new Map<number, { pid?: number; message: Array<(m: unknown) => void>; stderr: Array<(t: string) => void>; exit(code: number | null, error?: string): void }>();
  subscribe((m) => {
    if (!isRenderReport(m)) return;
    const r = running.get(m.id);
    if (!r) return;
    if (m.kind === 'renderStarted') r.pid = m.pid;
    else if (m.kind === 'renderMessage') for (const fn of r.message) fn(m.message);
    else if (m.kind === 'renderStderr') for (const fn of r.stderr) fn(m.text);
    else {
      running.delete(m.id);
      r.exit(m.code, m.error);
    }
  });
  return (launch) => {
    const id = next++;
    const ended = exitOnce();
    const r = { pid: undefined as number | undefined, message: [] as Array<(m: unknown) => void>, stderr: [] as Array<(t: string) => void>, exit: ended.exit };
    running.set(id, r);
    send({ kind: 'render', id, launch });
    return {
      get pid() {
        return r.pid;
      },
      onMessage: (fn) => void r.message.push(fn),
      onStderr: (fn) => void r.stderr.push(fn),
      onExit: ended.onExit,
      kill: () => send({ kind: 'renderKill', id }),
    };
  };
}

/**
 * The parent's side, for one session child: starts the renders it asks for
 * with `launch` and reports on them through `reply`. Without a `launch` every
 * request ends at once in an exit saying why. `close` kills what is still
 * running (the session child is gone).
 */
export function serveRenders(reply: (m: RenderReport) => void, launch: LaunchRender | undefined): { handle(m: RenderRequest): void; close(): void } {
  const running = new Map<number, RenderProcess>();
  let closed = false;
  return {
    handle(m) {
      if (m.kind === 'renderKill') return void running.get(m.id)?.kill();
      if (closed) return;
      if (!launch) return reply({ kind: 'renderExit', id: m.id, code: null, error: 'this host cannot start a render process' });
      let p: RenderProcess;
      try {
        p = launch(m.launch);
      } catch (e) {
        return reply({ kind: 'renderExit', id: m.id, code: null, error: `could not start the render: ${(e as Error)?.message ?? String(e)}` });
      }
      running.set(m.id, p);
      p.onMessage((message) => reply({ kind: 'renderMessage', id: m.id, message }));
      p.onStderr((text) => reply({ kind: 'renderStderr', id: m.id, text }));
      p.onExit((code, error) => {
        running.delete(m.id);
        reply({ kind: 'renderExit', id: m.id, code, ...(error === undefined ? {} : { error }) });
      });
      // The pid is known once started (Electron's utility process: at its 'spawn').
      const started = () => reply({ kind: 'renderStarted', id: m.id, pid: p.pid });
      if (p.pid !== undefined || !p.onSpawn) started();
      else p.onSpawn(started);
    },
    close() {
      closed = true;
      for (const p of running.values()) p.kill();
      running.clear();
    },
  };
}
