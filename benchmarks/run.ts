/**
 * `npm run bench`: engine speed and stability, as ratios against baselines run
 * in the same process. Writes bench/results.json (rows { name, value, unit })
 * and prints a table. `--quick` shortens every render by 10x for a smoke run;
 * `--patch=ID` runs one patch, `--rows=speed,tone,swap` some per-patch groups.
 *
 * Rows per built-in patch:
 * - offline-speed/<patch>: seconds of audio per wall second, 60 s render (x RT)
 * - vs-tone-offline/<patch>: speed of a 5-min windowed render ÷ speed of the
 *   same notes through plain Tone.Offline, everything scheduled up front (ratio, goal ≥ 3);
 *   tone-offline-audible/<patch> checks that the baseline really plays (the run
 *   stops if it is silent for more than a tenth of the engine's audible seconds)
 * - vs-tone-chromium/<patch>: the same windowed speed ÷ the same plain Tone.Offline
 *   program run in headless Chromium (benchmarks/toneChromium.ts), where Tone is at
 *   home; tone-chromium-speed/<patch> its speed, tone-chromium-audible/<patch> the
 *   same silence check (`--rows=chromium` runs only these)
 * - flatness/<patch>: wall cost per audio second of a 10-min render ÷ that of a
 *   1-min render (ratio, goal ≤ 1.1)
 * - swap-growth/<patch>: render cost per audio second after 300 patch swaps in one
 *   context ÷ that of a context without them, the two rendering 1 s blocks in
 *   turn (ratio, goal ≤ 1.1), median of four runs (which context swaps alternates); swap-growth-spaced/<patch>
 *   the same with the swaps 0.3 s apart (no burst); swap-growth-control/<patch>
 *   pairs two contexts without the swaps (what the pairing alone gives)
 * Live data (benchmarks/sources.ts; `--sources` runs only these): updates per
 * second through conditioning and mapping while audio plays, and socket-to-
 * parameter latency p50/p99. OSC (benchmarks/osc.ts): message in → parameter
 * scheduled p50/p99, and control packets handled per second with audio running.
 * Core (benchmarks/core.ts, with the live-data rows): rolling percentiles per push.
 * Real-time scheduling (benchmarks/realtime.ts, with the live-data rows): how far
 * ahead of the audio clock notes are scheduled, late notes, the clock's rate
 * against the wall, watchdog re-arms.
 * MIDI (benchmarks/midi.ts; `--midi` runs only these): note in → voice start
 * scheduled p50/p99, and clock-out tick jitter (std dev, max).
 * Output at scale (benchmarks/scale.ts; `--scale` runs only these): render-rss/5,20,60 peak RSS
 * of long renders in child processes, render-8ch-speed.
 * CLI (benchmarks/cli.ts; `--cli` runs only these): ms from Ctrl-C to the exit of `ecosym play`.
 * Server (benchmarks/server.ts; `--server` runs only these): WebSocket command to
 * parameter ramp p50/p99, and telemetry-cost: CPU with 3 clients at 30 fps ÷ none (goal ≤ 1.10).
 * Files (benchmarks/files.ts; `--files` runs only these): patch parsing time and
 * its growth with size, CSV streaming speed and heap per row.
 * Installation (benchmarks/install.ts; `--install` runs only these): restart-to-sound of
 * `ecosym run` after a SIGKILL of its session (median and max of 10), rt-cpu/<patch>;
 * `--soak` (60 min, 3 with --quick) or `--soak-minutes=N` runs only the soak, its session
 * SIGKILLed every `--soak-kill-every=M` minutes (default 10, 1 with --quick; 0 = no kills, one
 * life; `--soak-settle=S` seconds of each life left out of the fit, default 120): soak-rss-slope
 * and soak-heap-slope, MB/h of the session within each life (one slope for
 * all lives, pooled), soak-supervisor-rss-slope and -heap-slope over the whole run, each with
 * ± 2·SE, the residual SD and a verdict (flat within noise or GROWING), and the spreads.
 * Supervised session (benchmarks/host.ts; `--host` runs only these): restart-to-sound,
 * SIGKILL of the session child to its output above −60 dBFS again (median of 10).
 * UI (benchmarks/ui.ts; `--ui` runs only these): canvas work per frame on Live in
 * headless Chromium (p50, p95), main-thread time per frame, and the audio host's CPU
 * with Live open ÷ closed (ui-telemetry-cpu).
 * Session (benchmarks/session.ts; `--session` runs only these): how far ahead notes
 * are scheduled in a playing session while it bounces in a child process; the
 * session's RSS and heap over 300 patch loads (session-load-rss/heap-slope, MB per 100 loads).
 * `--fuzz[=N]` runs only the schema fuzz (benchmarks/fuzz.ts): N random patches
 * (default 200) of 60 s, and how many failed; the run exits 1 if any did.
 */
