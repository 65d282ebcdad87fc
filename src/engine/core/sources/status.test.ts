import { describe, expect, it } from 'vitest';
import { backoffDelay, SourceHealth, type Transition } from './status.ts';

describe('SourceHealth', () => {
  it('walks connecting → failed → connecting → live → stale → live, recording each transition', () => {
    const seen: Transition[] = [];
    const h = new SourceHealth('temp', 'http://h/x', 10, 0, (t) => seen.push(t));
    expect(h.state).toBe('connecting');
    h.error(new Error('ECONNREFUSED'), 1);
    expect(h.state).toBe('failed');
    h.connecting(2);
    h.value(12, 100, 3);
    h.error(new Error('HTTP 500'), 4); // one error while live is not an outage
    expect(h.state).toBe('live');
    h.tick(12);
    expect(h.state).toBe('live');
    h.tick(13.5);
    expect(h.state).toBe('stale');
    h.fallback(true, 14);
    h.value(13, 101, 20);
    expect(seen.map((t) => `${t.from}>${t.to}@${t.at}`)).toEqual([
      'connecting>failed@1',
      'failed>connecting@2',
      'connecting>live@3',
      'live>stale@13.5',
      'stale>fallback@14',
      'fallback>live@20',
    ]);
    expect(h.errors).toBe(2);
    expect(h.lastError).toBe('HTTP 500');
    expect(h.snapshot(20)).toMatchObject({ state: 'live', lastValue: 13, lastTime: 20, lastDataTime: 101, accepted: 2, errors: 2 });
  });

  it('measures the rate over the last 10 s', () => {
    const h = new SourceHealth('s', 'u', 60, 0);
    for (let i = 0; i < 50; i++) h.value(i, i, i * 0.2); // 5 per second for 10 s
    expect(h.rate(9.9)).toBeCloseTo(5, 1);
    expect(h.rate(15)).toBeCloseTo(2.5, 1);
    expect(h.rate(30)).toBe(0);
  });

  it('counts rejections by reason', () => {
    const h = new SourceHealth('s', 'u', 60, 0);
    h.reject('spike');
    h.reject('spike');
    h.reject('null');
    expect(h.snapshot(0).rejected).toEqual({ spike: 2, null: 1 });
  });
});

describe('backoffDelay', () => {
  it('doubles per attempt within [ceiling/2, ceiling] and is capped', () => {
    expect(backoffDelay(0, 1, 60, 0)).toBe(0.5);
    expect(backoffDelay(0, 1, 60, 0.999999)).toBeCloseTo(1, 5);
    expect(backoffDelay(3, 1, 60, 0)).toBe(4);
    expect(backoffDelay(10, 1, 60, 0.5)).toBe(45);
    expect(backoffDelay(1000, 1, 60, 1)).toBe(60);
  });
});
