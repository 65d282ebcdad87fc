/**
 * Workarounds for Tone.js 15.5, in any runtime (browser, Electron, Node). They
 * patch Tone's prototypes, so they are applied by {@link applyToneFixes}, which
 * a {@link Platform} calls when an Engine is made, never on import.
 *
 * Each fix has a switch in {@link toneFixes}; platform/tone.test.ts turns each
 * off, shows the Tone bug it hides still happens, and on again, shows it fixed.
 * When a Tone upgrade makes a "still happens" test fail, the fix can go.
 *
 * 1. `stopOnDispose`: a disposed one-shot source never stops its native node.
 *    `ToneConstantSource.dispose()` runs `super.dispose()` first, so the deferred
 *    `stop()` sees state "stopped" and returns; the same holds for
 *    ToneOscillatorNode and ToneBufferSource (all OneShotSource). Every disposed
 *    `Tone.Signal` then leaves a ConstantSourceNode running (CPU 3 % → 103 %
 *    after 500 patch swaps). No upstream issue found (Tonejs/Tone.js issues
 *    searched for dispose/stop/ConstantSource); nearest: #1379, memory growth in
 *    triggerAttackRelease loops. We stop the native node first. A source that
 *    was never started throws InvalidStateError on stop(): expected, swallowed
 *    here and nowhere else.
 *
 * 2. `disposeEndedOffline`: Tone disposes an ended one-shot source only "in the
 *    online context" (OneShotSource._onended), so every note of a long offline
 *    render stayed connected and the cost per audio second grew with the
 *    render's length. We dispose it offline too, but only once the audio has
 *    really been rendered that far: `Tone.Offline` runs its clock (and so every
 *    source's end) through the whole duration before rendering starts, and
 *    disposing then silenced every note it had scheduled. The engine's own
 *    renders move Tone's clock with the render ({@link setOfflineClock}).
 *
 * Besides the fixes, this module holds the engine's other reaches into Tone's
 * private parts, so a Tone upgrade breaks them in one place, under a test:
 * {@link instrumentOscillators} and {@link setOfflineClock}; and a census of
 * started native sources ({@link liveSourceCount}) for tests and benchmarks.
 */
import * as Tone from 'tone';
// Not re-exported by Tone's index; the same module instance Tone's own classes use.
import { OneShotSource } from 'tone/build/esm/source/OneShotSource.js';

type AnySource = AudioScheduledSourceNode;

interface Census {
  live: Set<AnySource>;
  created: number;
  /** Sources whose JavaScript wrapper the garbage collector has reclaimed. */
  collected: number;
}

const censuses = new WeakMap<object, Census>();

// Counts wrappers reclaimed, so the engine's collection policy can see whether
// the native nodes node-web-audio-api keeps for them (#118) are gone yet.
const reclaimed = new FinalizationRegistry<Census>((census) => void census.collected++);

function censusOf(raw: object): Census {
  let c = censuses.get(raw);
  if (!c) {
    c = { live: new Set(), created: 0, collected: 0 };
    censuses.set(raw, c);
  }
  return c;
}

/** Number of source nodes started and not yet stopped on a raw (native) context. */
export function liveSourceCount(rawContext: object): number {
  return censusOf(rawContext).live.size;
}

/** Number of source nodes ever created on a raw context through Tone. */
export function createdSourceCount(rawContext: object): number {
  return censusOf(rawContext).created;
}

/**
 * Number of source nodes created on a raw context through Tone that are no
 * longer running and whose wrappers the garbage collector has not reclaimed
 * yet: on node-web-audio-api each still holds a native node in the render
 * graph (ircam-ismm/node-web-audio-api#118). Reclaimed wrappers are counted
 * by a FinalizationRegistry, so the count drops an event-loop turn or more
 * after the collection that frees them.
 */
export function retainedSourceCount(rawContext: object): number {
  const c = censusOf(rawContext);
  return c.created - c.collected - c.live.size;
}

function track<T extends AnySource>(raw: object, node: T): T {
  const census = censusOf(raw);
  census.created++;
  reclaimed.register(node, census);
  const start = node.start.bind(node);
  const stop = node.stop.bind(node);
  node.start = (when?: number, ...rest: number[]) => {
    (start as (...a: number[]) => void)(when ?? 0, ...rest);
    census.live.add(node);
  };
  // Sources given a duration end without stop(): count them out when they end.
  node.addEventListener?.('ended', () => census.live.delete(node));
  node.stop = (when?: number) => {
    stop(when ?? 0);
    census.live.delete(node);
  };
  return node;
}

