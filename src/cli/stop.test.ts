/**
 * How the long-running commands stop, as a user stops them: Ctrl-C (SIGINT) and
 * SIGTERM sent to a real `ecosym` process, and a reader that closes the pipe
 * (`ecosym play … | head -1`). Plus the wait itself, in process, on fake timers.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PROJECT_ROOT } from '../engine/node/files.ts';
import { requestStop, resetStops, signalExitCode, waitForStop } from './stop.ts';

const BIN = resolve(PROJECT_ROOT, 'bin/ecosym.mjs');
const tmp = () => mkdtempSync(join(tmpdir(), 'ecosym-stop-'));

/**
 * Generous bound for "stops at once" on a loaded 2-core machine; the precise
 * figure is `npm run bench` (cli-stop).
 */
const STOP_BOUND_MS = 5000;

interface Child {
  proc: ChildProcessWithoutNullStreams;
  stdout: () => string;
  stderr: () => string;
  /** Resolves when a stdout line matches. */
  line: (re: RegExp) => Promise<string>;
  /** Resolves with the exit code (or the signal that killed it). */
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function start(args: string[]): Child {
  const proc = spawn(process.execPath, [BIN, ...args], { cwd: PROJECT_ROOT, env: { ...process.env, ECOSYM_CACHE_DIR: tmp() } });
  let out = '';
  let err = '';
  const watchers: Array<{ re: RegExp; done: (l: string) => void }> = [];
  proc.stdout.setEncoding('utf8').on('data', (d: string) => {
    out += d;
    for (const w of [...watchers]) {
      const hit = out.split('\n').find((l) => w.re.test(l));
      if (hit !== undefined) {
        watchers.splice(watchers.indexOf(w), 1);
        w.done(hit);
      }
    }
  });
  proc.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) => proc.on('exit', (code, signal) => done({ code, signal })));
  return {
    proc,
    stdout: () => out,
    stderr: () => err,
    line: (re) =>
      new Promise((done, fail) => {
        const hit = out.split('\n').find((l) => re.test(l));
        if (hit !== undefined) return done(hit);
        watchers.push({ re, done });
        void exit.then(() => fail(new Error(`exited before printing ${re}: ${out}\n${err}`)));
      }),
    exit,
  };
}

/** Sends a signal and measures how long the process takes to exit. */
async function stopWith(c: Child, signal: NodeJS.Signals): Promise<{ code: number | null; ms: number }> {
  const t0 = performance.now();
  c.proc.kill(signal);
  const killer = setTimeout(() => c.proc.kill('SIGKILL'), 60_000);
  const { code } = await c.exit;
  clearTimeout(killer);
  return { code, ms: performance.now() - t0 };
}

// A level line is printed by the meter of the running wait, so the signal
// handlers are in place by then.
const LEVELS = /peak -?(\d+\.\d|inf) dBFS/;

describe('ecosym play stops on signals', () => {
  it('Ctrl-C (SIGINT) ends a 10-minute play at once with exit 130, after the Stopped summary', async () => {
    const c = start(['play', 'seattle-drift', '--sink', 'none', '--duration', '10m']);
    await c.line(LEVELS);
    const { code, ms } = await stopWith(c, 'SIGINT');
    expect(code).toBe(130);
    expect(ms).toBeLessThan(STOP_BOUND_MS);
    expect(c.stdout()).toMatch(/Stopped: \d+ notes, 0 engine errors/);
    expect(c.stderr()).toBe('');
  });

  it('SIGTERM ends it with exit 143', async () => {
    const c = start(['play', 'seattle-drift', '--sink', 'none', '--duration', '10m']);
    await c.line(LEVELS);
    const { code, ms } = await stopWith(c, 'SIGTERM');
    expect(code).toBe(143);
    expect(ms).toBeLessThan(STOP_BOUND_MS);
    expect(c.stdout()).toContain('Stopped:');
  });

  it('a closed stdout (play … | head -1) ends it quietly with exit 0, no stack trace', async () => {
    const c = start(['play', 'seattle-drift', '--sink', 'none', '--duration', '10m']);
    await c.line(/^Playing /);
    // What `head -1` does after its line: close the read end of the pipe.
    c.proc.stdout.destroy();
    const killer = setTimeout(() => c.proc.kill('SIGKILL'), 60_000);
    const { code, signal } = await c.exit;
    clearTimeout(killer);
    expect({ code, signal }).toStrictEqual({ code: 0, signal: null });
    expect(c.stderr()).not.toContain('EPIPE');
    expect(c.stderr()).not.toMatch(/^\s+at /m);
    expect(c.stderr()).toBe('');
  });
});

