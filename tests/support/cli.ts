/**
 * The CLI as a user runs it, for commands that run until stopped (play,
 * record, sources): started as a child process, watched through its output,
 * and stopped with SIGTERM (what Ctrl-C does) once the test has seen what it
 * waits for. A fixed `--duration`/`--for` is a wall-clock window: on a loaded
 * machine the child spent most of a 5 s run starting (tsx compiling the CLI
 * took 13 s at load 17), and stopped before anything came.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PROJECT_ROOT } from '../../src/engine/node/files.ts';

const BIN = resolve(PROJECT_ROOT, 'bin/ecosym.mjs');

/** What a stopped (or exited) CLI run left. */
export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** A CLI process running in the background. */
export interface RunningCli {
  /** Output so far. */
  stdout(): string;
  stderr(): string;
  /** True once the process has exited. */
  exited(): boolean;
  /** Sends SIGTERM (unless it has exited) and resolves when it has exited. */
  stop(): Promise<CliResult>;
}

/** Starts `ecosym ARGS…` with its own cache directory; `env` adds to the environment. */
export function startEcosym(args: string[], env: NodeJS.ProcessEnv = {}): RunningCli {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, ECOSYM_CACHE_DIR: mkdtempSync(join(tmpdir(), 'ecosym-cli-')), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  // 'close' (not 'exit'): the output pipes are drained by then.
  const closed = new Promise<CliResult>((r) => child.once('close', (code, signal) => r({ code, signal, stdout, stderr })));
  let done = false;
  void closed.then(() => (done = true));
  return {
    stdout: () => stdout,
    stderr: () => stderr,
    exited: () => done,
    async stop() {
      if (!done) child.kill('SIGTERM');
      return closed;
    },
  };
}
