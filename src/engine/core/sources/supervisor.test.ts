import { describe, expect, it } from 'vitest';
import { StreamSupervisor, type StalePolicy } from './supervisor.ts';

function run(policy: Partial<StalePolicy>) {
  const sent: Array<{ t: number; value: number; dataTime: number }> = [];
  let now = 0;
  const s = new StreamSupervisor({ after: 10, then: 'hold', glide: 4, default: 0, history: 3600, ...policy }, (value, dataTime) => sent.push({ t: now, value, dataTime }), 0);
  return {
    s,
    sent,
    at(t: number) {
      now = t;
      return s;
    },
    /** Ticks every 0.5 s up to t. */
    until(t: number) {
      while (now < t) {
        now = Math.round((now + 0.5) * 1000) / 1000;
        s.tick(now);
      }
    },
  };
}

describe('StreamSupervisor', () => {
  it('passes live values straight through', () => {
    const r = run({});
    r.at(1).live(5, 100, 1);
    r.at(2).live(6, 101, 2);
    expect(r.sent.map((x) => x.value)).toEqual([5, 6]);
    expect(r.s.mode).toBe('live');
  });

  it('hold: sends nothing while stale, and takes live data back at once', () => {
    const r = run({ then: 'hold' });
    r.at(1).live(5, 100, 1);
    r.until(30);
    expect(r.s.mode).toBe('stale');
    expect(r.sent).toHaveLength(1);
    r.at(31).live(9, 131, 31);
    expect(r.sent.map((x) => x.value)).toEqual([5, 9]);
  });

  it('default: glides to the default when stale, then glides back to live data', () => {
    const r = run({ then: 'default', default: 0, glide: 4 });
    r.at(1).live(8, 100, 1);
    r.until(11);
    expect(r.s.mode).toBe('live');
    r.until(20);
    expect(r.s.mode).toBe('stale');
    const down = r.sent.slice(1).map((x) => x.value);
    expect(down[0]).toBeLessThan(8);
    expect(down[down.length - 1]).toBe(0);
    for (let i = 1; i < down.length; i++) expect(down[i]!).toBeLessThanOrEqual(down[i - 1]!); // monotonic, no jump
    expect(Math.max(...down.slice(0, -1).map((v, i) => v - down[i + 1]!))).toBeLessThanOrEqual(8 * (0.5 / 4) + 1e-9);
    const before = r.sent.length;
    r.at(20.2).live(4, 120, 20.2);
    expect(r.sent.length).toBe(before); // not sent at once: a glide starts
    expect(r.s.mode).toBe('recovering');
    r.until(25);
    const up = r.sent.slice(before).map((x) => x.value);
    expect(up[up.length - 1]).toBe(4);
    expect(up[0]).toBeGreaterThan(0);
    expect(up[0]).toBeLessThan(4);
    expect(r.s.mode).toBe('live');
    // Data times only move forward.
    for (let i = 1; i < r.sent.length; i++) expect(r.sent[i]!.dataTime).toBeGreaterThan(r.sent[i - 1]!.dataTime);
  });

  it('replay: plays the recorded history at its own pace, looping, data times moving on', () => {
    const r = run({ then: 'replay', glide: 0, after: 5 });
    // 4 readings, 1 s apart
    [1, 2, 3, 4].forEach((v, i) => r.at(i).live(v, 1000 + i, i));
    r.until(21);
    expect(r.s.mode).toBe('fallback');
    const replayed = r.sent.slice(4);
    // The glide (0 s here) lands on the first recorded value, then the replay starts.
    expect(replayed.map((x) => x.value).slice(0, 10)).toEqual([1, 1, 2, 3, 4, 1, 2, 3, 4, 1]);
    // Paced at one per second, and data times continue after the last live one (1003).
    const dts = replayed.slice(1).map((x) => x.dataTime);
    expect(dts[0]).toBe(1004);
    for (let i = 1; i < dts.length; i++) expect(dts[i]! - dts[i - 1]!).toBeCloseTo(1, 9);
  });

  it('replay with no history holds, and a restored value is sent without counting as live', () => {
    const r = run({ then: 'replay', after: 5 });
    r.s.restore(7, 50);
    expect(r.sent.map((x) => x.value)).toEqual([7]);
    r.until(10);
    expect(r.s.mode).toBe('stale');
    expect(r.sent).toHaveLength(1);
  });

  it('seeded history (a restart) is replayed when the feed stays dead', () => {
    const r = run({ then: 'replay', after: 2, glide: 0 });
    r.s.seed([
      { value: 3, dataTime: 10 },
      { value: 6, dataTime: 11 },
    ]);
    expect(r.s.historyLength).toBe(2);
    r.until(6);
    expect(r.s.mode).toBe('fallback');
    expect(new Set(r.sent.map((x) => x.value))).toEqual(new Set([3, 6]));
  });

  it('keeps only the history window', () => {
    const r = run({ history: 10 });
    for (let i = 0; i < 100; i++) r.at(i).live(i, i, i);
    expect(r.s.historyLength).toBe(11);
  });
});

describe('StreamSupervisor recovery under a steady feed', () => {
  it('finishes its glide on schedule while live values keep arriving', () => {
    const r = run({ then: 'default', default: 0, glide: 2, after: 1 });
    r.at(0).live(10, 0, 0);
    r.until(5); // stale, glided to 0
    for (let t = 5.5; t <= 9; t += 0.5) {
      r.at(t).live(10, t, t);
      r.s.tick(t);
    }
    expect(r.s.mode).toBe('live');
    expect(r.sent[r.sent.length - 1]!.value).toBe(10);
  });
});

describe('StreamSupervisor history bounds', () => {
  it('keeps only the window over many samples, and replays exactly that window', () => {
    const r = run({ history: 100, then: 'replay', after: 5, glide: 0 });
    for (let i = 0; i < 5000; i++) r.at(i * 0.001).live(i, i, i * 0.001);
    expect(r.s.historyLength).toBe(101);
    r.until(13);
    const replayed = r.sent.slice(5000).map((x) => x.value);
    // The glide lands on the window's first point, then the replay walks it at one point per data second.
    expect(replayed.slice(0, 4)).toEqual([4899, 4899, 4900, 4901]);
  });
});