describe('ecosym sources and record stop on signals', () => {
  it('sources: Ctrl-C exits 130 after the final table', async () => {
    const c = start(['sources', 'seattle-drift', '--data', 'wind=sim:walk?min=0&max=10&rate=5']);
    await c.line(/^STREAM\s+STATE/);
    const { code, ms } = await stopWith(c, 'SIGINT');
    expect(code).toBe(130);
    expect(ms).toBeLessThan(STOP_BOUND_MS);
  });

  it('record: SIGTERM exits 143 and keeps the rows captured so far in the named file', async () => {
    const dir = tmp();
    const out = join(dir, 'walk.csv');
    const c = start(['record', 'sim:walk?min=0&max=10&rate=20', '--out', out]);
    await c.line(/^Recording /);
    // Wait until rows reach the .part file (it is flushed every second).
    const part = `${out}.part`;
    await vi.waitFor(() => expect(readFileSync(part, 'utf8').split('\n').length).toBeGreaterThan(3), { timeout: 30_000, interval: 100 });
    const { code } = await stopWith(c, 'SIGTERM');
    expect(code).toBe(143);
    expect(existsSync(part)).toBe(false);
    expect(readFileSync(out, 'utf8').split('\n').length).toBeGreaterThan(3);
    expect(c.stdout()).toMatch(/Wrote .*walk\.csv: \d+ rows/);
  });
});

describe('waitForStop', () => {
  afterEach(() => {
    vi.useRealTimers();
    vi.restoreAllMocks();
    resetStops();
  });

  it('ends on its time with every timer cleared', async () => {
    vi.useFakeTimers();
    let ticks = 0;
    const waiting = waitForStop(3, [{ ms: 1000, run: () => ticks++ }]);
    await vi.advanceTimersByTimeAsync(3000);
    expect(await waiting).toBe('time');
    expect(ticks).toBe(3); // at 1, 2 and 3 s (the ticker is set before the deadline, so it runs first at 3 s)
    expect(vi.getTimerCount()).toBe(0);
    expect(signalExitCode()).toBeUndefined();
  });

  it('ends at once on SIGINT with every timer cleared (a 10-minute deadline included) and exit code 130', async () => {
    vi.useFakeTimers();
    const waiting = waitForStop(600, [{ ms: 40, run: () => {} }]);
    expect(vi.getTimerCount()).toBe(2);
    process.emit('SIGINT', 'SIGINT');
    expect(await waiting).toBe('SIGINT');
    expect(vi.getTimerCount()).toBe(0);
    expect(signalExitCode()).toBe(130);
  });

  it('a second signal during clean-up exits at once; the first one decides the code', async () => {
    const exit = vi.spyOn(process, 'exit').mockImplementation((() => undefined) as never);
    const waiting = waitForStop(Infinity);
    process.emit('SIGTERM', 'SIGTERM');
    expect(await waiting).toBe('SIGTERM');
    expect(exit).not.toHaveBeenCalled();
    process.emit('SIGINT', 'SIGINT');
    expect(exit).toHaveBeenCalledWith(130);
    expect(signalExitCode()).toBe(143);
  });

  it('a closed stdout stops the wait but imposes no exit code; a stop before the wait ends it at once', async () => {
    requestStop('EPIPE');
    expect(await waitForStop(Infinity)).toBe('EPIPE');
    expect(signalExitCode()).toBeUndefined();
  });
});