import '../src/engine/node/platform/installGlobals.ts';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { defaultFeeds } from '../src/engine/node/sources/collect.ts';
import type { NoteEvent } from '../src/engine/core/sequencer.ts';
import { listBuiltinPatchFiles, loadPatchFile, loadPatchSamples, patchId, type PatchFile } from '../src/engine/node/files.ts';
import { renderOffline, type RenderAction } from '../src/engine/node/render.ts';
import { audibleSeconds, renderPlainTone } from './plainTone.ts';
import { ToneInChromium } from './toneChromium.ts';
import { medianOfSorted } from '../src/engine/core/filters.ts';
import { benchServer } from './server.ts';
import { benchSources } from './sources.ts';
import { benchHost } from './host.ts';
import { benchOsc } from './osc.ts';
import { benchMidi } from './midi.ts';
import { benchCli } from './cli.ts';
import { benchScale } from './scale.ts';
import { benchFiles } from './files.ts';
import { benchFuzz } from './fuzz.ts';
import { benchRealtime } from './realtime.ts';
import { benchCore } from './core.ts';
import { benchUi } from './ui.ts';
import { benchInstall } from './install.ts';
import { benchLoads, benchSession } from './session.ts';

interface Row {
  name: string;
  value: number;
  unit: string;
}

const quick = process.argv.includes('--quick');
const sourcesOnly = process.argv.includes('--sources');
const midiOnly = process.argv.includes('--midi');
const cliOnly = process.argv.includes('--cli');
const scaleOnly = process.argv.includes('--scale');
const filesOnly = process.argv.includes('--files');
// --rt-cpu: only the rt-cpu rows of --install (what each built-in patch costs while it plays), with the lean instruments' rows.
const rtCpuOnly = process.argv.includes('--rt-cpu');
const installOnly = process.argv.includes('--install') || rtCpuOnly;
// The installation soak (1 h; 3 min with --quick) runs only when asked: --soak or --soak-minutes=N.
// --soak-minutes=N wins over --soak wherever it stands (`--soak --soak-minutes=120` ran 60 minutes).
const soakArg = process.argv.find((a) => a.startsWith('--soak-minutes=')) ?? process.argv.find((a) => a === '--soak');
const soakMinutes = soakArg === undefined ? undefined : soakArg === '--soak' ? (quick ? 3 : 60) : Number(soakArg.slice(15));
if (soakMinutes !== undefined && !(soakMinutes > 0)) throw new Error(`${soakArg}: expected a number of minutes > 0`);
// --soak-kill-every=M: SIGKILL the soak's session every M minutes (10, 1 with --quick); 0 = never.
const killArg = process.argv.find((a) => a.startsWith('--soak-kill-every='));
const soakKillEvery = killArg === undefined ? (quick ? 1 : 10) : Number(killArg.slice(18) || NaN);
if (!(soakKillEvery >= 0)) throw new Error(`${killArg}: expected a number of minutes ≥ 0`);
// --soak-settle=S: seconds of each life (and of the supervisor's start) left out of the fit (120, 30 with --quick).
const settleArg = process.argv.find((a) => a.startsWith('--soak-settle='));
const soakSettle = settleArg === undefined ? undefined : Number(settleArg.slice(14) || NaN);
if (soakSettle !== undefined && !(soakSettle >= 0)) throw new Error(`${settleArg}: expected a number of seconds ≥ 0`);
const soakRun = soakMinutes === undefined ? undefined : { minutes: soakMinutes, killEveryMinutes: soakKillEvery, settleSeconds: soakSettle };
const hostOnly = process.argv.includes('--host');
const uiOnly = process.argv.includes('--ui');
const serverOnly = process.argv.includes('--server');
const sessionOnly = process.argv.includes('--session');
const fuzzArg = process.argv.find((a) => a === '--fuzz' || a.startsWith('--fuzz='));
const fuzzRuns = fuzzArg === undefined ? 0 : fuzzArg === '--fuzz' ? 200 : Number(fuzzArg.slice(7));
if (fuzzArg !== undefined && !(Number.isInteger(fuzzRuns) && fuzzRuns > 0)) throw new Error(`${fuzzArg}: expected --fuzz or --fuzz=N with N a whole number above 0`);
const fuzzSeed = Number(process.argv.find((a) => a.startsWith('--fuzz-seed='))?.slice(12) ?? 1);
const only = process.argv.find((a) => a.startsWith('--patch='))?.slice(8);
const scale = quick ? 0.1 : 1;
/** `--rows=speed,tone,chromium,swap` runs only those per-patch groups (default: all). */
const rowGroups = process.argv.find((a) => a.startsWith('--rows='))?.slice(7).split(',');
const wanted = (group: 'speed' | 'tone' | 'chromium' | 'swap') => !rowGroups || rowGroups.includes(group);
const rows: Row[] = [];

