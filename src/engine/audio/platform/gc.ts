/**
 * When the engine asks its runtime for a garbage collection.
 *
 * node-web-audio-api keeps a native node in the render graph, and processing
 * it, until its JavaScript wrapper is garbage-collected
 * (ircam-ismm/node-web-audio-api#118), and its node table grows to the most
 * native nodes ever alive at once and is never compacted (a graph rebuilt after
 * 54,000 nodes were alive at once rendered 1.6x slower; after 2,700, no change).
 * Freed patch graphs and ended sampler notes are small JS objects that V8 may
 * keep for a long time, so the engine asks for collections: at once after it
 * frees retired patches, a few more after the last one, and while notes play at
 * most every {@link GC_INTERVAL_MS} of wall time.
 */

/** Minimum wall time between two collections asked for because notes played. */
export const GC_INTERVAL_MS = 2000;

/**
 * Collections repeated after the last retired patch is freed, GC_FOLLOW_UP_MS
 * apart. One collection at that moment is not enough: measured on a 4-voice
 * patch swapped 300 times, rendering afterwards cost 5.9x what it did before
 * with one collection, 1.03x with a few more over the next second (node-web-
 * audio-api frees a native node only after its wrapper's finalizer has run,
 * which takes more than one collection and an event-loop turn).
 */
export const GC_FOLLOW_UPS = 4;

export const GC_FOLLOW_UP_MS = 250;

/** The engine's collection policy around a runtime's `collectGarbage`. */
export class GarbageCollection {
  /** Collections asked for so far. */
  count = 0;
  private due = false;
  private last = -Infinity;
  private followUps = 0;
  private notesAtLast = 0;

  /**
   * @param collect the runtime's collector (none: nothing is ever asked)
   * @param now wall clock in ms (tests pass a fake one)
   */
  constructor(
    private readonly collect: (() => void) | undefined,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /**
   * Called after each engine advance: `freed` when retired patches were just
   * disposed, `settled` when none is left retiring, `notes` the notes played so
   * far. Runs a collection when one is due; its errors go to `onError`.
   */
  afterAdvance(freed: boolean, settled: boolean, notes: number, onError: (e: unknown) => void): void {
    if (freed) this.due = true;
    if (notes !== this.notesAtLast) this.due = true;
    if (settled) this.followUps = GC_FOLLOW_UPS;
    if (!(this.due || this.followUps > 0) || !this.collect) return;
    const wall = this.now();
    const followUp = this.followUps > 0 && wall - this.last >= GC_FOLLOW_UP_MS;
    // A freed patch graph is collected at once, whatever the wall time: waiting
    // for GC_INTERVAL_MS in a burst of swaps let freed graphs pile up (300
    // carbon-pulse swaps 20 ms apart peaked at 6,600 live node wrappers, 3,200
    // with this), and the node table keeps its peak.
    if (!(settled || freed || followUp || (this.due && wall - this.last >= GC_INTERVAL_MS))) return;
    if (followUp && !settled) this.followUps--;
    this.due = false;
    this.last = wall;
    this.notesAtLast = notes;
    this.count++;
    try {
      this.collect();
    } catch (e) {
      onError(e);
    }
  }
}
