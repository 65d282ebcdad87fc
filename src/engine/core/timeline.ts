/**
 * A time-ordered queue drained up to a time: the one mechanism that feeds
 * data points and timed actions to the engine, offline and in real time.
 */

export interface TimelineItem<T> {
  time: number;
  value: T;
}

/** Items sorted by time (stable for equal times), consumed front to back. */
export class Timeline<T> {
  private readonly items: TimelineItem<T>[];
  private next = 0;

  constructor(items: Iterable<TimelineItem<T>>) {
    this.items = [...items].map((it, i) => ({ it, i })).sort((a, b) => a.it.time - b.it.time || a.i - b.i).map((x) => x.it);
  }

  /**
   * Calls `fn` for every item with time < `until`, in order, and removes them.
   * With `ready`, stops at the first item it refuses (that item and everything
   * after it wait for a later drain, so the order is kept).
   */
  drain(until: number, fn: (item: TimelineItem<T>) => void, ready?: (item: TimelineItem<T>) => boolean): void {
    while (this.next < this.items.length && this.items[this.next]!.time < until && (!ready || ready(this.items[this.next]!))) fn(this.items[this.next++]!);
  }

  /** True when every item has been drained. */
  get done(): boolean {
    return this.next >= this.items.length;
  }

  get length(): number {
    return this.items.length;
  }
}
