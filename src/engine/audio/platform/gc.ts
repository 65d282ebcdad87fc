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
 * frees retired patches, a few more after the last one until their wrappers
 * are reclaimed, and while notes play only once enough ended sources wait to
 * be reclaimed.
 *
 * A forced collection is a full, stop-the-world GC on the thread that runs the
 * look-ahead scheduler, the MIDI clock and OSC (81–89 ms at a 27 MB heap,
 * 483 ms at 180 MB, measured here). A minor GC does not help: it left every
 * ended sampler note's wrapper alive (they outlive two scavenges and are
 * promoted). So the policy asks for as few as it can: none for notes that
 * create no native node (the voice pool keeps synth oscillators running), one
 * per {@link GC_RETAINED_LIMIT} ended sources otherwise, and the follow-ups
 * after a swap stop as soon as the wrappers are counted reclaimed. It runs
 * inside `advance`, after the window has been scheduled, so a collection
 * shorter than the look-ahead makes no note late.
 */

/** Minimum wall time between two collections asked for because ended sources piled up. */
export const GC_INTERVAL_MS = 2000;

/**
 * Ended sources not yet reclaimed (each a native node still in the render
 * graph) that make the engine ask for a collection while notes play: 256 idle
 * buffer sources cost the renderer little, and a sampler patch playing two
 * notes a second asks once every two minutes instead of every 2 s.
 */
export const GC_RETAINED_LIMIT = 256;

/**
 * At most this many collections after the last retired patch is freed,
 * GC_FOLLOW_UP_MS apart, while ended sources remain unreclaimed. One collection
 * at that moment is not enough: measured on a 4-voice patch swapped 300 times,
 * rendering afterwards cost 5.9x what it did before with one collection, 1.03x
 * with a few more over the next second (node-web-audio-api frees a native node
 * only after its wrapper's finalizer has run, which takes more than one
 * collection and an event-loop turn).
 */
export const GC_FOLLOW_UPS = 4;

export const GC_FOLLOW_UP_MS = 250;

/** The engine's collection policy around a runtime's `collectGarbage`. */
export class GarbageCollection {
  /** Collections asked for so far. */
  count = 0;
  private last = -Infinity;
  private followUps = 0;
  /** Ended sources left unreclaimed once the last collection had settled (undefined: not measured yet). */
  private baseline: number | undefined;

  /**
   * @param collect the runtime's collector (none: nothing is ever asked)
   * @param now wall clock in ms (tests pass a fake one)
   * @param retained ended native sources whose wrappers are not reclaimed yet
   *   (the engine passes the census of platform/tone.ts)
   */
  constructor(
    private readonly collect: (() => void) | undefined,
    private readonly now: () => number = () => performance.now(),
    private readonly retained: () => number = () => 0,
  ) {}

  /**
   * Called after each engine advance: `freed` when retired patches were just
   * disposed, `settled` when none is left retiring. Runs a collection when one
   * is due; its errors go to `onError`.
   */
  afterAdvance(freed: boolean, settled: boolean, onError: (e: unknown) => void): void {
    if (!this.collect) return;
    if (settled) this.followUps = GC_FOLLOW_UPS;
    const wall = this.now();
    const since = wall - this.last;
    // A freed patch graph is collected at once, whatever the wall time: waiting
    // for GC_INTERVAL_MS in a burst of swaps let freed graphs pile up (300
    // carbon-pulse swaps 20 ms apart peaked at 6,600 live node wrappers, 3,200
    // with this), and the node table keeps its peak.
    let due = freed;
    if (!due && this.followUps > 0 && since >= GC_FOLLOW_UP_MS) {
      // Reclaimed wrappers are counted by their finalizers, which run after the
      // collection: once every ended source is counted, no follow-up is needed.
      if (this.retained() > 0) {
        due = true;
        this.followUps--;
      } else this.followUps = 0;
    }
    if (!due && this.followUps === 0 && since >= GC_FOLLOW_UP_MS) {
      this.baseline ??= this.retained();
      due = since >= GC_INTERVAL_MS && this.retained() - this.baseline >= GC_RETAINED_LIMIT;
    }
    if (!due) return;
    this.last = wall;
    this.baseline = undefined;
    this.count++;
    try {
      this.collect();
    } catch (e) {
      onError(e);
    }
  }
}
