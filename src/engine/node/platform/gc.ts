/**
 * A way to run V8's garbage collector from a Node host.
 *
 * node-web-audio-api keeps a native node in the render graph, and processing it,
 * until its JavaScript wrapper is garbage-collected
 * (ircam-ismm/node-web-audio-api#118, "Nodes are not garbage collected as they
 * should"; closed upstream, yet 2.2.0 behaves so). Disposed patch graphs
 * are small JS objects, so V8 may not collect them for a long time: measured
 * here, rendering after 100 patch swaps cost 56x more per audio second than
 * before them; with one collection after the swaps, 1.7x. The engine decides
 * when to call it (src/engine/audio/platform/gc.ts).
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

let gc: (() => void) | undefined;

/** Returns a function that runs a full garbage collection, or undefined if V8 refuses. */
export function garbageCollector(): (() => void) | undefined {
  if (gc) return gc;
  const existing = (globalThis as { gc?: () => void }).gc;
  if (typeof existing === 'function') return (gc = existing);
  try {
    setFlagsFromString('--expose-gc');
    const fn = runInNewContext('gc') as unknown;
    if (typeof fn === 'function') gc = fn as () => void;
  } catch {
    gc = undefined;
  }
  return gc;
}
