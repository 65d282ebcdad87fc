import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Timeline, type TimelineItem } from './timeline.ts';

function drainAll<T>(tl: Timeline<T>, until: number): T[] {
  const out: T[] = [];
  tl.drain(until, (it) => out.push(it.value));
  return out;
}

describe('Timeline', () => {
  it('sorts by time, keeping insertion order for equal times', () => {
    const tl = new Timeline([
      { time: 2, value: 'c' },
      { time: 1, value: 'a' },
      { time: 2, value: 'd' },
      { time: 1, value: 'b' },
      { time: 0, value: 'z' },
      { time: 2, value: 'e' },
    ]);
    expect(tl.length).toBe(6);
    expect(drainAll(tl, Infinity)).toStrictEqual(['z', 'a', 'b', 'c', 'd', 'e']);
  });

  it('drains items strictly before `until`, and each item once', () => {
    const tl = new Timeline([0, 1, 1, 2, 3].map((time, i) => ({ time, value: i })));
    expect(drainAll(tl, 0)).toStrictEqual([]);
    expect(drainAll(tl, 1)).toStrictEqual([0]); // the items at 1 are not yet due
    expect(tl.done).toBe(false);
    expect(drainAll(tl, 1)).toStrictEqual([]);
    expect(drainAll(tl, 1.0000001)).toStrictEqual([1, 2]);
    expect(drainAll(tl, 3)).toStrictEqual([3]);
    expect(tl.done).toBe(false);
    expect(drainAll(tl, 3.5)).toStrictEqual([4]);
    expect(tl.done).toBe(true);
    expect(drainAll(tl, Infinity)).toStrictEqual([]);
    expect(tl.length).toBe(5);
  });

  it('never goes back: draining to an earlier time yields nothing', () => {
    const tl = new Timeline([{ time: 1, value: 'a' }, { time: 5, value: 'b' }]);
    expect(drainAll(tl, 10)).toStrictEqual(['a', 'b']);
    expect(drainAll(tl, 2)).toStrictEqual([]);
  });

  it('passes the items themselves, with their times', () => {
    const items = [{ time: 0.5, value: { x: 1 } }];
    const tl = new Timeline(items);
    const got: TimelineItem<{ x: number }>[] = [];
    tl.drain(1, (it) => got.push(it));
    expect(got).toStrictEqual([{ time: 0.5, value: { x: 1 } }]);
    expect(got[0]).toBe(items[0]);
  });

  it('does not depend on the input array after construction, and accepts any iterable', () => {
    const items = [{ time: 1, value: 'a' }];
    const tl = new Timeline(new Set(items));
    items.push({ time: 0, value: 'b' });
    expect(tl.length).toBe(1);
    expect(drainAll(tl, Infinity)).toStrictEqual(['a']);
  });

  it('with `ready`, stops at the first refused item and keeps it and everything after it for later', () => {
    const tl = new Timeline([
      { time: 1, value: 'a' },
      { time: 2, value: 'held' },
      { time: 3, value: 'b' },
    ]);
    let open = false;
    const out: string[] = [];
    const ready = (it: TimelineItem<string>) => open || it.value !== 'held';
    tl.drain(10, (it) => out.push(it.value), ready);
    expect(out).toStrictEqual(['a']); // 'b' is due but waits behind 'held'
    open = true;
    tl.drain(10, (it) => out.push(it.value), ready);
    expect(out).toStrictEqual(['a', 'held', 'b']);
    expect(tl.done).toBe(true);
  });

  it('an empty timeline is done', () => {
    const tl = new Timeline<number>([]);
    expect(tl.done).toBe(true);
    expect(tl.length).toBe(0);
  });

  it('however the drains are cut, the items come out once, in stable time order (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 20 }), { maxLength: 60 }),
        fc.array(fc.double({ min: 0, max: 25, noNaN: true }), { maxLength: 10 }),
        (times, cuts) => {
          const items = times.map((time, i) => ({ time, value: i }));
          const expected = [...items].sort((a, b) => a.time - b.time || a.value - b.value).map((x) => x.value);
          const tl = new Timeline(items);
          const got: number[] = [];
          for (const c of [...cuts].sort((a, b) => a - b)) tl.drain(c, (it) => got.push(it.value));
          tl.drain(Infinity, (it) => got.push(it.value));
          expect(got).toStrictEqual(expected);
          expect(tl.done).toBe(true);
        },
      ),
    );
  });
});
