/**
 * Node audio globals: what a plain Node process lacks for Tone.js (and
 * standardized-audio-context, under it) to run on node-web-audio-api. Tone and
 * standardized-audio-context read some of these when they are first imported,
 * so they are installed by ./installGlobals.ts, which every Node entry point
 * imports before anything imports `tone` (vitest's setupFiles too).
 *
 * One entry per workaround; platform.test.ts runs Tone without each one in a
 * child process and checks the failure it prevents still happens (when it no
 * longer does, the entry can go), and with all of them, that it works.
 */
import * as nodeWebAudioApi from 'node-web-audio-api';

type Globals = Record<string, unknown>;

/** The workarounds by name, each with the failure it prevents. */
export const NODE_AUDIO_GLOBALS = {
  /**
   * The Web Audio classes as globals (AudioContext, AudioParam, …): Tone and
   * standardized-audio-context find them there. Without: Tone's Param refuses
   * node-web-audio-api's params ("param must be an AudioParam").
   * AudioContext/OfflineAudioContext replace any earlier ones (Node has none).
   */
  webAudioClasses(g: Globals): void {
    for (const [name, value] of Object.entries(nodeWebAudioApi)) {
      if (!(name in g) || name === 'AudioContext' || name === 'OfflineAudioContext') g[name] = value;
    }
  },
  /** `window`: standardized-audio-context tests its features on it. Without: "param must be an AudioParam". */
  window(g: Globals): void {
    g.window ??= globalThis;
  },
  /**
   * `self` exposing BaseAudioContext and AudioWorkletNode: Tone picks the native
   * AudioWorkletNode when `context instanceof self.BaseAudioContext`
   * (Tonejs/Tone.js#1131, for #1038). Without: a worklet-based Tone class
   * (BitCrusher, …) throws "Right-hand side of 'instanceof' is not an object".
   */
  self(g: Globals): void {
    g.self ??= {
      BaseAudioContext: nodeWebAudioApi.BaseAudioContext,
      AudioWorkletNode: nodeWebAudioApi.AudioWorkletNode,
      TONE_SILENCE_LOGGING: true,
    };
  },
  /**
   * `isSecureContext`: Tone offers AudioWorklets only in a secure context (the
   * Web platform's rule; WebAudio/web-audio-api#1436). Without: "AudioWorkletNode
   * only works in a secure context (https or localhost)".
   */
  isSecureContext(g: Globals): void {
    g.isSecureContext = true;
  },
  /**
   * `Promise.withResolvers` (ES2024; Node 22+): node-web-audio-api's
   * AudioWorklet.addModule calls it. Without, on Node 20: "Promise.withResolvers
   * is not a function" when a worklet module loads.
   */
  promiseWithResolvers(): void {
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
  },
  /**
   * requestAnimationFrame/cancelAnimationFrame: Tone.Draw's loop (Draw.schedule)
   * and its dispose (Context.close) call them. Without: "requestAnimationFrame
   * is not defined".
   */
  animationFrame(g: Globals): void {
    g.requestAnimationFrame ??= (cb: (t: number) => void) => setTimeout(() => cb(performance.now()), 16) as unknown as number;
    g.cancelAnimationFrame ??= (id: number) => clearTimeout(id as unknown as NodeJS.Timeout);
  },
} as const;

/** A workaround of {@link NODE_AUDIO_GLOBALS}, by name. */
export type NodeAudioGlobal = keyof typeof NODE_AUDIO_GLOBALS;

/**
 * Installs the globals once (later calls do nothing); `without` leaves some out
 * (tests that show what each one prevents). Returns the node-web-audio-api module.
 */
export function installNodeAudioGlobals(options: { without?: readonly NodeAudioGlobal[] } = {}): typeof nodeWebAudioApi {
  const g = globalThis as unknown as Globals;
  if (g.__ecosymAudioGlobals) return nodeWebAudioApi;
  for (const [name, install] of Object.entries(NODE_AUDIO_GLOBALS)) {
    if (!options.without?.includes(name as NodeAudioGlobal)) install(g);
  }
  g.TONE_SILENCE_LOGGING = true; // no banner on stdout: CLI output stays machine-readable
  g.__ecosymAudioGlobals = true;
  return nodeWebAudioApi;
}
