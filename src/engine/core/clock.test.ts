/**
 * The clock service on a fake audio clock and fake timers: every figure here
 * is virtual time, so none depends on how busy the machine is.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Clock, type ClockHost } from './clock.ts';

/** 128-frame render quanta at 48 kHz: currentTime moves in these steps, like a real context. */
const QUANTUM = 128 / 48_000;

/**
 * An audio clock `offset` seconds ahead of the fake wall clock, running at
 * `rate` times wall speed, read in whole quanta (so it lags up to one).
 */
function fakeAudio(offset: number, rate = 1, outputLatency = 0) {
  const audio = {
    offset,
    rate,
    outputLatency,
    get currentTime() {
      const exact = audio.offset + (Date.now() / 1000) * audio.rate;
      return Math.floor(exact / QUANTUM) * QUANTUM;
    },
  };
  return audio;
}

const host: ClockHost = {
  wallMs: () => Date.now(),
  epochOriginMs: 1_700_000_000_000,
  setTimer: (fn, ms) => setTimeout(fn, ms),
  clearTimer: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
  vi.setSystemTime(0);
});
afterEach(() => {
  vi.useRealTimers();
});

describe('Clock: conversions', () => {
  it('maps audio time to the wall instant it comes, and back, within a render quantum', () => {
    const clock = new Clock(host, fakeAudio(5));
    vi.advanceTimersByTime(100);
    for (let i = 0; i < 20; i++) {
      vi.advanceTimersByTime(1);
      clock.now(); // readings at different phases of the quantum find the offset
    }
    expect(clock.toWall(6)).toBeGreaterThan(1000 - 0.01);
    expect(clock.toWall(6)).toBeLessThan(1000 + QUANTUM * 1000);
    expect(clock.toAudio(2500)).toBeGreaterThan(7.5 - QUANTUM);
    expect(clock.toAudio(2500)).toBeLessThan(7.5 + 1e-6);
    expect(clock.toAudio(clock.toWall(6.25))).toBeCloseTo(6.25, 9);
  });

  it('adds the output latency going to the wall (the instant it is heard) and takes it off coming back', () => {
    const plain = new Clock(host, fakeAudio(5));
    const late = new Clock(host, fakeAudio(5, 1, 0.03));
    vi.advanceTimersByTime(50);
    expect(late.latency).toBe(0.03);
    expect(late.toWall(6) - plain.toWall(6)).toBeCloseTo(30, 6);
    expect(plain.toAudio(900) - late.toAudio(900)).toBeCloseTo(0.03, 9);
  });

  it('epoch seconds: the timetag of an audio time, and back', () => {
    const clock = new Clock(host, fakeAudio(5));
    vi.advanceTimersByTime(10);
    const epoch = clock.toEpoch(7);
    expect(epoch * 1000 - host.epochOriginMs).toBeCloseTo(clock.toWall(7), 3);
    expect(clock.fromEpoch(epoch)).toBeCloseTo(7, 6);
  });

  it('with no audio behind it, audio time is wall time in seconds', () => {
    const clock = new Clock(host);
    vi.advanceTimersByTime(1234);
    expect(clock.now()).toBe(1.234);
    expect(clock.toWall(2)).toBe(2000);
    expect(clock.toAudio(500)).toBe(0.5);
    expect(clock.latency).toBe(0);
  });
});

