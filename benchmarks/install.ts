/**
 * Installation benchmarks (`npm run bench -- --install`).
 *
 * restart-to-sound: `ecosym run` (a show of carbon-pulse, --sink none) is
 * started; its session process is SIGKILLed 10 times (3 with --quick), each
 * time after it has played 35 s (past the restart policy's 30 s "healthy", so
 * every kill is a first fault), and /health is polled every 50 ms until a new
 * session sounds (rmsDb above −60). Rows: the median and max of kill → sound as
 * seen over HTTP, and the median of the supervisor's own figure
 * (lastRecoverySeconds). Goal ≤ 3 s.
 *
 * soak-rss-slope, soak-heap-slope (only with `--soak` or `--soak-minutes=N`;
 * 60 min by default, 3 with --quick): `ecosym run` of carbon-pulse for N
 * minutes of real time, its session process SIGKILLed every 10 min (every
 * minute with --quick); the session's RSS and heap in use are read from
 * /metrics every 10 s (5 s with --quick), leaving out the first 60 s (20 s)
 * after each start, while the new process loads. Rows: the least-squares
 * slope of each in MB per hour (goal: flat within noise) and the samples' spread.
 *
 * rt-cpu/<patch>: the CPU share of one core of `ecosym play <patch> --sink none`
 * over 10 s of real time after 5 s of warm-up (utime + stime from /proc, Linux
 * only). Goal ≤ 20 %.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { listBuiltinPatchFiles, patchId, PROJECT_ROOT } from '../src/engine/node/files.ts';

const BIN = resolve(PROJECT_ROOT, 'bin/ecosym.mjs');
const TOKEN = 'bench-token-0123456789';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

interface Health {
  pid: number | null;
  rmsDb: number | null;
  playing: boolean;
  lastRecoverySeconds: number | null;
  restarts: number;
}

async function stopProcess(p: ChildProcess): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return;
  const gone = new Promise((r) => p.once('exit', r));
  p.kill('SIGTERM');
  await Promise.race([gone, sleep(15_000)]);
  if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
}

/** `ecosym run` of a one-patch show (carbon-pulse) with no audio device, started and answering: its process and base URL. */
async function startRun(prefix: string): Promise<{ p: ChildProcess; base: string }> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  writeFileSync(join(dir, 'show.yaml'), 'playlist:\n  - { patch: carbon-pulse }\n');
  const p = spawn(process.execPath, [BIN, 'run', join(dir, 'show.yaml'), '--port', '0', '--token', TOKEN, '--sink', 'none', '--log-dir', join(dir, 'logs')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  p.stderr!.on('data', (b: Buffer) => (err += b.toString()));
  for (let i = 0; !/UI http:\/\/127\.0\.0\.1:\d+\//.test(err); i++) {
    if (i > 1200 || p.exitCode !== null) {
      if (p.exitCode === null) p.kill('SIGKILL');
      throw new Error(`ecosym run did not start: ${err}`);
    }
    await sleep(100);
  }
  return { p, base: `http://127.0.0.1:${/UI http:\/\/127\.0\.0\.1:(\d+)\//.exec(err)![1]}` };
}

async function restartToSound(kills: number, row: (name: string, value: number, unit: string) => void): Promise<void> {
  const { p, base } = await startRun('ecosym-bench-run-');
  try {
    const health = async (): Promise<Health | undefined> => {
      try {
        return (await (await fetch(`${base}/health`)).json()) as Health;
      } catch {
        return undefined;
      }
    };
    const sounds = (h: Health | undefined) => !!h && h.playing && h.rmsDb !== null && h.rmsDb > -60;
    const http: number[] = [];
    const own: number[] = [];
    for (let k = 0; k < kills; k++) {
      let h = await health();
      for (let i = 0; !sounds(h); i++) {
        if (i > 1200) throw new Error('the show never sounded');
        await sleep(100);
        h = await health();
      }
      await sleep(35_000);
      h = await health();
      const pid = h!.pid!;
      const restarts = h!.restarts;
      const t0 = performance.now();
      process.kill(pid, 'SIGKILL');
      for (;;) {
        await sleep(50);
        h = await health();
        if (h && h.pid !== pid && h.restarts > restarts && sounds(h)) break;
        if (performance.now() - t0 > 120_000) throw new Error('no sound 120 s after a kill');
      }
      http.push((performance.now() - t0) / 1000);
      for (let i = 0; i < 40 && (h?.lastRecoverySeconds ?? null) === null; i++) h = await health();
      if (h?.lastRecoverySeconds != null) own.push(h.lastRecoverySeconds);
      console.log(`  kill ${k + 1}: sound again after ${http.at(-1)!.toFixed(2)} s over HTTP, ${h?.lastRecoverySeconds ?? '?'} s by the supervisor`);
    }
    row('restart-to-sound', median(http), 's (median, goal ≤ 3)');
    row('restart-to-sound-max', Math.max(...http), 's');
    if (own.length) row('restart-to-sound-supervisor', median(own), 's (median)');
  } finally {
    await stopProcess(p);
  }
}

function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  // utime and stime are fields 14 and 15 of the line, 12 and 13 after "pid (comm) ".
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

async function rtCpu(quick: boolean, row: (name: string, value: number, unit: string) => void): Promise<void> {
  if (process.platform !== 'linux') return console.log('  rt-cpu: Linux only (/proc)');
  for (const file of listBuiltinPatchFiles()) {
    const id = patchId(file);
    const p = spawn(process.execPath, [BIN, 'play', id, '--sink', 'none', '--duration', '10m'], { stdio: 'ignore' });
    try {
      await sleep(quick ? 3000 : 5000);
      const c0 = cpuSeconds(p.pid!);
      const t0 = performance.now();
      await sleep(quick ? 4000 : 10_000);
      const share = (cpuSeconds(p.pid!) - c0) / ((performance.now() - t0) / 1000);
      row(`rt-cpu/${id}`, share * 100, '% of one core (goal ≤ 20)');
    } finally {
      await stopProcess(p);
    }
  }
}

/** Least-squares slope of ys over xs. */
export function slope(xs: number[], ys: number[]): number {
  const n = xs.length;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < n; i++) {
    sxy += (xs[i]! - mx) * (ys[i]! - my);
    sxx += (xs[i]! - mx) ** 2;
  }
  return sxx > 0 ? sxy / sxx : 0;
}

