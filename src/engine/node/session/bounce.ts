/**
 * An offline bounce while a show plays: `ecosym render` run in a child
 * process, so the render's CPU and memory never touch the process that plays
 * (and at a lower scheduling priority, so on a busy machine the playing
 * session wins). Progress comes back over Node IPC (`ECOSYM_PROGRESS=ipc`).
 *
 * The child writes `<path>.part` (itself atomically); the bounce renames it to
 * `<path>` once the child has finished. Cancel kills the child and removes
 * whatever it left, so no broken file is ever at `<path>`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { setPriority } from 'node:os';
import { dirname, resolve } from 'node:path';
import { PROJECT_ROOT } from '../files.ts';

export type BounceState = 'running' | 'done' | 'cancelled' | 'failed';

export interface BounceUpdate {
  state: BounceState;
  /** 0…1. */
  progress: number;
  path: string;
  peakDb?: number;
  rmsDb?: number;
  error?: string;
}

export interface BounceOptions {
  /** The patch: a file path or a built-in id, as `ecosym render` takes it. */
  patch: string;
  /** Seconds. */
  duration: number;
  /** The WAV to write. */
  path: string;
  seed?: number;
  sampleRate?: number;
  /** Called as the bounce goes: running (with progress), then once done, cancelled or failed. */
  onUpdate: (u: BounceUpdate) => void;
  /** Niceness of the child (default 10: below the playing session). */
  niceness?: number;
}

/** nice(1), which starts a program at a lower priority (it execs it: the pid stays the child's). */
const NICE = '/usr/bin/nice';

/** The `ecosym` launcher (it runs the built CLI, or the sources through tsx). */
const BIN = resolve(PROJECT_ROOT, 'bin/ecosym.mjs');

/** Keeps the last `max` characters of a stream's text (for a failure's message). */
function tail(max: number): { add(d: Buffer): void; text(): string } {
  let t = '';
  return {
    add(d) {
      t = (t + d.toString()).slice(-max);
    },
    text: () => t,
  };
}

export class Bounce {
  readonly path: string;
  private readonly part: string;
  private readonly child: ChildProcess;
  private state: BounceState = 'running';
  private progressNow = 0;
  private cancelling = false;
  private summary: { peakDb?: number; rmsDb?: number } = {};
  /** Resolves with the final state once the child has exited and its files are settled. */
  readonly finished: Promise<BounceState>;

  constructor(private readonly opts: BounceOptions) {
    this.path = resolve(opts.path);
    this.part = `${this.path}.part`;
    mkdirSync(dirname(this.path), { recursive: true });
    const args = [BIN, 'render', opts.patch, '--duration', `${opts.duration}s`, '--out', this.part, '--bits', '24'];
    if (opts.seed !== undefined) args.push('--seed', String(opts.seed));
    if (opts.sampleRate !== undefined) args.push('--sample-rate', String(opts.sampleRate));
    // Started under nice(1) where there is one, so every thread of the child (and
    // of what it starts) runs below the show; otherwise reniced once started.
    const niceness = opts.niceness ?? 10;
    const nice = process.platform !== 'win32' && existsSync(NICE) ? NICE : undefined;
    this.child = spawn(nice ?? process.execPath, nice ? ['-n', String(niceness), process.execPath, ...args] : args, {
      cwd: process.cwd(),
      // ELECTRON_RUN_AS_NODE: in the desktop app's audio host, execPath is Electron's binary.
      env: { ...process.env, ECOSYM_PROGRESS: 'ipc', ELECTRON_RUN_AS_NODE: '1' },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    try {
      if (!nice && this.child.pid !== undefined) setPriority(this.child.pid, niceness);
    } catch {
      // not allowed here: the child runs at the same priority
    }
    const out = tail(2000);
    const err = tail(4000);
    this.child.stdout!.on('data', (d: Buffer) => out.add(d));
    this.child.stderr!.on('data', (d: Buffer) => err.add(d));
    this.child.on('message', (m: unknown) => this.message(m));
    this.finished = new Promise<BounceState>((done) => {
      const settle = (code: number | null, error?: Error) => {
        let state: BounceState;
        let message: string | undefined;
        if (this.cancelling) state = 'cancelled';
        else if (code === 0 && !error && existsSync(this.part)) {
          try {
            renameSync(this.part, this.path);
            state = 'done';
          } catch (e) {
            state = 'failed';
            message = `cannot rename ${this.part}: ${(e as Error).message}`;
          }
        } else {
          state = 'failed';
          const said = err.text().trim().split('\n').filter((l) => !/^warning:/.test(l)).slice(-3).join('\n');
          message = error?.message ?? (said || `ecosym render exited with code ${code}`);
        }
        if (state !== 'done') this.cleanUp();
        this.state = state;
        if (state === 'done') this.progressNow = 1;
        this.update({ ...(state === 'done' ? this.summary : {}), ...(message === undefined ? {} : { error: message }) });
        done(state);
      };
      let settled = false;
      this.child.once('error', (e) => {
        if (!settled) settle(null, e);
        settled = true;
      });
      this.child.once('close', (code) => {
        if (!settled) settle(code);
        settled = true;
      });
    });
    this.update({});
  }

  /** Progress 0…1. */
  get progress(): number {
    return this.progressNow;
  }

  get current(): BounceState {
    return this.state;
  }

  private message(m: unknown): void {
    if (typeof m !== 'object' || m === null) return;
    const x = m as { type?: unknown; done?: unknown; total?: unknown; peakDb?: unknown; rmsDb?: unknown };
    if (x.type === 'progress' && typeof x.done === 'number' && typeof x.total === 'number' && x.total > 0) {
      const p = Math.min(1, Math.max(0, x.done / x.total));
      if (p <= this.progressNow || this.state !== 'running') return;
      this.progressNow = p;
      this.update({});
    } else if (x.type === 'rendered') {
      const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
      this.summary = { peakDb: num(x.peakDb), rmsDb: num(x.rmsDb) };
    }
  }

  private update(extra: Partial<BounceUpdate>): void {
    try {
      this.opts.onUpdate({ state: this.state, progress: this.progressNow, path: this.path, ...extra });
    } catch {
      // a listener's failure is not the bounce's
    }
  }

  /**
   * Removes what a stopped child may have left: the `.part` file, the file the
   * render streams into before renaming it to that (`.part.part`), and its own
   * temporary file.
   */
  private cleanUp(): void {
    rmSync(this.part, { force: true });
    rmSync(`${this.part}.part`, { force: true });
    if (this.child.pid !== undefined) rmSync(`${this.part}.${this.child.pid}.tmp`, { force: true });
  }

  /** Stops the bounce; resolves once the child is gone and nothing of it is left on disk. */
  async cancel(): Promise<BounceState> {
    if (this.state === 'running' && !this.cancelling) {
      this.cancelling = true;
      // SIGKILL: a render has nothing worth saving, and must not linger while the show plays.
      this.child.kill('SIGKILL');
    }
    return this.finished;
  }
}
