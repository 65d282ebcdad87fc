/**
 * An offline bounce while a show plays: `ecosym render` run in a child
 * process, so the render's CPU and memory never touch the process that plays
 * (and at a lower scheduling priority, so on a busy machine the playing
 * session wins). Progress comes back over the child's channel
 * (`ECOSYM_PROGRESS=ipc`). Who starts the process is injected (renderProcess.ts):
 * the session itself under Node, the main process in the desktop app.
 *
 * The child writes `<path>.part` (itself atomically); the bounce renames it to
 * `<path>` once the child has finished. Cancel kills the child and removes
 * whatever it left, so no broken file is ever at `<path>`.
 */
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { spawnRender, type LaunchRender, type RenderProcess } from './renderProcess.ts';

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
  /** Starts the render process (default {@link spawnRender}; the desktop app's session asks its main process). */
  launch?: LaunchRender;
}

/** Keeps the last `max` characters of a stream's text (for a failure's message). */
function tail(max: number): { add(d: string): void; text(): string } {
  let t = '';
  return {
    add(d) {
      t = (t + d).slice(-max);
    },
    text: () => t,
  };
}

export class Bounce {
  readonly path: string;
  private readonly part: string;
  private readonly child: RenderProcess;
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
    const args = ['render', opts.patch, '--duration', `${opts.duration}s`, '--out', this.part, '--bits', '24'];
    if (opts.seed !== undefined) args.push('--seed', String(opts.seed));
    if (opts.sampleRate !== undefined) args.push('--sample-rate', String(opts.sampleRate));
    this.child = (opts.launch ?? spawnRender)({ args, niceness: opts.niceness ?? 10, cwd: process.cwd() });
    const err = tail(4000);
    this.child.onStderr((d) => err.add(d));
    this.child.onMessage((m: unknown) => this.message(m));
    this.finished = new Promise<BounceState>((done) => {
      const settle = (code: number | null, error?: string) => {
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
          message = error ?? (said || `ecosym render exited with code ${code}`);
        }
        if (state !== 'done') this.cleanUp();
        this.state = state;
        if (state === 'done') this.progressNow = 1;
        this.update({ ...(state === 'done' ? this.summary : {}), ...(message === undefined ? {} : { error: message }) });
        done(state);
      };
      this.child.onExit((code, error) => settle(code, error));
    });
    // (A launcher that refused at once has already settled it.)
    if (this.state === 'running') this.update({});
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
      this.child.kill();
    }
    return this.finished;
  }
}