async function soak(minutes: number, quick: boolean, row: (name: string, value: number, unit: string) => void): Promise<void> {
  const killEvery = quick ? 60 : 600;
  const sampleEvery = quick ? 5 : 10;
  const settle = quick ? 20 : 60;
  const { p, base } = await startRun('ecosym-bench-soak-');
  try {
    const metric = (text: string, name: string) => {
      const m = new RegExp(`^${name} ([\\d.e+-]+)$`, 'm').exec(text);
      return m ? Number(m[1]) : undefined;
    };
    const t0 = performance.now();
    const hours: number[] = [];
    const rss: number[] = [];
    const heap: number[] = [];
    let startedAt = t0;
    let lastPid: number | undefined;
    let nextKill = t0 + killEvery * 1000;
    while (performance.now() - t0 < minutes * 60_000) {
      await sleep(sampleEvery * 1000);
      const h = (await (await fetch(`${base}/health`)).json()) as Health;
      if (h.pid !== lastPid) {
        lastPid = h.pid ?? undefined;
        startedAt = performance.now();
      }
      if (performance.now() >= nextKill && h.pid) {
        process.kill(h.pid, 'SIGKILL');
        nextKill += killEvery * 1000;
        continue;
      }
      if (!h.playing || performance.now() - startedAt < settle * 1000) continue;
      const text = await (await fetch(`${base}/metrics`, { headers: { Authorization: `Bearer ${TOKEN}` } })).text();
      const r = metric(text, 'ecosym_session_rss_bytes');
      const u = metric(text, 'ecosym_session_heap_used_bytes');
      if (r === undefined || u === undefined) continue;
      hours.push((performance.now() - t0) / 3_600_000);
      rss.push(r / 2 ** 20);
      heap.push(u / 2 ** 20);
    }
    if (hours.length < 3) throw new Error(`soak: only ${hours.length} samples in ${minutes} min`);
    const spread = (xs: number[]) => Math.max(...xs) - Math.min(...xs);
    console.log(`  soak: ${hours.length} samples over ${minutes} min, ${Math.floor((minutes * 60) / killEvery)} kills`);
    row('soak-rss-slope', slope(hours, rss), `MB/h over ${minutes} min, a kill every ${killEvery / 60} min (goal: flat within noise)`);
    row('soak-rss-spread', spread(rss), 'MB (max − min of the samples)');
    row('soak-heap-slope', slope(hours, heap), `MB/h over ${minutes} min (goal: flat within noise)`);
    row('soak-heap-spread', spread(heap), 'MB (max − min of the samples)');
  } finally {
    await stopProcess(p);
  }
}

export async function benchInstall(quick: boolean, row: (name: string, value: number, unit: string) => void, soakMinutes?: number, rtCpuOnly = false): Promise<void> {
  console.log('\ninstallation (ecosym run):');
  if (soakMinutes !== undefined) return soak(soakMinutes, quick, row);
  if (!rtCpuOnly) await restartToSound(quick ? 3 : 10, row);
  await rtCpu(quick, row);
}