/** True when an offline context's audio has been rendered up to its Tone clock (within half a render quantum). */
function rendered(context: { currentTime: number; rawContext: { currentTime: number; sampleRate: number } }): boolean {
  const raw = context.rawContext;
  return raw.currentTime + (clockOrigins.get(context) ?? 0) + 64 / raw.sampleRate >= context.currentTime;
}

/** Switches for the fixes; tests turn one off to show the Tone bug it hides. */
export const toneFixes = { stopOnDispose: true, disposeEndedOffline: true };

let applied = false;

/** Applies the fixes (and the source census) to Tone's prototypes once. Idempotent. */
export function applyToneFixes(): void {
  if (applied) return;
  applied = true;

  const proto = OneShotSource.prototype as unknown as {
    dispose(): unknown;
    _onended(): void;
    onended: unknown;
    context: { isOffline: boolean; currentTime: number; rawContext: { currentTime: number; sampleRate: number } };
    _source?: AudioScheduledSourceNode;
    _oscillator?: AudioScheduledSourceNode;
  };
  const originalDispose = proto.dispose;
  proto.dispose = function (this: typeof proto) {
    try {
      if (toneFixes.stopOnDispose) (this._source ?? this._oscillator)?.stop();
    } catch {
      // never started: nothing is running, nothing to stop
    }
    return originalDispose.call(this);
  };
  const originalOnEnded = proto._onended;
  proto._onended = function (this: typeof proto) {
    const wasPending = typeof this.onended === 'function' && this.onended.name !== 'noOp';
    originalOnEnded.call(this);
    if (toneFixes.disposeEndedOffline && wasPending && this.context.isOffline && rendered(this.context)) queueMicrotask(() => this.dispose());
  };

  const ctxProto = Tone.Context.prototype as unknown as Record<string, (...a: unknown[]) => AnySource> & {
    rawContext: object;
  };
  for (const method of ['createConstantSource', 'createOscillator', 'createBufferSource']) {
    const original = ctxProto[method]!;
    ctxProto[method] = function (this: { rawContext: object }, ...args: unknown[]) {
      return track(this.rawContext, original.apply(this, args));
    };
  }
}

/** An oscillator inside a Tone instrument, as far as the engine uses it. */
export interface InstrumentOscillator {
  start: (t?: number) => unknown;
  stop: (t?: number) => unknown;
}

/**
 * The oscillators inside a Tone instrument (one for Synth, Mono and Membrane;
 * carrier and modulator for FM/AM; six for Metal). Tone has no public way to
 * keep an instrument's oscillators running between notes (it restarts them per
 * note, making a native node per note), so the voice pool reaches into Tone's
 * private fields `_oscillators`, `_carrier` and `_modulator` here.
 */
export function instrumentOscillators(inst: object): InstrumentOscillator[] {
  const i = inst as unknown as Record<string, unknown>;
  // The lean instruments (src/engine/audio/leanSynths.ts) list theirs openly.
  if (Array.isArray(i.oscillators)) return i.oscillators as InstrumentOscillator[];
  if (Array.isArray(i._oscillators)) return i._oscillators as InstrumentOscillator[];
  if (i._carrier && i._modulator)
    return [(i._carrier as { oscillator: InstrumentOscillator }).oscillator, (i._modulator as { oscillator: InstrumentOscillator }).oscillator];
  return i.oscillator ? [i.oscillator as InstrumentOscillator] : [];
}

/** Tone clock time of each offline context's native time 0 (a segment of a render: see {@link setOfflineClock}). */
const clockOrigins = new WeakMap<object, number>();

/**
 * Sets the clock of a Tone.OfflineContext wrapping a raw context that renders
 * in steps (suspend/resume). Tone's OfflineContext advances its clock only in
 * its own render(); its `_currentTime` is private, and this is the one place
 * that writes it. `origin`: the Tone time of the raw context's time 0, for a
 * context that renders a segment of a piece from there (src/engine/node/render.ts).
 */
export function setOfflineClock(context: Tone.OfflineContext, time: number, origin = 0): void {
  (context as unknown as { _currentTime: number })._currentTime = time;
  clockOrigins.set(context, origin);
}
