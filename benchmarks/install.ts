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
 * soak (only with `--soak` or `--soak-minutes=N`; 60 min by default, 3 with
 * --quick): `ecosym run` of carbon-pulse for N minutes of real time, its
 * session process SIGKILLed every `--soak-kill-every=M` minutes (10 by default,
 * 1 with --quick; 0: never). /health and /metrics are read every 10 s (5 s with
 * --quick). Each session life (one pid) is a group of its own, leaving out its
 * first 120 s (30 s with --quick; SOAK_SETTLE_S; `--soak-settle=S` sets it) and its
 * last sample before a kill.
 * Rows (benchmarks/stats.ts): soak-rss-slope and soak-heap-slope, the session's
 * slope within lives (one slope for all, a level of each life's own) in MB per
 * hour, with 2·SE, the residual SD and a verdict, "flat within noise" when
 * |slope| ≤ 2·SE or |slope| × 1 h ≤ the residual SD, else "GROWING" (goal:
 * flat within noise); soak-run-rss-slope and soak-run-heap-slope, one line
 * through all the session's samples over the run, restarts and all (what a
 * site sees: each life starting afresh, a leak within lives shows only in the
 * rows before); soak-supervisor-rss-slope and soak-supervisor-heap-slope,
 * the same for the supervisor process over the whole run (after its first
 * 120 s), where a leak across restarts would build up; and each series' spread
 * (max − min).
 *
 * rt-cpu/<patch>: the CPU share of one core of `ecosym play <patch> --sink none`
 * over 30 s of real time after 20 s of play (utime + stime from /proc, Linux
 * only). Goal ≤ 20 %. rt-cpu-js/<patch>: the part on the JavaScript thread
 * (the scheduler, sources, probes); the rest is node-web-audio-api's render
 * thread running the audio graph.
 *
 * With them, lean-nodes, tone-nodes and lean-cpu (benchmarks/leanSynths.ts):
 * the lean FM synth's native nodes and render CPU against Tone.FMSynth's.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { listBuiltinPatchFiles, patchId, PROJECT_ROOT } from '../src/engine/node/files.ts';
import { pooledSlope, type Group } from './stats.ts';
import { benchLeanSynths } from './leanSynths.ts';

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

/** CPU seconds (utime + stime) of a process's threads from /proc: the main (JavaScript) thread and all the others (node-web-audio-api's render thread, libuv's pool, V8's helpers). */
function cpuSeconds(pid: number): { main: number; others: number } {
  const ticks = (stat: string) => {
    const fields = stat.split(') ')[1]!.split(' ');
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after "pid (comm) ".
    return (Number(fields[11]) + Number(fields[12])) / 100;
  };
  let main = 0;
  let others = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    let t = 0;
    try {
      t = ticks(readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8'));
    } catch {
      continue; // a thread that ended meanwhile
    }
    if (Number(tid) === pid) main += t;
    else others += t;
  }
  return { main, others };
}

/**
 * rt-cpu: each built-in patch played by `ecosym play --sink none` for 20 s
 * (the pools grown, the sources live), then measured over 30 s (5 and 5 with
 * --quick). Threads that end within the window are not counted (none do in
 * steady play).
 */
async function rtCpu(quick: boolean, row: (name: string, value: number, unit: string) => void): Promise<void> {
  if (process.platform !== 'linux') return console.log('  rt-cpu: Linux only (/proc)');
  for (const file of listBuiltinPatchFiles()) {
    const id = patchId(file);
    const p = spawn(process.execPath, [BIN, 'play', id, '--sink', 'none', '--duration', '10m'], { stdio: 'ignore' });
    try {
      await sleep(quick ? 5000 : 20_000);
      const c0 = cpuSeconds(p.pid!);
      const t0 = performance.now();
      await sleep(quick ? 5000 : 30_000);
      const c1 = cpuSeconds(p.pid!);
      const wall = (performance.now() - t0) / 1000;
      const main = (c1.main - c0.main) / wall;
      const others = (c1.others - c0.others) / wall;
      row(`rt-cpu/${id}`, (main + others) * 100, '% of one core (goal ≤ 20)');
      row(`rt-cpu-js/${id}`, main * 100, '% of one core on the JavaScript thread (the rest: the render thread)');
    } finally {
      await stopProcess(p);
    }
  }
}

