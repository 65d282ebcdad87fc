/**
 * CLI benchmark: how fast `ecosym play` stops on Ctrl-C. A real process
 * (`ecosym play seattle-drift --sink none --duration 10m`) is started, left to
 * play until it prints a level line (its wait, and so its signal handlers, are
 * running), sent SIGINT, and timed until it prints its `Stopped:` summary
 * (clean-up done: sources stopped, bridges closed, the audio context closed) and
 * until the process has exited (plus Node's own teardown: the tsx loader thread,
 * native audio threads). The goal is under 1 s; the test
 * (src/cli/stop.test.ts) only checks a generous bound.
 *
 * startup-to-sound: ms from spawning `ecosym play carbon-pulse --sink none` to
 * its first audio block above −60 dBFS (play reports it on stderr when
 * ECOSYM_FIRST_SOUND is set), median and max; goal ≤ 1,500 ms. The bin runs
 * dist/ when it is built and fresh, else the TypeScript through tsx
 * (`ECOSYM_TSX=1` forces tsx, for the before/after figure).
 */
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { PROJECT_ROOT } from '../src/engine/node/files.ts';

const BIN = resolve(PROJECT_ROOT, 'bin/ecosym.mjs');

/** Milliseconds from SIGINT to the summary and to the exit of one play, and its exit code. */
function sigintToExit(): Promise<{ ms: number; stoppedMs: number; code: number | null }> {
  return new Promise((done, fail) => {
    const p = spawn(process.execPath, [BIN, 'play', 'seattle-drift', '--sink', 'none', '--duration', '10m'], { cwd: PROJECT_ROOT });
    let out = '';
    let sentAt = 0;
    let stoppedMs = NaN;
    p.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      if (sentAt && Number.isNaN(stoppedMs) && out.includes('Stopped:')) stoppedMs = performance.now() - sentAt;
      if (!sentAt && /peak -?(\d+\.\d|inf) dBFS/.test(out)) {
        sentAt = performance.now();
        p.kill('SIGINT');
      }
    });
    p.on('exit', (code) => (sentAt ? done({ ms: performance.now() - sentAt, stoppedMs, code }) : fail(new Error(`play exited (${code}) before playing: ${out}`))));
  });
}

/** Milliseconds from spawning `ecosym play` to its first audible block. */
function startupToSound(env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((done, fail) => {
    const t0 = performance.now();
    const p = spawn(process.execPath, [BIN, 'play', 'carbon-pulse', '--sink', 'none', '--duration', '30s'], { cwd: PROJECT_ROOT, env: { ...env, ECOSYM_FIRST_SOUND: '1' } });
    let err = '';
    let ms = NaN;
    p.stderr.setEncoding('utf8').on('data', (d: string) => {
      err += d;
      if (Number.isNaN(ms) && err.includes('first sound')) {
        ms = performance.now() - t0;
        p.kill('SIGINT');
      }
    });
    p.stdout.resume();
    p.on('exit', (code) => (Number.isNaN(ms) ? fail(new Error(`play exited (${code}) before it sounded: ${err}`)) : done(ms)));
  });
}

export async function benchCli(quick: boolean, row: (name: string, value: number, unit: string) => void): Promise<void> {
  const runs: number[] = [];
  const stopped: number[] = [];
  for (let i = 0; i < (quick ? 2 : 7); i++) {
    const r = await sigintToExit();
    if (r.code !== 130) throw new Error(`play stopped by SIGINT exited ${r.code}, expected 130`);
    runs.push(r.ms);
    stopped.push(r.stoppedMs);
  }
  runs.sort((a, b) => a - b);
  stopped.sort((a, b) => a - b);
  row('cli-sigint-to-stopped-p50', stopped[Math.floor(stopped.length / 2)]!, 'ms');
  row('cli-sigint-to-exit-p50', runs[Math.floor(runs.length / 2)]!, 'ms');
  row('cli-sigint-to-exit-max', runs[runs.length - 1]!, 'ms');

  const startups: number[] = [];
  for (let i = 0; i < (quick ? 2 : 7); i++) startups.push(await startupToSound(process.env));
  startups.sort((a, b) => a - b);
  const via = process.env.ECOSYM_TSX ? 'tsx forced' : 'dist/ when fresh';
  row('startup-to-sound-p50', startups[Math.floor(startups.length / 2)]!, `ms, command to first block above -60 dBFS (${via}; goal <= 1500)`);
  row('startup-to-sound-max', startups[startups.length - 1]!, 'ms');
}