function row(name: string, value: number, unit: string): void {
  rows.push({ name, value: Number(value.toPrecision(4)), unit });
  console.log(`${name.padEnd(36)} ${String(Number(value.toPrecision(4))).padStart(10)} ${unit}`);
}

async function render(pf: PatchFile, samples: Map<string, AudioBuffer>, duration: number, extra: { actions?: RenderAction[]; onEvent?: (e: NoteEvent) => void } = {}) {
  const r = await renderOffline({
    patch: pf.patch,
    duration,
    samples,
    data: await defaultFeeds(pf.patch, pf.dir, duration),
    actions: extra.actions,
    onEvent: (e) => {
      if (e.type === 'note' && extra.onEvent) extra.onEvent(e);
    },
  });
  if (r.errors.length) throw new Error(`${patchId(pf.file)}: ${r.errors.length} errors during render: ${String(r.errors[0])}`);
  return r;
}

const median = (xs: readonly number[]) => medianOfSorted([...xs].sort((a, b) => a - b));

/**
 * Two renders that take turns block by block, one at a time, in the order
 * 0 1, 1 0, 0 1, …: whichever renders second in a pair runs on a warmer (or
 * cooler) machine, and alternating who goes first cancels that.
 */
function turnTaking() {
  let turn = 0;
  const holderAt = (k: number) => (Math.floor(k / 2) % 2 === 0 ? k % 2 : 1 - (k % 2));
  const waiting = new Map<number, () => void>();
  return {
    async take(who: number): Promise<void> {
      if (holderAt(turn) !== who) await new Promise<void>((resolve) => waiting.set(who, resolve));
    },
    /** `who` has rendered its block: the turn passes on. */
    done(): void {
      turn++;
      const next = holderAt(turn);
      const wake = waiting.get(next);
      waiting.delete(next);
      wake?.();
    },
  };
}

/**
 * Swap growth as a pair, so the machine's drift cancels: on this machine the
 * cost of 1 s blocks drifts ±20 % between stretches of one render, more than
 * the 1.1 goal. Two contexts play the patch; both load it afresh at the same
 * moment, and one of them has swapped it `swaps - 1` times before that
 * (`spacing` apart, each swap built when the render reaches it). Then the two render
 * 1 s blocks in turn, one at a time, each pair a second apart (see {@link turnTaking}). Returns the
 * median over the pairs of (block cost in the swapped context ÷ in the other).
 * `swapped` says which of the two contexts swaps: with identical contexts the
 * second made (1) mostly rendered faster (3 % in the median of 12 runs), so runs alternate.
 */
