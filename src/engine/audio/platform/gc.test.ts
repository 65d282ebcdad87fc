import { describe, expect, it } from 'vitest';
import { GarbageCollection, GC_FOLLOW_UP_MS, GC_FOLLOW_UPS, GC_INTERVAL_MS } from './gc.ts';

/** A policy on a fake wall clock, and the wall times it collected at. */
function policy() {
  let now = 0;
  const at: number[] = [];
  const gc = new GarbageCollection(() => void at.push(now), () => now);
  return { gc, at, tick: (ms: number) => void (now += ms) };
}

const fail = (e: unknown) => {
  throw e;
};

describe('the engine garbage collection policy', () => {
  it('collects at once for each freed patch graph, whatever the wall time', () => {
    const { gc, at, tick } = policy();
    for (let i = 0; i < 5; i++) {
      gc.afterAdvance(true, false, 0, fail);
      tick(10);
    }
    expect(at).toStrictEqual([0, 10, 20, 30, 40]);
  });

  it('while notes play, at most once per GC_INTERVAL_MS', () => {
    const { gc, at, tick } = policy();
    for (let n = 1; n <= 100; n++) {
      gc.afterAdvance(false, false, n, fail);
      tick(100);
    }
    expect(at).toStrictEqual([0, 2000, 4000, 6000, 8000]);
    expect(GC_INTERVAL_MS).toBe(2000);
  });

  it('after the last retired patch, a few follow-ups GC_FOLLOW_UP_MS apart, then none', () => {
    const { gc, at, tick } = policy();
    gc.afterAdvance(true, true, 0, fail);
    for (let i = 0; i < 100; i++) {
      tick(50);
      gc.afterAdvance(false, false, 0, fail);
    }
    expect(at).toStrictEqual(Array.from({ length: GC_FOLLOW_UPS + 1 }, (_, i) => i * GC_FOLLOW_UP_MS));
    expect(gc.count).toBe(GC_FOLLOW_UPS + 1);
  });

  it('without a collector it asks nothing; a collector that throws is reported', () => {
    const none = new GarbageCollection(undefined);
    none.afterAdvance(true, true, 1, fail);
    expect(none.count).toBe(0);
    const errors: unknown[] = [];
    const broken = new GarbageCollection(() => {
      throw new Error('no gc');
    });
    broken.afterAdvance(true, false, 0, (e) => errors.push(e));
    expect(String(errors[0])).toMatch(/no gc/);
  });
});
