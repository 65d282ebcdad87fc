/**
 * Fixes carried for Tone.js 15.5, applied once when the engine is imported.
 *
 * 1. `ToneConstantSource.dispose()` never stops its native ConstantSourceNode:
 *    `super.dispose()` runs first, so the deferred `stop()` sees state "stopped"
 *    and returns. Every disposed `Tone.Signal` then leaves a node running (CPU
 *    3 % → 103 % after 500 patch swaps, ARCHITECTURE.md). We stop the native node
 *    first. A source that was never started throws InvalidStateError on stop():
 *    that is expected and swallowed here, nowhere else.
 *
 *    The same holds for every one-shot source (oscillator and buffer nodes): a
 *    disposed Tone source disconnects its native node but never stops it. The fix
 *    sits on OneShotSource, which ToneConstantSource, ToneOscillatorNode and
 *    ToneBufferSource share.
 *
 * 2. Ended one-shot sources are disposed in offline contexts too. Tone skips that
 *    offline ("only in the online context"), so every note of a long offline render
 *    stayed connected and the cost per audio second grew with the render's length.
 *    Only once the audio has really been rendered that far: `Tone.Offline` runs its
 *    clock (and so every source's end) through the whole duration before rendering
 *    starts, and disposing then silenced every note it had scheduled (a plain
 *    Tone.Offline program in a process that had imported the engine rendered
 *    silence). The engine's own renders set Tone's clock to the rendered time.
 *
 * 3. Source census: every native source node created through a Tone context is
 *    counted while it is started and not yet stopped, so tests and benchmarks can
 *    assert that swaps and dispose() leave nothing running.
 */
import { Context } from 'tone';
// Not re-exported by Tone's index; the same module instance Tone's own classes use.
import { OneShotSource } from 'tone/build/esm/source/OneShotSource.js';

type AnySource = AudioScheduledSourceNode & { __ecosymLive?: boolean };

interface Census {
  live: Set<AnySource>;
  created: number;
}

const censuses = new WeakMap<object, Census>();

function censusOf(raw: object): Census {
  let c = censuses.get(raw);
  if (!c) {
    c = { live: new Set(), created: 0 };
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

function track<T extends AnySource>(raw: object, node: T): T {
  const census = censusOf(raw);
  census.created++;
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
  return raw.currentTime + 64 / raw.sampleRate >= context.currentTime;
}

/** Switches for the fixes; tests turn one off to show what it prevents. */
export const toneFixes = { stopConstantSourceOnDispose: true };

let applied = false;

/** Applies the fixes once. Idempotent. */
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
      if (toneFixes.stopConstantSourceOnDispose) (this._source ?? this._oscillator)?.stop();
    } catch {
      // never started: nothing is running, nothing to stop
    }
    return originalDispose.call(this);
  };
  const originalOnEnded = proto._onended;
  proto._onended = function (this: typeof proto) {
    const wasPending = typeof this.onended === 'function' && this.onended.name !== 'noOp';
    originalOnEnded.call(this);
    if (wasPending && this.context.isOffline && rendered(this.context)) queueMicrotask(() => this.dispose());
  };

  const ctxProto = Context.prototype as unknown as Record<string, (...a: unknown[]) => AnySource> & {
    rawContext: object;
  };
  for (const method of ['createConstantSource', 'createOscillator', 'createBufferSource']) {
    const original = ctxProto[method]!;
    ctxProto[method] = function (this: { rawContext: object }, ...args: unknown[]) {
      return track(this.rawContext, original.apply(this, args));
    };
  }
}

applyToneFixes();
