import { describe, expect, it } from 'vitest';
import { ClockFollower, ClockOut, phaseLockedTempo, PPQN, type ClockEvent } from './clock.ts';
import { MidiParser, type MidiMessage } from './parser.ts';

const tick = { type: 'clock' } as const;
const period = (bpm: number) => 60 / (PPQN * bpm);

/** Seeded jitter like an event loop's: 0–2 ms late, and 2 % of ticks 12 ms late. */
function jitter(seed: number): () => number {
  let s = seed;
  const r = () => (s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32;
  return () => r() * 0.002 + (r() < 0.02 ? 0.012 : 0);
}

describe('ClockFollower: tempo', () => {
  it('reads a steady clock exactly', () => {
    const f = new ClockFollower();
    for (let i = 0; i < 48; i++) f.message(tick, 10 + i * period(120));
    expect(f.bpm).toBeCloseTo(120, 9);
  });

  it('gives no tempo before half a beat of ticks', () => {
    const f = new ClockFollower();
    const events: ClockEvent[] = [];
    for (let i = 0; i < 11; i++) events.push(...f.message(tick, i * period(100)));
    expect(f.bpm).toBeUndefined();
    expect(events).toStrictEqual([]);
    expect(f.message(tick, 11 * period(100))).toStrictEqual([{ type: 'tempo', bpm: expect.closeTo(100, 9), time: 11 * period(100) }]);
  });

  it('follows 120 then 128 BPM through receive jitter within 1 BPM, smoothly and without overshoot', () => {
    const f = new ClockFollower();
    const late = jitter(11);
    const trace: Array<{ t: number; bpm: number }> = [];
    let t = 0;
    for (let i = 0; i < PPQN * 16; i++) {
      const bpm = i < PPQN * 8 ? 120 : 128; // 8 beats each
      f.message(tick, t + late());
      if (f.bpm !== undefined) trace.push({ t, bpm: f.bpm });
      t += period(bpm);
    }
    const change = 4; // seconds: 8 beats at 120
    const settled120 = trace.filter((p) => p.t > 1.5 && p.t < change);
    const settled128 = trace.filter((p) => p.t > change + 1.5);
    expect(settled120.length).toBeGreaterThan(50);
    expect(settled128.length).toBeGreaterThan(50);
    for (const p of settled120) expect(Math.abs(p.bpm - 120)).toBeLessThan(1);
    for (const p of settled128) expect(Math.abs(p.bpm - 128)).toBeLessThan(1);
    // smooth: after the first beat no tick moves the tempo by more than 1 BPM (an
    // eighth of the change), and it never leaves the band it moves in
    const after = trace.filter((p) => p.t > 0.5);
    for (let i = 1; i < after.length; i++) expect(Math.abs(after[i]!.bpm - after[i - 1]!.bpm)).toBeLessThan(1);
    for (const p of after) {
      expect(p.bpm).toBeGreaterThan(119);
      expect(p.bpm).toBeLessThan(129);
    }
    // it moves to the new tempo within a second and a half
    const reached = trace.find((p) => p.t > change && Math.abs(p.bpm - 128) < 1)!;
    expect(reached.t - change).toBeLessThan(1.5);
  });

  it('hardly moves for one very late tick', () => {
    const f = new ClockFollower();
    for (let i = 0; i < 48; i++) f.message(tick, i * period(120));
    f.message(tick, 48 * period(120) + 0.015);
    expect(Math.abs(f.bpm! - 120)).toBeLessThan(0.05);
  });

  it('ignores a tick earlier than the last one', () => {
    const f = new ClockFollower();
    for (let i = 0; i < 20; i++) f.message(tick, i * period(120));
    const before = f.bpm;
    expect(f.message(tick, 0.01)).toStrictEqual([]);
    expect(f.stats.backwards).toBe(1);
    expect(f.bpm).toBe(before);
  });

  it('reports a clock gone quiet once, keeps the tempo, and starts afresh when ticks return', () => {
    const f = new ClockFollower();
    let t = 0;
    for (let i = 0; i < 48; i++) f.message(tick, (t = i * period(120)));
    expect(f.check(t + 0.2)).toStrictEqual([]);
    expect(f.check(t + 0.5)).toStrictEqual([{ type: 'lost', time: t + 0.5 }]);
    expect(f.check(t + 0.6)).toStrictEqual([]);
    expect(f.bpm).toBeCloseTo(120, 6);
    // back 3 s later at 90 BPM: the gap is not taken for a slow tick
    const t0 = t + 3;
    for (let i = 0; i < 48; i++) f.message(tick, t0 + i * period(90));
    expect(f.stats.resets).toBe(1);
    expect(Math.abs(f.bpm! - 90)).toBeLessThan(0.5);
    expect(f.stats.lost).toBe(1);
  });
});

describe('ClockFollower: transport', () => {
  const run = (f: ClockFollower, msgs: Array<[MidiMessage, number]>) => msgs.flatMap(([m, t]) => f.message(m, t)).filter((e) => e.type !== 'tempo');

  it('clock without start: tempo only, no transport, ticks counted', () => {
    const f = new ClockFollower();
    const events = run(
      f,
      Array.from({ length: 60 }, (_, i) => [tick, i * period(120)] as [MidiMessage, number]),
    );
    expect(events).toStrictEqual([]);
    expect(f.running).toBe(false);
    expect(f.stats.ticksWithoutStart).toBe(60);
    expect(f.bpm).toBeCloseTo(120, 6);
  });

  it('Start plays from the first tick after it; beats every 24 ticks; Stop stops', () => {
    const f = new ClockFollower();
    const p = period(120);
    const msgs: Array<[MidiMessage, number]> = [[tick, 0], [tick, p], [{ type: 'start' }, 1.5 * p]];
    for (let i = 2; i < 2 + 50; i++) msgs.push([tick, i * p]);
    msgs.push([{ type: 'stop' }, 52 * p]);
    msgs.push([tick, 53 * p]);
    const events = run(f, msgs);
    expect(events).toStrictEqual([
      { type: 'start', time: 2 * p, step: 0 },
      { type: 'beat', beat: 0, time: 2 * p },
      { type: 'beat', beat: 1, time: 26 * p },
      { type: 'beat', beat: 2, time: 50 * p },
      { type: 'stop', time: 52 * p },
    ]);
    expect(f.running).toBe(false);
  });

  it('Continue plays on from where it stopped, or from a song position', () => {
    const f = new ClockFollower();
    const msgs: Array<[MidiMessage, number]> = [[{ type: 'start' }, 0]];
    for (let i = 0; i < 30; i++) msgs.push([tick, i]);
    msgs.push([{ type: 'stop' }, 30], [tick, 31], [{ type: 'continue' }, 32], [tick, 33]);
    const events = run(f, msgs);
    // stopped after tick 29, so it goes on at tick 30: 16th 5 (30 / 6)
    expect(events.slice(-2)).toStrictEqual([
      { type: 'stop', time: 30 },
      { type: 'continue', time: 33, step: 5 },
    ]);
    expect(f.position).toBe(30);
    // a song position while stopped: 16th 32 = tick 192 = beat 8
    const more = run(f, [
      [{ type: 'stop' }, 40],
      [{ type: 'songPosition', beats: 32 }, 41],
      [{ type: 'continue' }, 42],
      [tick, 43],
    ]);
    expect(more).toStrictEqual([
      { type: 'stop', time: 40 },
      { type: 'continue', time: 43, step: 32 },
      { type: 'beat', beat: 8, time: 43 },
    ]);
  });

  it('ignores (and counts) a song position while running', () => {
    const f = new ClockFollower();
    run(f, [[{ type: 'start' }, 0], [tick, 1], [{ type: 'songPosition', beats: 100 }, 2], [tick, 3]]);
    expect(f.position).toBe(1);
    expect(f.stats.positionWhileRunning).toBe(1);
  });

  it('reads a byte stream with real-time bytes inside a SysEx and running status around them', () => {
    const f = new ClockFollower();
    const parser = new MidiParser();
    const events: ClockEvent[] = [];
    let t = 0;
    parser.push([0xfa, 0xf0, 0x7d, 0xf8, 0x01, 0xf7, 0x90, 60, 0xf8, 100], (m) => events.push(...f.message(m, (t += 0.01))));
    expect(events.filter((e) => e.type !== 'tempo').map((e) => e.type)).toStrictEqual(['start', 'beat']);
    expect(f.running).toBe(true);
    expect(f.position).toBe(1);
  });
});

describe('phaseLockedTempo', () => {
  it('speeds up a late engine and slows an early one, within the cap', () => {
    expect(phaseLockedTempo(120, 0)).toBe(120);
    expect(phaseLockedTempo(120, 0.002)).toBeCloseTo(120 * (1 + 0.002 / 2 / 0.5), 9);
    expect(phaseLockedTempo(120, -0.002)).toBeCloseTo(120 * (1 - 0.002 / 2 / 0.5), 9);
    expect(phaseLockedTempo(120, 1)).toBeCloseTo(120 * 1.005, 9);
    expect(phaseLockedTempo(120, -1)).toBeCloseTo(120 * 0.995, 9);
    expect(phaseLockedTempo(120, NaN)).toBe(120);
  });

  it('closes a phase gap when used as a loop', () => {
    // the engine starts 20 ms late on a 120 BPM clock; one correction per beat
    let engineBeat = 0.02;
    let clockBeat = 0;
    for (let i = 0; i < 40; i++) {
      const bpm = phaseLockedTempo(120, engineBeat - clockBeat);
      engineBeat += 60 / bpm;
      clockBeat += 0.5;
    }
    expect(Math.abs(engineBeat - clockBeat)).toBeLessThan(0.001);
  });
});

describe('ClockOut', () => {
  const ticksOf = (ms: Array<{ time: number; bytes: number[] }>) => ms.filter((m) => m.bytes[0] === 0xf8).map((m) => m.time);

  it('starts at the top: song position 0 and Start just before 24 evenly spaced ticks', () => {
    const c = new ClockOut();
    c.beat(0, 1, 120);
    const out = c.take(1.6);
    expect(out.slice(0, 2)).toStrictEqual([
      { time: 1 - ClockOut.LEAD, bytes: [0xf2, 0, 0] },
      { time: 1 - ClockOut.LEAD, bytes: [0xfa] },
    ]);
    const ticks = ticksOf(out);
    expect(ticks).toHaveLength(24);
    ticks.forEach((t, j) => expect(t).toBeCloseTo(1 + j * period(120), 12));
    expect(c.next).toBeUndefined();
  });

  it('keeps 24 ticks a beat and no transport messages while beats follow each other', () => {
    const c = new ClockOut();
    for (let b = 0; b < 4; b++) c.beat(b, b * 0.5, 120);
    const out = c.take(10);
    expect(out.filter((m) => m.bytes[0] !== 0xf8)).toHaveLength(2); // SPP + Start, once
    const ticks = ticksOf(out);
    expect(ticks).toHaveLength(96);
    ticks.forEach((t, k) => expect(t).toBeCloseTo(k * period(120), 12));
  });

  it('re-spaces the unsent ticks of a beat whose tempo changed inside it', () => {
    const c = new ClockOut();
    c.beat(0, 0, 120);
    const sent = c.take(0.1); // ticks 0…4 are gone
    // the tempo rose mid-beat: beat 1 comes at 0.45 s, not 0.5
    c.beat(1, 0.45, 130);
    const rest = c.take(0.45 - 1e-9);
    const beat0 = [...ticksOf(sent), ...ticksOf(rest)];
    expect(beat0).toHaveLength(24);
    for (let j = 5; j < 24; j++) expect(beat0[j]).toBeCloseTo((j * 0.45) / 24, 12);
    for (let j = 1; j < 24; j++) expect(beat0[j]!).toBeGreaterThan(beat0[j - 1]!);
    const beat1 = ticksOf(c.take(1));
    expect(beat1).toHaveLength(24);
    expect(beat1[0]).toBeCloseTo(0.45, 12);
    expect(beat1[1]! - beat1[0]!).toBeCloseTo(period(130), 12);
  });

  it('a jump (patch swap) sends Stop, song position and Start, and drops ticks planned past it', () => {
    const c = new ClockOut();
    c.beat(4, 0, 120); // first beat mid-song: position + Continue
    expect(c.take(0).map((m) => m.bytes)).toStrictEqual([[0xf2, 16, 0], [0xfb], [0xf8]]);
    c.beat(0, 0.25, 100);
    const out = c.take(10);
    const before = out.filter((m) => m.time < 0.25 - ClockOut.LEAD);
    expect(ticksOf(before)).toHaveLength(11); // ticks 1…11 of beat 4 (0.0208 s apart) before 0.25
    const jump = out.filter((m) => m.time === 0.25 - ClockOut.LEAD).map((m) => m.bytes);
    expect(jump).toStrictEqual([[0xfc], [0xf2, 0, 0], [0xfa]]);
    expect(ticksOf(out.filter((m) => m.time >= 0.25))).toHaveLength(24);
    expect(c.stats.jumps).toBe(1);
  });

  it('stop drops later ticks and sends Stop; the next beat sends its position and Continue', () => {
    const c = new ClockOut();
    c.beat(0, 0, 120);
    c.beat(1, 0.5, 120);
    c.stop(0.6);
    const out = c.take(10);
    expect(ticksOf(out).every((t) => t < 0.6)).toBe(true);
    expect(out.at(-1)).toStrictEqual({ time: 0.6, bytes: [0xfc] });
    c.beat(9, 5, 120);
    expect(c.take(5).map((m) => m.bytes)).toStrictEqual([[0xf2, 36, 0], [0xfb], [0xf8]]);
    expect(c.running).toBe(true);
  });
});
