import { describe, expect, it } from 'vitest';
import { startPlayer } from './realtime.ts';
import { parsePatchOrThrow } from '../core/patchLoader.ts';
import { liveSourceCount, retainedSourceCount } from '../audio/platform/index.ts';

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

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('real time with no sound card (sink none)', () => {
  it('keeps time for 8 s: every 16th arrives, ahead of the clock, and the output sounds', async () => {
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
    await sleep(8000);
    clearInterval(meter);
    clearInterval(busy);
    const raw = player.raw;
    await player.stop();
    // 16ths at 120 BPM: 8 a second, evenly spaced, none missing
    expect(times.length).toBeGreaterThanOrEqual(62);
    expect(times.length).toBeLessThanOrEqual(68);
    for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBeCloseTo(0.125, 9);
    // scheduled before they were due, never later than the look-ahead
    expect(Math.min(...leads)).toBeGreaterThan(0);
    expect(Math.max(...leads)).toBeLessThanOrEqual(0.1 + 0.13);
    expect(peak).toBeGreaterThan(0.01);
    expect(player.driver.stats.rearms).toBe(0);
    expect(liveSourceCount(raw)).toBe(0);
    expect(raw.state).toBe('closed');
  }, 20_000);

  it('plays notes without forcing a garbage collection: a synth voice makes no native node per note', async () => {
    // A forced collection is a full GC on the scheduler's thread (80 ms and more);
    // the engine asked for one every 2 s while notes played.
    const player = await startPlayer({ patch: PATCH, sink: 'none' });
    await sleep(4500);
    const { notes, collections } = player.engine.stats;
    const retained = retainedSourceCount(player.raw);
    await player.stop();
    expect(notes).toBeGreaterThan(16);
    expect(collections).toBe(0);
    // Nothing piles up for a collection to free: the voice pool keeps its oscillators running.
    expect(retained).toBeLessThan(8);
  }, 20_000);

  it('re-arms the scheduler when its timer stops firing', async () => {
    const times: number[] = [];
    const player = await startPlayer({ patch: PATCH, sink: 'none', onEvent: (e) => void (e.type === 'note' && times.push(e.time)) });
    await sleep(500);
    // what a silently dead timer looks like (Tone.Loop was seen to stop so, ARCHITECTURE.md)
    clearInterval((player.driver as unknown as { timer: ReturnType<typeof setInterval> }).timer);
    await sleep(1500);
    await player.stop();
    expect(player.driver.stats.rearms).toBeGreaterThanOrEqual(1);
    // the notes went on through the stall, 8 a second
    const late = times.filter((t) => t > times[0]! + 1.2);
    expect(late.length).toBeGreaterThan(4);
    for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBeCloseTo(0.125, 9);
  }, 10_000);
});
