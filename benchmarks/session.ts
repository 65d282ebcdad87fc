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
 */
import '../src/engine/node/platform/installGlobals.ts';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadPatchFile } from '../src/engine/node/files.ts';
import { Session } from '../src/engine/node/session/Session.ts';

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
  const session = await Session.open({ patch: loadPatchFile(file), sink: 'none', cacheDir: false, midi: false });
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
    const r = await session.handle({ type: 'bounce', patch: { id: 'carbon-pulse' }, duration: 600, path: join(dir, 'bounce.wav') });
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
