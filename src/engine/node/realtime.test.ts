/**
 * Real-time playback on a context with no device (sink none). Such a context's
 * clock is rendered by its own thread at wall speed only when it gets the CPU:
 * on a loaded machine it was seen to advance 0.5 s in 8 s of wall time. So these
 * tests wait on the audio clock and check what it shows (every 16th there, in
 * order, evenly spaced, never scheduled past the look-ahead), not what a wall
 * clock would. How far ahead notes are scheduled under load is measured by
 * `npm run bench` (realtime-* rows); the driver's timer logic is tested on a
 * fake clock in src/engine/audio/RealtimeDriver.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { startPlayer } from './realtime.ts';
import { parsePatchOrThrow } from '../core/patchLoader.ts';
import { liveSourceCount } from '../audio/platform/index.ts';
import { until } from '../../../tests/support/wait.ts';

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

/** A 16th at 120 BPM, seconds. */
const STEP = 0.125;
/** The player's default look-ahead, seconds. */
const LOOK_AHEAD = 0.1;
/** Audio-clock deadline for the waits below: a failure detector for a clock that stopped, not a speed check. */
const AUDIO_WAIT_MS = 90_000;

describe('real time with no sound card (sink none)', () => {
  it('keeps time for 4 s of its clock: every 16th arrives, never past the look-ahead, and the output sounds', async () => {
    const times: number[] = [];
    const leads: number[] = [];
    let peak = 0;
    const player = await startPlayer({
      patch: PATCH,
      sink: 'none',
      onEvent: (e) => {
        if (e.type !== 'note') return;
        times.push(e.time);
        leads.push(e.time - player.raw.currentTime);
      },
    });
    const meter = setInterval(() => (peak = Math.max(peak, player.engine.master.levels().peak)), 20);
    // keep the event loop a little busy, as a real host would be
    const busy = setInterval(() => {
      const end = performance.now() + 10;
      while (performance.now() < end);
    }, 50);
    let first = NaN;
    try {
      await until(() => times.length > 0, 'the first note', AUDIO_WAIT_MS);
      first = times[0]!;
      await until(() => player.raw.currentTime >= first + 4, '4 s of the audio clock', AUDIO_WAIT_MS);
      await until(() => peak > 0.01, 'sound at the output', AUDIO_WAIT_MS);
    } finally {
      clearInterval(meter);
      clearInterval(busy);
    }
    const raw = player.raw;
    // Every 16th up to where the clock got arrives, late or not (how late is the bench's
    // realtime-lead-min row): on a loaded machine the scheduler's timer can trail the clock.
    const end = raw.currentTime;
    await until(() => times[times.length - 1]! >= end - STEP, 'the notes to catch up with the clock', AUDIO_WAIT_MS);
    const endAtStop = raw.currentTime;
    await player.stop();
    // 16ths at 120 BPM on the audio clock: evenly spaced (none missing), and none further
    // ahead of the clock than the look-ahead.
    for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBeCloseTo(STEP, 9);
    expect(times.length).toBeGreaterThanOrEqual(Math.floor((end - first) / STEP));
    expect(times.length).toBeLessThanOrEqual(Math.floor((endAtStop + LOOK_AHEAD - first) / STEP) + 1);
    expect(Math.max(...leads)).toBeLessThanOrEqual(LOOK_AHEAD + 0.13);
    expect(peak).toBeGreaterThan(0.01);
    expect(liveSourceCount(raw)).toBe(0);
    expect(raw.state).toBe('closed');
  }, 120_000);

  it('re-arms the scheduler when its timer stops firing, and the notes go on', async () => {
    const times: number[] = [];
    const player = await startPlayer({ patch: PATCH, sink: 'none', onEvent: (e) => void (e.type === 'note' && times.push(e.time)) });
    try {
      await until(() => times.length > 0, 'the first note', AUDIO_WAIT_MS);
      // what a silently dead timer looks like (Tone.Loop was seen to stop so, docs/ARCHITECTURE.md)
      clearInterval((player.driver as unknown as { timer: ReturnType<typeof setInterval> }).timer);
      const stalledAt = player.raw.currentTime;
      await until(() => player.driver.stats.rearms >= 1, 'the watchdog to re-arm the timer');
      // the notes went on through the stall, a whole second of them past it
      await until(() => times.some((t) => t > stalledAt + 1), 'notes a second past the stall', AUDIO_WAIT_MS);
    } finally {
      await player.stop();
    }
    for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBeCloseTo(STEP, 9);
  }, 120_000);
});
