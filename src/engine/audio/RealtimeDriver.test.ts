/**
 * The real-time driver's timer and watchdog, on vitest's fake clock: which
 * ticks happen, when the watchdog re-arms and when it must not, exactly, with
 * no dependence on how busy the machine is. (src/engine/node/realtime.test.ts
 * plays through it on a real context.)
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { RealtimeDriver } from './RealtimeDriver.ts';
import type { Engine } from './Engine.ts';
import { Clock } from '../core/clock.ts';

beforeEach(() => {
  // The driver reads performance.now for its watchdog and runs on setInterval.
  vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'setTimeout', 'clearTimeout', 'performance'] });
});
afterEach(() => {
  vi.useRealTimers();
});

/** The part of an engine the driver uses: a context clock, and advance() recorded. */
function fakeEngine() {
  const clock = { currentTime: 0 };
  const advanced: number[] = [];
  const engine = { context: clock, advance: (until: number) => void advanced.push(until) } as unknown as Engine;
  // The clock service on the (faked) performance.now and timers, reading the fake context's time.
  const service = new Clock(
    { wallMs: () => performance.now(), epochOriginMs: 0, setTimer: (fn, ms) => setTimeout(fn, ms), clearTimer: (h) => clearTimeout(h as never) },
    { get currentTime() { return clock.currentTime; } },
  );
  return { engine, clock, advanced, service };
}

describe('RealtimeDriver', () => {
  it('ticks every interval, scheduling one look-ahead past the context clock', () => {
    const { engine, clock, advanced, service } = fakeEngine();
    const ticks: Array<[number, number]> = [];
    const d = new RealtimeDriver(engine, { clock: service, lookAhead: 0.1, intervalMs: 20, onTick: (now, until) => ticks.push([now, until]) });
    d.start();
    expect(advanced).toEqual([0.1]); // a first tick at once
    for (let i = 1; i <= 5; i++) {
      clock.currentTime = i * 0.02;
      vi.advanceTimersByTime(20);
    }
    expect(advanced).toHaveLength(6);
    expect(advanced.map((u, i) => u - i * 0.02)).toEqual(Array.from({ length: 6 }, () => expect.closeTo(0.1, 12)));
    expect(ticks.map(([now, until]) => until - now)).toEqual(Array.from({ length: 6 }, () => expect.closeTo(0.1, 12)));
    expect(d.stats).toMatchObject({ ticks: 6, rearms: 0, lateTicks: 0 });
    d.stop();
  });

  it('does not re-arm a timer that keeps ticking, however long it plays', () => {
    const { engine, service } = fakeEngine();
    const d = new RealtimeDriver(engine, { clock: service, intervalMs: 20 });
    d.start();
    vi.advanceTimersByTime(60_000);
    expect(d.stats.rearms).toBe(0);
    expect(d.stats.ticks).toBe(1 + 60_000 / 20);
    d.stop();
  });

  it('re-arms within ten periods when its timer stops firing, and ticks on', () => {
    const { engine, service } = fakeEngine();
    const d = new RealtimeDriver(engine, { clock: service, intervalMs: 20 });
    d.start();
    vi.advanceTimersByTime(100);
    const before = d.stats.ticks;
    clearInterval((d as unknown as { timer: ReturnType<typeof setInterval> }).timer); // a silently dead timer
    vi.advanceTimersByTime(20 * 10);
    expect(d.stats.rearms).toBe(0); // not yet: the watchdog waits for ten periods without a tick
    expect(d.stats.ticks).toBe(before);
    vi.advanceTimersByTime(20 * 5); // its next look, five periods on
    expect(d.stats.rearms).toBe(1);
    const after = d.stats.ticks;
    expect(after).toBe(before + 1); // the watchdog ticks at once
    vi.advanceTimersByTime(200);
    expect(d.stats.ticks).toBe(after + 10); // and the new timer runs
    expect(d.stats.rearms).toBe(1);
    d.stop();
  });

  it('stop() leaves no timer behind', () => {
    const { engine, service } = fakeEngine();
    const d = new RealtimeDriver(engine, { clock: service });
    d.start();
    expect(vi.getTimerCount()).toBe(2); // the tick timer and the watchdog
    d.stop();
    expect(vi.getTimerCount()).toBe(0);
  });
});