async function swapGrowth(pf: PatchFile, samples: Map<string, AudioBuffer>, swaps: number, spacing: number, swapped: 0 | 1): Promise<number> {
  const segment = 30 * scale;
  const lastSwap = segment + (swaps - 1) * spacing;
  const from = Math.ceil(lastSwap + 3);
  const blocks = Math.max(6, Math.round(30 * scale));
  const turns = turnTaking();
  const costs: number[][] = [[], []];
  const one = async (who: number) => {
    let started = 0;
    let block = -1;
    const load = (time: number): RenderAction => ({ time, run: (e) => e.load(pf.patch, { time, crossfade: 0.01 }), exact: true });
    const r = await renderOffline({
      patch: pf.patch,
      duration: from + blocks + 0.5,
      samples,
      actions: who === swapped ? Array.from({ length: swaps }, (_, i) => load(segment + i * spacing)) : [load(lastSwap)],
      pace: async (t) => {
        // Blocks start at the first window edge on or after each whole second (edges are render quanta).
        const j = Math.floor(t - from + 1e-9);
        if (j < 0 || j === block) return;
        block = j;
        if (j > 0) {
          costs[who]!.push(performance.now() - started);
          turns.done();
        }
        if (j >= blocks) return;
        await turns.take(who);
        started = performance.now();
      },
    });
    if (r.errors.length) throw new Error(`${patchId(pf.file)}: ${r.errors.length} errors during the swap render: ${String(r.errors[0])}`);
  };
  await Promise.all([one(0), one(1)]);
  const pairs = costs[swapped]!.map((c, i) => c / costs[1 - swapped]![i]!);
  return median(pairs);
}

const fuzzFailed = fuzzRuns ? await benchFuzz(fuzzRuns, fuzzSeed, row) : 0;
// --rows names per-patch groups only: it runs none of the live-data, MIDI, CLI or file rows.
const nonPatchOnly = soakMinutes !== undefined || sourcesOnly || midiOnly || cliOnly || filesOnly || installOnly || hostOnly || uiOnly || serverOnly || scaleOnly || sessionOnly || fuzzRuns > 0;
const groupOnly = nonPatchOnly || rowGroups !== undefined;
if (!only && (!groupOnly || sourcesOnly)) {
  benchCore(quick, row);
  await benchRealtime(quick, row);
  await benchSources(quick, row);
  await benchOsc(quick, row);
}
if (!only && (!groupOnly || midiOnly)) await benchMidi(quick, row);
if (!only && (!groupOnly || cliOnly)) await benchCli(quick, row);
if (!only && (!groupOnly || filesOnly)) await benchFiles(row);
if (!only && (!groupOnly || installOnly || soakMinutes !== undefined)) await benchInstall(quick, row, soakRun, rtCpuOnly);
if (!only && (!groupOnly || installOnly)) await (await import('./leanMetal.ts')).benchLeanMetal(quick, row);
if (!only && (!groupOnly || hostOnly)) await benchHost(quick, row);
if (!only && (!groupOnly || uiOnly)) await benchUi(quick, row);
if (!only && (!groupOnly || serverOnly)) await benchServer(quick, row);
if (!only && (!groupOnly || scaleOnly)) await benchScale(quick, row);
if (!only && (!groupOnly || sessionOnly)) {
  await benchSession(quick, row);
  await benchLoads(quick, row);
}

/** Started once, on the first patch that wants the Chromium rows. */
let chromiumBaseline: ToneInChromium | undefined;

