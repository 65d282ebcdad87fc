/**
 * The Node platform: Tone.js on node-web-audio-api. Hand {@link nodePlatform}
 * to the engine (`new Engine({ context, platform: nodePlatform })`).
 *
 * Its workarounds, each with the upstream issue and a test that shows the bug
 * still happens without it:
 * - Web Audio globals for Tone (./globals.ts, installed on import, before Tone loads);
 * - Tone.js fixes (src/engine/audio/platform/tone.ts);
 * - a garbage collector: node-web-audio-api processes a freed node until its
 *   wrapper is collected (ircam-ismm/node-web-audio-api#118; ./gc.ts);
 * - suspend points registered before rendering (./suspend.ts), and offline
 *   renders whose points were refused anyway start over, invisibly
 *   to callers (../render.ts).
 */
import './installGlobals.ts';
import { tonePlatform, type Platform } from '../../audio/platform/index.ts';
import { garbageCollector } from './gc.ts';

export { NODE_AUDIO_GLOBALS, installNodeAudioGlobals, type NodeAudioGlobal } from './globals.ts';
export { garbageCollector } from './gc.ts';
export { suspendPointsRegistered } from './suspend.ts';

/** Tone.js fixes plus V8's collector (when V8 lets us have it). */
export const nodePlatform: Platform = {
  name: 'node',
  install: tonePlatform.install,
  collectGarbage: garbageCollector(),
};
