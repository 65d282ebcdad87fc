/**
 * Real-time scheduling with no device (sink none), moved here from
 * src/engine/node/realtime.test.ts, where wall-clock timing failed on a busy
 * machine. A 16th-note patch plays for 8 s of wall time (0.8 s with --quick)
 * while the event loop is kept a little busy (10 ms of work every 50 ms):
 * - realtime-lead-min: the least time a note was scheduled ahead of the audio
 *   clock, ms (goal > 0: no note scheduled after it was due);
 * - realtime-late-notes: notes scheduled for a time the clock had passed;
 * - realtime-clock-rate: audio-clock seconds per wall second (1 when the
 *   render thread keeps up; a loaded machine was seen at 0.06);
 * - realtime-rearms / realtime-late-ticks: watchdog re-arms, and driver ticks
 *   that came more than four periods late.
 */
import '../src/engine/node/platform/installGlobals.ts';
import { startPlayer } from '../src/engine/node/realtime.ts';
import { parsePatchOrThrow } from '../src/engine/core/patchLoader.ts';

const PATCH = parsePatchOrThrow(
  `name: clock
tempo: 120
key: C major
streams: { s: { default: 0 } }
voices:
  tick: { synth: synth, oscillator: sine, poly: 2, notes: { mode: root, octave: 5 }, rhythm: { pattern: "x" }, envelope: { attack: 0.005, decay: 0.05, sustain: 0, release: 0.05 } }
`,
  'clock.yaml',
);

export async function benchRealtime(quick: boolean, row: (name: string, value: number, unit: string) => void): Promise<void> {
  const leads: number[] = [];
  const player = await startPlayer({
    patch: PATCH,
    sink: 'none',
    onEvent: (e) => void (e.type === 'note' && leads.push(e.time - player.raw.currentTime)),
  });
  const busy = setInterval(() => {
    const end = performance.now() + 10;
    while (performance.now() < end);
  }, 50);
  const wall0 = performance.now();
  const audio0 = player.raw.currentTime;
  try {
    await new Promise((r) => setTimeout(r, quick ? 800 : 8000));
  } finally {
    clearInterval(busy);
  }
  const clockRate = (player.raw.currentTime - audio0) / ((performance.now() - wall0) / 1000);
  const { lateNotes, notes } = player.engine.stats;
  const { rearms, lateTicks, ticks } = player.driver.stats;
  await player.stop();
  row('realtime-lead-min', leads.length ? Math.min(...leads) * 1000 : NaN, `ms ahead of the audio clock (${leads.length} notes; goal > 0)`);
  row('realtime-late-notes', lateNotes, `late notes of ${notes}`);
  row('realtime-clock-rate', clockRate, 'audio s per wall s (1 = the render thread keeps up)');
  row('realtime-rearms', rearms, 'watchdog re-arms (goal 0)');
  row('realtime-late-ticks', lateTicks, `driver ticks over 4 periods late, of ${ticks}`);
}
