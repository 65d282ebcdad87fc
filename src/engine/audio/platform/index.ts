/**
 * The runtime the engine plays on, as the engine sees it: the workarounds for
 * the bugs of Tone.js and of the Web Audio implementation under it, handed to
 * the engine ({@link EngineOptions.platform}) rather than patched in on import.
 *
 * Tone.js fixes (any runtime) are in ./tone.ts; the Node runtime
 * (node-web-audio-api: Web Audio globals, a garbage collector, offline render
 * quirks) is in src/engine/node/platform, which builds on {@link tonePlatform}.
 *
 * @example
 *   import { nodePlatform } from '../node/platform/index.ts'; // a Node host
 *   const engine = new Engine({ context, platform: nodePlatform });
 */
import { applyToneFixes } from './tone.ts';

export { GarbageCollection, GC_FOLLOW_UP_MS, GC_FOLLOW_UPS, GC_INTERVAL_MS, GC_RETAINED_LIMIT } from './gc.ts';
export { createdSourceCount, instrumentOscillators, liveSourceCount, retainedSourceCount, setOfflineClock, toneFixes } from './tone.ts';

/** What the engine needs from its runtime besides a context. */
export interface Platform {
  /** For messages: 'tone' (a browser), 'node' (node-web-audio-api). */
  readonly name: string;
  /** Readies Tone.js and the runtime for the engine; called by every Engine, idempotent. */
  install(): void;
  /**
   * Runs a full garbage collection, for runtimes that keep processing a freed
   * node until its wrapper is collected (node-web-audio-api#118). The engine
   * decides when (see ./gc.ts).
   */
  readonly collectGarbage?: () => void;
}

/** Tone.js fixes only: the platform of a browser or Electron renderer (and the Engine's default). */
export const tonePlatform: Platform = {
  name: 'tone',
  install: applyToneFixes,
};