for (const file of nonPatchOnly ? [] : listBuiltinPatchFiles()) {
  const id = patchId(file);
  if (only && id !== only) continue;
  const pf = loadPatchFile(file);
  const samples = await loadPatchSamples(pf);

  if (wanted('speed')) {
    const oneMinute = await render(pf, samples, 60 * scale);
    row(`offline-speed/${id}`, oneMinute.speed, 'x RT');
    const tenMinutes = await render(pf, samples, 600 * scale);
    row(`flatness/${id}`, tenMinutes.wallSeconds / (600 * scale) / (oneMinute.wallSeconds / (60 * scale)), 'ratio');
  }

  if (wanted('tone') || wanted('chromium')) {
    // One engine render gives the notes and the speed both baselines are held against.
    const five = 300 * scale;
    const events: NoteEvent[] = [];
    const windowed = await render(pf, samples, five, { onEvent: (e) => events.push(e) });
    const engineAudible = Math.max(1, audibleSeconds(windowed.channels[0]!, windowed.sampleRate));
    // A baseline must play the music, or its ratio means nothing (one once
    // rendered near silence and looked fast): compare the seconds each one sounds.
    const mustSound = (what: string, audible: number) => {
      if (audible < 0.9) throw new Error(`${id}: the ${what} baseline is silent for too much of its render (${audible.toFixed(2)} of the engine's audible seconds)`);
    };
    if (wanted('tone')) {
      const plain = await renderPlainTone(pf.patch, events, five, samples);
      row(`tone-offline-speed/${id}`, five / plain.wallSeconds, 'x RT');
      row(`tone-offline-dropped/${id}`, plain.dropped / Math.max(1, events.length), 'fraction of notes');
      const audible = audibleSeconds(plain.buffer.getChannelData(0), plain.buffer.sampleRate) / engineAudible;
      row(`tone-offline-audible/${id}`, audible, 'ratio of audible seconds');
      mustSound('Tone.Offline', audible);
      row(`vs-tone-offline/${id}`, windowed.speed / (five / plain.wallSeconds), 'ratio');
    }
    if (wanted('chromium')) {
      if (!chromiumBaseline) {
        chromiumBaseline = await ToneInChromium.launch();
        console.log(`  chromium baseline: ${chromiumBaseline.version}`);
      }
      const browser = await chromiumBaseline.render(pf.patch, events, five, samples);
      if (Math.abs(browser.renderedSeconds - five) > 0.01) throw new Error(`${id}: the Chromium render is ${browser.renderedSeconds} s long, not ${five} s`);
      row(`tone-chromium-speed/${id}`, five / browser.wallSeconds, 'x RT');
      row(`tone-chromium-dropped/${id}`, browser.dropped / Math.max(1, events.length), 'fraction of notes');
      const audible = browser.audibleSeconds / engineAudible;
      row(`tone-chromium-audible/${id}`, audible, 'ratio of audible seconds');
      mustSound('Chromium Tone.Offline', audible);
      row(`vs-tone-chromium/${id}`, windowed.speed / (five / browser.wallSeconds), 'ratio');
    }
  }

  // Four runs each of 300 swaps 20 ms apart, 300 swaps 0.3 s apart, and a
  // control where both contexts load the patch once at the same moment (what
  // the pairing alone gives: ≈ 1). Which context swaps alternates by run.
  if (wanted('swap')) {
    const withSwaps: number[] = [];
    const spaced: number[] = [];
    const control: number[] = [];
    for (let run = 0; run < 4; run++) {
      const swapped = run % 2 === 0 ? 1 : 0;
      withSwaps.push(await swapGrowth(pf, samples, 300, 0.02, swapped));
      // 0.3 s apart each graph is freed before the next swap: what swaps cost
      // without a burst's peak of graphs alive at once.
      spaced.push(await swapGrowth(pf, samples, 300, 0.3, swapped));
      control.push(await swapGrowth(pf, samples, 1, 0.02, swapped));
    }
    const list = (xs: number[]) => xs.map((x) => x.toFixed(3)).join(' ');
    console.log(`  swap runs ${list(withSwaps)}; spaced ${list(spaced)}; control ${list(control)}`);
    row(`swap-growth/${id}`, median(withSwaps), 'ratio');
    row(`swap-growth-spaced/${id}`, median(spaced), 'ratio');
    row(`swap-growth-control/${id}`, median(control), 'ratio');
  }
}

await chromiumBaseline?.close();

// A partial run (--patch, --sources) updates its rows and keeps the others.
mkdirSync('bench', { recursive: true });
const previous: Row[] = existsSync('bench/results.json') ? (JSON.parse(readFileSync('bench/results.json', 'utf8')) as Row[]) : [];
const merged = [...previous.filter((p) => !rows.some((r) => r.name === p.name)), ...rows];
writeFileSync('bench/results.json', JSON.stringify(merged, null, 2) + '\n');
console.log(`\nwrote bench/results.json (${rows.length} rows)${quick ? ' — quick run: durations ÷ 10' : ''}`);
if (fuzzFailed) process.exitCode = 1;