describe('Clock: at', () => {
  it('runs callbacks in audio-time order, each at the wall instant its audio time comes', () => {
    const clock = new Clock(host, fakeAudio(10));
    const ran: Array<[string, number, number]> = [];
    const log = (name: string) => (now: number) => ran.push([name, Date.now(), now]);
    clock.at(10.2, log('c'));
    clock.at(10.05, log('a'));
    clock.at(10.1, log('b1'));
    clock.at(10.1, log('b2')); // same time: first scheduled, first run
    vi.advanceTimersByTime(300);
    expect(ran.map((r) => r[0])).toStrictEqual(['a', 'b1', 'b2', 'c']);
    const want = [50, 100, 100, 200];
    ran.forEach(([, wall, now], i) => {
      // on time to within the clock's slack and one quantum of the audio clock's lag
      expect(wall).toBeGreaterThanOrEqual(want[i]! - 0.5);
      expect(wall).toBeLessThanOrEqual(want[i]! + QUANTUM * 1000 + 1);
      expect(now).toBeGreaterThan(10 + want[i]! / 1000 - 2 * QUANTUM); // the audio time it passes is the clock's reading then
    });
  });

  it('keeps one timer for any number of callbacks, and none once all have run or been cancelled', () => {
    const clock = new Clock(host, fakeAudio(0));
    const handles = Array.from({ length: 500 }, (_, i) => clock.at(0.01 + i * 0.001, () => undefined));
    expect(vi.getTimerCount()).toBe(1);
    expect(clock.pending).toBe(500);
    vi.advanceTimersByTime(100);
    expect(clock.stats.fired).toBe(91);
    for (const h of handles) h.dispose();
    expect(clock.pending).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(1000);
    expect(clock.stats.fired).toBe(91);
  });

  it('a cancelled callback never runs; a time already past runs on the next turn, not inside at()', () => {
    const clock = new Clock(host, fakeAudio(0));
    vi.advanceTimersByTime(500);
    const ran: string[] = [];
    clock.at(0.6, () => ran.push('cancelled')).dispose();
    clock.at(0.1, () => ran.push('past'));
    expect(ran).toStrictEqual([]);
    vi.advanceTimersByTime(0);
    expect(ran).toStrictEqual(['past']);
    vi.advanceTimersByTime(1000);
    expect(ran).toStrictEqual(['past']);
  });

  it('follows an audio clock that runs slow: a callback waits for its audio time, not for the wall time first guessed', () => {
    const audio = fakeAudio(3, 0.997); // a context with no device ran 0.998–1.002 of wall speed, measured
    const clock = new Clock(host, audio);
    let ranAt = 0;
    let audioThen = 0;
    clock.at(5, (now) => {
      ranAt = Date.now();
      audioThen = now;
    });
    vi.advanceTimersByTime(3000);
    // 2 s of audio at 0.997 take 2006 ms of wall time
    expect(ranAt).toBeGreaterThanOrEqual(2006 - 1);
    expect(ranAt).toBeLessThanOrEqual(2006 + QUANTUM * 1000 + 1);
    expect(audioThen).toBeGreaterThan(5 - 2 * QUANTUM);
  });

  it('a callback that throws is counted and reported; the others run on', () => {
    const errors: unknown[] = [];
    const clock = new Clock(host, fakeAudio(0), { onError: (e) => errors.push(e) });
    const ran: number[] = [];
    clock.at(0.01, () => ran.push(1));
    clock.at(0.02, () => {
      throw new Error('boom');
    });
    clock.at(0.03, () => ran.push(3));
    vi.advanceTimersByTime(50);
    expect(ran).toStrictEqual([1, 3]);
    expect(clock.stats).toMatchObject({ fired: 3, errors: 1, lastError: 'boom' });
    expect(errors).toHaveLength(1);
  });

  it('callbacks may schedule and cancel others while the clock runs them', () => {
    const clock = new Clock(host, fakeAudio(0));
    const ran: string[] = [];
    const victim = clock.at(0.02, () => ran.push('victim'));
    clock.at(0.01, () => {
      ran.push('first');
      victim.dispose();
      clock.at(0.015, () => ran.push('added'));
    });
    vi.advanceTimersByTime(100);
    expect(ran).toStrictEqual(['first', 'added']);
  });
});

describe('Clock: every', () => {
  it('runs on a grid of its period, from one period after it was asked', () => {
    const clock = new Clock(host, fakeAudio(0));
    const at: number[] = [];
    clock.every(0.025, () => at.push(Date.now()));
    vi.advanceTimersByTime(130);
    expect(at).toStrictEqual([25, 50, 75, 100, 125]);
  });

  it('after a stall, skips the periods it missed instead of running them all at once', () => {
    const clock = new Clock(host, fakeAudio(0));
    const at: number[] = [];
    clock.every(0.01, () => {
      at.push(Date.now());
      if (at.length === 2) vi.setSystemTime(Date.now() + 95); // the process stalls 95 ms inside a callback
    });
    vi.advanceTimersByTime(150);
    // 10, 20 (stalls to 115), then the grid again from 120: not 30, 40 … 110 in a burst
    expect(at.slice(0, 4)).toStrictEqual([10, 20, 120, 130]);
    expect(at.every((t, i) => i === 0 || t - at[i - 1]! >= 10)).toBe(true);
  });

  it('interleaves with at() in time order; dispose stops it; the clock disposed leaves no timer', () => {
    const clock = new Clock(host, fakeAudio(0));
    const ran: string[] = [];
    const tick = clock.every(0.02, () => ran.push(`every@${Date.now()}`));
    clock.at(0.03, () => ran.push('at@30'));
    vi.advanceTimersByTime(45);
    expect(ran).toStrictEqual(['every@20', 'at@30', 'every@40']);
    tick.dispose();
    vi.advanceTimersByTime(100);
    expect(ran).toHaveLength(3);
    clock.every(0.01, () => ran.push('again'));
    clock.at(5, () => ran.push('later'));
    expect(vi.getTimerCount()).toBe(1);
    clock.dispose();
    expect(vi.getTimerCount()).toBe(0);
    expect(clock.at(0, () => ran.push('after dispose')).dispose).toBeTypeOf('function');
    vi.advanceTimersByTime(10_000);
    expect(ran).toHaveLength(3);
  });

  it('refuses a period that is not above zero', () => {
    const clock = new Clock(host);
    expect(() => clock.every(0, () => undefined)).toThrow('Clock.every: the period must be above 0 seconds, got 0');
    expect(() => clock.every(NaN, () => undefined)).toThrow('got NaN');
  });
});