/**
 * Seconds of each session life left out of the soak's fit (and of the start of
 * the run, for the supervisor): a new process loads its patch and samples,
 * compiles, and grows its heap to a working size over its first minute or two.
 * That rise happens once per process whatever it does later; fitted, it would
 * make every restart look like a leak. 30 s with --quick, where lives are short.
 * Measured on carbon-pulse (one life of 2 h, sampled each minute): RSS rises
 * from about 118 to 145 MB over the first 10–15 minutes, then holds (after
 * 15 min: −0.1 ± 0.5 MB/h); a kill every 10 minutes fits only that rise, so a
 * leak is judged on one long life: `--soak-kill-every=0 --soak-settle=900`.
 */
const SOAK_SETTLE_S = 120;
const SOAK_SETTLE_QUICK_S = 30;

/** One session process's samples in the soak (MB over hours since the soak began). */
interface Life {
  pid: number;
  startedAt: number;
  rss: Group;
  heap: Group;
}

/** Samples MB (after dividing bytes by 2^20) into `g` at hour `x`. */
const push = (g: Group, x: number, bytes: number) => {
  g.xs.push(x);
  g.ys.push(bytes / 2 ** 20);
};

/**
 * `ecosym run` of carbon-pulse for `minutes` of real time, the session SIGKILLed
 * every `killEveryMinutes` (0: never, one life). Every tick it reads /health and
 * /metrics: the session's RSS and heap (from its heartbeat) go to the current
 * life (a life = one session pid), minus its first settle seconds and its last
 * sample before a kill (a kill ends every life at the same distance from its
 * last sample); the supervisor's own RSS and heap (prom-client's default
 * metrics) go to one series over the whole run, minus its first settle seconds.
 * The supervisor lives the whole run and handles every kill: a leak across
 * restarts would build up there, not in a session, which starts afresh.
 */
