/**
 * Installs the Node audio globals (./globals.ts) when imported. Import it
 * before anything imports `tone`: Tone and standardized-audio-context read
 * `self`, `window` and `isSecureContext` when they load. ./index.ts imports it
 * first; so do the CLI entry, the benchmarks and vitest's setupFiles.
 */
import { installNodeAudioGlobals } from './globals.ts';

installNodeAudioGlobals();
