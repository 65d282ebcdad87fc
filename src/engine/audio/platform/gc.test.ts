import { describe, expect, it } from 'vitest';
import { GarbageCollection, GC_FOLLOW_UP_MS, GC_FOLLOW_UPS, GC_INTERVAL_MS, GC_RETAINED_LIMIT } from './gc.ts';

/**
 * A policy on a fake wall clock with a fake census of ended sources not yet
 * reclaimed; `reclaim` says what a collection leaves of them.
 */
function policy(reclaim: (retained: number) => number = () => 0) {
  let now = 0;
  const at: number[] = [];
  const state = { retained: 0 };
  const gc = new GarbageCollection(
    () => {
      at.push(now);
      state.retained = reclaim(state.retained);
    },
    () => now,
    () => state.retained,
  );
  return { gc, at, state, tick: (ms: number) => void (now += ms) };
}

const fail = (e: unknown) => {
  throw e;
};

describe('the engine garbage collection policy', () => {
  it('collects at once for each freed patch graph, whatever the wall time', () => {
    const { gc, at, tick } = policy();
    for (let i = 0; i < 5; i++) {
      gc.afterAdvance(true, false, fail);
      tick(10);
    }
    expect(at).toStrictEqual([0, 10, 20, 30, 40]);
  });

  it('never while notes play that leave no ended source behind (a synth voice pool)', () => {
    const { gc, at, tick } = policy();
    for (let i = 0; i < 600; i++) {
      gc.afterAdvance(false, false, fail);
      tick(100);
    }
    expect(at).toStrictEqual([]);
  });

  it('once GC_RETAINED_LIMIT ended sources wait to be reclaimed (sampler notes, 10 a second)', () => {
    const { gc, at, state, tick } = policy();
    for (let i = 0; i < 600; i++) {
      gc.afterAdvance(false, false, fail);
      tick(100);
      state.retained++;
    }
    expect(GC_RETAINED_LIMIT).toBe(256);
    // The first after 256 notes; the next after 256 more, counted from 250 ms after it.
    expect(at).toStrictEqual([25_600, 51_500]);
  });

  it('at most once per GC_INTERVAL_MS however fast they pile up, and no storm when a collection reclaims nothing', () => {
    const fast = policy();
    for (let i = 0; i < 100; i++) {
      fast.gc.afterAdvance(false, false, fail);
      fast.tick(100);
      fast.state.retained += 50;
    }
    expect(fast.at).toStrictEqual([600, 2600, 4600, 6600, 8600]);
    expect(GC_INTERVAL_MS).toBe(2000);

    // Sources something still holds: the count after each collection is the new floor.
    const stuck = policy((n) => n);
    stuck.state.retained = 1000;
    for (let i = 0; i < 100; i++) {
      stuck.gc.afterAdvance(false, false, fail);
      stuck.tick(100);
    }
    expect(stuck.at).toStrictEqual([]);
  });

  it('after the last retired patch, follow-ups GC_FOLLOW_UP_MS apart while its sources are not all reclaimed', () => {
    // Each collection reclaims half: all the follow-ups run, then no more.
    const slow = policy((n) => Math.floor(n / 2));
    slow.state.retained = 100;
    slow.gc.afterAdvance(true, true, fail);
    for (let i = 0; i < 100; i++) {
      slow.tick(50);
      slow.gc.afterAdvance(false, false, fail);
    }
    expect(slow.at).toStrictEqual(Array.from({ length: GC_FOLLOW_UPS + 1 }, (_, i) => i * GC_FOLLOW_UP_MS));

    // The first collection reclaims everything: no follow-up at all.
    const quick = policy(() => 0);
    quick.state.retained = 100;
    quick.gc.afterAdvance(true, true, fail);
    for (let i = 0; i < 100; i++) {
      quick.tick(50);
      quick.gc.afterAdvance(false, false, fail);
    }
    expect(quick.at).toStrictEqual([0]);
  });

  it('without a collector it asks nothing; a collector that throws is reported', () => {
    const none = new GarbageCollection(undefined, undefined, () => 10_000);
    none.afterAdvance(true, true, fail);
    expect(none.count).toBe(0);
    const errors: unknown[] = [];
    const broken = new GarbageCollection(() => {
      throw new Error('no gc');
    });
    broken.afterAdvance(true, false, (e) => errors.push(e));
    expect(String(errors[0])).toMatch(/no gc/);
  });
});
