/**
 * Node audio globals: the one place where a plain Node process is made to look
 * enough like a browser for Tone.js to run on node-web-audio-api.
 *
 * Measured facts behind each line are in ARCHITECTURE.md:
 * - Tone needs the Web Audio classes as globals and `window`.
 * - AudioWorklet-based Tone classes need `isSecureContext`, a `self` exposing
 *   BaseAudioContext/AudioWorkletNode, and (Node 20) `Promise.withResolvers`.
 * - Tone.Draw and Context.close() need requestAnimationFrame/cancelAnimationFrame.
 *
 * Import this module before importing `tone` anywhere in a Node host.
 */
import * as nodeWebAudioApi from 'node-web-audio-api';

type Globals = Record<string, unknown>;
const g = globalThis as unknown as Globals;

/** Installs the globals once; safe to call again. Returns the node-web-audio-api module. */
export function installNodeAudioGlobals(): typeof nodeWebAudioApi {
  if (g.__ecosymAudioGlobals) return nodeWebAudioApi;
  for (const [name, value] of Object.entries(nodeWebAudioApi)) {
    if (!(name in g) || name === 'AudioContext' || name === 'OfflineAudioContext') g[name] = value;
  }
  g.window ??= globalThis;
  g.TONE_SILENCE_LOGGING = true; // no banner on stdout: CLI output stays machine-readable
  g.isSecureContext = true;
  g.self ??= {
    BaseAudioContext: nodeWebAudioApi.BaseAudioContext,
    AudioWorkletNode: nodeWebAudioApi.AudioWorkletNode,
    TONE_SILENCE_LOGGING: true,
  };
  const P = Promise as unknown as Globals;
  P.withResolvers ??= function withResolvers<T>() {
    let resolve!: (v: T) => void;
    let reject!: (e: unknown) => void;
    const promise = new Promise<T>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    return { promise, resolve, reject };
  };
  g.requestAnimationFrame ??= (cb: (t: number) => void) =>
    setTimeout(() => cb(performance.now()), 16) as unknown as number;
  g.cancelAnimationFrame ??= (id: number) => clearTimeout(id as unknown as NodeJS.Timeout);
  g.__ecosymAudioGlobals = true;
  return nodeWebAudioApi;
}

installNodeAudioGlobals();
