/**
 * The session while it bounces (`--session` runs only these): a 16th-note
 * patch plays in a session with no device (sink none) for 6 s (0.6 s with
 * --quick) alone, then as long again while the session bounces ten minutes of
 * carbon-pulse in its child process (cancelled after). Notes are timed
 * against the audio clock as the engine schedules them.
 * - session-alone-lead-min / -late-notes: the same, before the bounce (the baseline);
 * - session-bounce-lead-min: the least time a note was scheduled ahead of the
 *   audio clock during the bounce, ms (goal > 0: no note late);
 * - session-bounce-lead-ratio: that lead during the bounce ÷ the lead alone
 *   (1 = the bounce costs the playing session nothing; goal ≥ 0.5);
 * - session-bounce-late-notes: notes scheduled after they were due during the bounce (goal 0);
 * - session-bounce-progress: how far the bounce got in that time (0…1), for scale.
 * Patch loads (what a playlist does every entry, a silence re-arm, a hot reload):
 * a session loads seattle-drift (samples) and carbon-pulse in turn, 300 times
 * (40 with --quick), RSS and heap after a forced collection every 25 loads,
 * the first 50 (10) left out as settling:
 * - session-load-rss-slope / -heap-slope: MB per 100 loads, with the bench's
 *   flat-within-noise verdict; the unit says what a month of half-hour entries
 *   (1,440 loads) would add at that slope.
 */
import '../src/engine/node/platform/installGlobals.ts';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadPatchFile, PATCHES_DIR } from '../src/engine/node/files.ts';
import { garbageCollector } from '../src/engine/node/platform/gc.ts';
import { Session } from '../src/engine/node/session/Session.ts';
import { pooledSlope, type Group } from './stats.ts';

const PATCH = `name: clock
tempo: 120
key: C major
streams: { s: { default: 0 } }
voices:
  tick: { synth: synth, oscillator: sine, poly: 2, notes: { mode: root, octave: 5 }, rhythm: { pattern: "x" }, envelope: { attack: 0.005, decay: 0.05, sustain: 0, release: 0.05 } }
`;

export async function benchSession(quick: boolean, row: (name: string, value: number, unit: string) => void): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'ecosym-bench-session-'));
  const file = join(dir, 'clock.yaml');
  writeFileSync(file, PATCH);
  const session = await Session.open({ patch: loadPatchFile(file), sink: 'none', cacheDir: false, midi: false, patchesDir: dir });
  let leads: number[] = [];
  const off = session.engine.addListener((e) => void (e.type === 'note' && leads.push(e.time - session.player.raw.currentTime)));
  let progress = 0;
  session.onEvent((e) => void (e.type === 'bounce' && (progress = e.progress)));
  const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));
  try {
    await session.start();
    const span = quick ? 600 : 6000;
    // The first notes of a start are measured by the realtime rows, not here.
    await wait(1000);
    leads = [];
    const late0 = session.engine.stats.lateNotes;
    await wait(span);
    const alone = Math.min(...leads);
    const lateAlone = session.engine.stats.lateNotes - late0;
    leads = [];
    const late1 = session.engine.stats.lateNotes;
    const r = await session.handle({ type: 'bounce', patch: { id: 'carbon-pulse' }, duration: 600, path: 'bounce.wav' });
    if (!r.ok) throw new Error(`bounce: ${r.error}`);
    await wait(span);
    const during = Math.min(...leads);
    const late = session.engine.stats.lateNotes - late1;
    await session.handle({ type: 'bounce', action: 'cancel' });
    row('session-alone-lead-min', alone * 1000, 'ms ahead of the audio clock, no bounce (the baseline)');
    row('session-alone-late-notes', lateAlone, 'late notes, no bounce');
    row('session-bounce-lead-min', during * 1000, `ms ahead of the audio clock while bouncing (${leads.length} notes; goal > 0)`);
    row('session-bounce-lead-ratio', during / alone, 'least lead while bouncing ÷ alone (goal ≥ 0.5)');
    row('session-bounce-late-notes', late, 'late notes while bouncing (goal 0)');
    row('session-bounce-progress', progress, 'of 10 min of carbon-pulse bounced meanwhile');
  } finally {
    off();
    await session.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Loads per month of a playlist whose entries last half an hour. */
const LOADS_PER_MONTH = 2 * 24 * 30;

export async function benchLoads(quick: boolean, row: (name: string, value: number, unit: string) => void): Promise<void> {
  const loads = quick ? 40 : 300;
  const settle = quick ? 10 : 50;
  const every = quick ? 5 : 25;
  const gc = garbageCollector();
  if (!gc) throw new Error('session-load: V8 refused to expose gc');
  const session = await Session.open({ patch: loadPatchFile(join(PATCHES_DIR, 'seattle-drift.yaml')), sink: 'none', cacheDir: false, midi: false });
  const rss: Group = { xs: [], ys: [] };
  const heap: Group = { xs: [], ys: [] };
  const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));
  try {
    await session.start();
    for (let i = 1; i <= loads; i++) {
      const r = await session.handle({ type: 'load', patch: { id: i % 2 ? 'carbon-pulse' : 'seattle-drift' }, crossfade: 0.05 });
      if (!r.ok) throw new Error(`load ${i}: ${r.error}`);
      // Long enough for the crossfade and the old graph's release.
      await wait(100);
      if (i % every || i < settle) continue;
      gc();
      await wait(300);
      gc();
      const m = process.memoryUsage();
      rss.xs.push(i / 100);
      rss.ys.push(m.rss / 2 ** 20);
      heap.xs.push(i / 100);
      heap.ys.push(m.heapUsed / 2 ** 20);
    }
  } finally {
    await session.stop();
  }
  for (const [name, g] of [['session-load-rss-slope', rss], ['session-load-heap-slope', heap]] as const) {
    const fit = pooledSlope([g]);
    const p = (v: number) => Number(v.toPrecision(3));
    row(name, fit.slope, `MB per 100 loads ± ${p(2 * fit.se)} (2·SE), residual SD ${p(fit.residualSd)} MB, ${fit.n} samples over loads ${settle}–${loads}: ${fit.verdict}; at this slope a month of half-hour entries adds ${p((fit.slope * LOADS_PER_MONTH) / 100)} MB`);
  }
}
