import { describe, expect, it } from 'vitest';
import { backoffDelay, SourceHealth, TransitionLog, type ConnectionChange, type Transition } from './status.ts';

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

describe('SourceHealth connection', () => {
  it('tracks the link apart from the data: down at once, the state left to the stale limit', () => {
    const links: ConnectionChange[] = [];
    const h = new SourceHealth('river', 'mqtt://b/x', 600, 0, undefined, (c) => links.push(c));
    expect(h.snapshot(0).connection).toBeUndefined(); // not reported (a file, or not yet)
    h.connected(1);
    h.value(4, 100, 2);
    h.disconnected(new Error('no connection to broker'), 3);
    h.disconnected(new Error('again'), 4); // retries failing: still the same drop
    expect(h.snapshot(5)).toMatchObject({ state: 'live', connection: 'disconnected', connectionSince: 3 });
    h.tick(603);
    expect(h.snapshot(603)).toMatchObject({ state: 'stale', connection: 'disconnected' });
    expect(links.map((c) => `${c.from ?? '-'}>${c.to}@${c.at}`)).toEqual(['->connected@1', 'connected>disconnected@3']);
    expect(links[1]!.reason).toBe('no connection to broker');
  });
});

describe('TransitionLog', () => {
  it('folds a change flapping back and forth into one line per window', () => {
    const lines: string[] = [];
    const log = new TransitionLog((l) => lines.push(l), 60);
    // failed -> connecting -> failed twice a second for 2 minutes.
    let t = 0;
    for (; t < 120; t += 0.5) log.add('river', { from: t % 1 === 0 ? 'failed' : 'connecting', to: t % 1 === 0 ? 'connecting' : 'failed', at: t, reason: 'ECONNREFUSED' });
    log.flush(t, true);
    expect(lines).toEqual([
      'source river: failed → connecting (ECONNREFUSED)',
      'source river: connecting ↔ failed ×119 in 60 s (last: ECONNREFUSED)',
      'source river: connecting ↔ failed ×120 in 60 s (last: ECONNREFUSED)',
    ]);
  });

  it('prints other changes at once, after what was folded before them; a quiet change prints again later', () => {
    const lines: string[] = [];
    const log = new TransitionLog((l) => lines.push(l), 60);
    log.add('a', { from: 'connecting', to: 'failed', at: 0 });
    log.add('a', { from: 'failed', to: 'connecting', at: 1 });
    log.add('b', { from: 'connecting', to: 'live', at: 2 }); // another stream: its own line
    log.add('a', { from: 'connecting', to: 'live', at: 3 });
    log.add('a', { from: 'live', to: 'stale', at: 200 });
    log.add('a', { from: 'stale', to: 'live', at: 300 });
    log.add('a', { from: 'live', to: 'stale', at: 400 }); // 100 s after its last line: printed again
    log.add('a', { to: 'connected', at: 400.5 }, 'link '); // the first report of the link
    log.add('a', { from: 'connected', to: 'disconnected', at: 401 }, 'link ');
    log.flush(500, true);
    expect(lines).toEqual([
      'source a: connecting → failed',
      'source b: connecting → live',
      'source a: connecting ↔ failed ×1 in 3 s',
      'source a: connecting → live',
      'source a: live → stale',
      'source a: stale → live',
      'source a: live → stale',
      'source a: link connected',
      'source a: link connected → disconnected',
    ]);
  });
});
