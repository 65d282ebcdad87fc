import { describe, expect, it } from 'vitest';
import { HeartbeatWatch, RestartPolicy } from './restartPolicy.ts';

describe('RestartPolicy', () => {
  it('backs off from 0.5 s doubling to a 30 s cap, and never gives up', () => {
    const p = new RestartPolicy({ crashLoop: { count: 1000, within: 1 } });
    let t = 0;
    const delays: number[] = [];
    for (let i = 0; i < 12; i++) {
      p.started(t);
      t += 1; // dies a second after each start
      const d = p.failed(t, 'a', 'crash');
      delays.push(d.delay);
      expect(d.attempt).toBe(i + 1);
      t += d.delay;
    }
    expect(delays).toEqual([0.5, 1, 2, 4, 8, 16, 30, 30, 30, 30, 30, 30]);
    expect(p.total).toBe(12);
    expect(p.counts.crash).toBe(12);
  });

  it('starts the series over after a process ran healthy long enough', () => {
    const p = new RestartPolicy({ healthyAfter: 30 });
    p.started(0);
    expect(p.failed(1, 'a', 'exit').delay).toBe(0.5);
    p.started(1.5);
    expect(p.failed(3, 'a', 'exit').delay).toBe(1);
    p.started(4);
    // Up 29.9 s: not healthy yet, the series goes on.
    expect(p.failed(33.9, 'b', 'exit').delay).toBe(2);
    p.started(36);
    // Up 30 s: the next failure is the first of a new series.
    const d = p.failed(66, 'b', 'hang');
    expect(d).toMatchObject({ delay: 0.5, attempt: 1 });
    expect(p.counts).toMatchObject({ exit: 3, hang: 1 });
  });

  it('finds a crash loop per patch within the window, then counts that patch afresh', () => {
    const p = new RestartPolicy({ crashLoop: { count: 3, within: 60 } });
    expect(p.failed(0, 'bad', 'start').crashLoop).toBe(false);
    // Another patch's failures do not count for this one.
    expect(p.failed(5, 'good', 'crash').crashLoop).toBe(false);
    expect(p.failed(10, 'bad', 'start').crashLoop).toBe(false);
    expect(p.failed(20, 'bad', 'start')).toMatchObject({ crashLoop: true, failures: 3 });
    // Reported once; the count starts over.
    expect(p.failed(21, 'bad', 'start')).toMatchObject({ crashLoop: false, failures: 1 });
    // Failures older than the window fall out of it.
    const q = new RestartPolicy({ crashLoop: { count: 3, within: 60 } });
    q.failed(0, 'x', 'crash');
    q.failed(50, 'x', 'crash');
    expect(q.failed(61, 'x', 'crash')).toMatchObject({ crashLoop: false, failures: 2 });
    expect(q.failed(62, 'x', 'crash').crashLoop).toBe(true);
  });

  it('restarts the first fault of a series at once with first: 0, then backs off from initial', () => {
    const p = new RestartPolicy({ first: 0, initial: 0.25, healthyAfter: 30, crashLoop: { count: 1000, within: 1 } });
    const delays: number[] = [];
    let t = 0;
    for (let i = 0; i < 5; i++) {
      p.started(t);
      t += 1;
      const d = p.failed(t, 'a', 'crash');
      delays.push(d.delay);
      t += d.delay;
    }
    expect(delays).toEqual([0, 0.25, 0.5, 1, 2]);
    // Healthy for 30 s: the next fault starts a new series, at once again.
    p.started(t);
    expect(p.failed(t + 31, 'a', 'crash').delay).toBe(0);
  });

  it('refuses options that would loop fast or never wait', () => {
    expect(() => new RestartPolicy({ first: 1, initial: 0.5 })).toThrow(/first ≤ initial/);
    expect(() => new RestartPolicy({ first: -1 })).toThrow(/first ≤ initial/);
    expect(() => new RestartPolicy({ initial: 0 })).toThrow(/initial > 0/);
    expect(() => new RestartPolicy({ initial: 5, max: 1 })).toThrow(/max ≥ initial/);
  });
});

describe('HeartbeatWatch', () => {
  it('is hung only after hangAfter seconds without a beat', () => {
    const w = new HeartbeatWatch(2, 100);
    expect(w.hung(101.9)).toBe(false);
    expect(w.hung(102)).toBe(true);
    w.beat(102.5);
    expect(w.hung(104.4)).toBe(false);
    expect(w.silentFor(104.4)).toBeCloseTo(1.9);
    expect(w.hung(104.5)).toBe(true);
    // A late-delivered old beat does not move the last one back.
    w.beat(101);
    expect(w.silentFor(104.5)).toBeCloseTo(2);
    w.reset(200);
    expect(w.beats).toBe(0);
    expect(w.hung(201)).toBe(false);
  });
});