async function soak(minutes: number, killEveryMinutes: number, quick: boolean, row: (name: string, value: number, unit: string) => void, settleSeconds?: number): Promise<void> {
  const killEvery = killEveryMinutes * 60;
  const sampleEvery = quick ? 5 : 10;
  const settle = settleSeconds ?? (quick ? SOAK_SETTLE_QUICK_S : SOAK_SETTLE_S);
  if (killEvery > 0 && killEvery < settle + 3 * sampleEvery) throw new Error(`soak: a kill every ${killEveryMinutes} min leaves no samples after the ${settle} s settle`);
  const { p, base } = await startRun('ecosym-bench-soak-');
  try {
    const metric = (text: string, name: string) => {
      const m = new RegExp(`^${name} ([\\d.e+-]+)$`, 'm').exec(text);
      return m ? Number(m[1]) : undefined;
    };
    const t0 = performance.now();
    const hour = () => (performance.now() - t0) / 3_600_000;
    const lives: Life[] = [];
    const supervisor = { rss: { xs: [], ys: [] } as Group, heap: { xs: [], ys: [] } as Group };
    // A killed pid can still be in /health until the supervisor has seen the exit: never a new life, never sampled.
    const killed = new Set<number>();
    let nextKill = killEvery > 0 ? t0 + killEvery * 1000 : Infinity;
    while (performance.now() - t0 < minutes * 60_000) {
      await sleep(sampleEvery * 1000);
      const h = (await (await fetch(`${base}/health`)).json()) as Health;
      const text = await (await fetch(`${base}/metrics`, { headers: { Authorization: `Bearer ${TOKEN}` } })).text();
      const x = hour();
      const sr = metric(text, 'ecosym_supervisor_process_resident_memory_bytes');
      const su = metric(text, 'ecosym_supervisor_nodejs_heap_size_used_bytes');
      if (sr === undefined || su === undefined) throw new Error('soak: /metrics has no ecosym_supervisor_process_resident_memory_bytes or ecosym_supervisor_nodejs_heap_size_used_bytes');
      if (x * 3600 >= settle) {
        push(supervisor.rss, x, sr);
        push(supervisor.heap, x, su);
      }
      if (h.pid && killed.has(h.pid)) continue;
      let life = lives.at(-1);
      if (h.pid && h.pid !== life?.pid) {
        life = { pid: h.pid, startedAt: performance.now(), rss: { xs: [], ys: [] }, heap: { xs: [], ys: [] } };
        lives.push(life);
      }
      if (performance.now() >= nextKill && h.pid) {
        life!.rss.xs.pop();
        life!.rss.ys.pop();
        life!.heap.xs.pop();
        life!.heap.ys.pop();
        process.kill(h.pid, 'SIGKILL');
        killed.add(h.pid);
        nextKill += killEvery * 1000;
        continue;
      }
      if (!life || h.pid !== life.pid || !h.playing || performance.now() - life.startedAt < settle * 1000) continue;
      const r = metric(text, 'ecosym_session_rss_bytes');
      const u = metric(text, 'ecosym_session_heap_used_bytes');
      if (r === undefined || u === undefined) continue;
      push(life.rss, x, r);
      push(life.heap, x, u);
    }
    const samples = lives.reduce((a, l) => a + l.rss.xs.length, 0);
    console.log(`  soak: ${samples} session samples in ${lives.length} life(s) (${lives.map((l) => l.rss.xs.length).join(' ')}), ${supervisor.rss.xs.length} supervisor samples, over ${minutes} min, ${killed.size} kills`);
    const every = killEvery > 0 ? `a kill every ${killEveryMinutes} min` : 'no kills';
    const spread = (ys: number[]) => Math.max(...ys) - Math.min(...ys);
    const report = (name: string, groups: Group[], what: string) => {
      const fit = pooledSlope(groups);
      const g = (v: number) => Number(v.toPrecision(3));
      row(`${name}-slope`, fit.slope, `MB/h ± ${g(2 * fit.se)} (2·SE), residual SD ${g(fit.residualSd)} MB, ${what}, ${fit.n} samples over ${minutes} min, ${every}: ${fit.verdict} (goal: flat within noise)`);
      console.log(`  ${name}: ${fit.verdict} (${g(fit.slope)} ± ${g(2 * fit.se)} MB/h; ${g(Math.abs(fit.slope))} MB over 1 h against a residual SD of ${g(fit.residualSd)} MB)`);
      row(`${name}-spread`, spread(groups.flatMap((l) => l.ys)), 'MB (max − min of the samples)');
    };
    const within = `within ${lives.filter((l) => l.rss.xs.length > 1).length} session life(s)`;
    report('soak-rss', lives.map((l) => l.rss), within);
    report('soak-heap', lives.map((l) => l.heap), within);
    // One line through every life's samples: what a site sees over the run, restarts and all.
    const merged = (gs: Group[]): Group => ({ xs: gs.flatMap((g) => g.xs), ys: gs.flatMap((g) => g.ys) });
    report('soak-run-rss', [merged(lives.map((l) => l.rss))], 'the session over the whole run, across lives');
    report('soak-run-heap', [merged(lives.map((l) => l.heap))], 'the session over the whole run, across lives');
    report('soak-supervisor-rss', [supervisor.rss], 'the supervisor over the run');
    report('soak-supervisor-heap', [supervisor.heap], 'the supervisor over the run');
  } finally {
    await stopProcess(p);
  }
}

/** `soakRun` given: only the soak, `minutes` long with a kill every `killEveryMinutes` (0: none). */
export async function benchInstall(quick: boolean, row: (name: string, value: number, unit: string) => void, soakRun?: { minutes: number; killEveryMinutes: number; settleSeconds?: number }, rtCpuOnly = false): Promise<void> {
  console.log('\ninstallation (ecosym run):');
  if (soakRun !== undefined) return soak(soakRun.minutes, soakRun.killEveryMinutes, quick, row, soakRun.settleSeconds);
  if (!rtCpuOnly) await restartToSound(quick ? 3 : 10, row);
  await benchLeanSynths(quick, row);
  await rtCpu(quick, row);
}
