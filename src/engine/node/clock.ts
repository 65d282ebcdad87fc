/**
 * The clock service in Node (src/engine/core/clock.ts): performance.now() for
 * wall time, setTimeout for the one timer, and one {@link Clock} per audio
 * context, so every bridge on an engine (MIDI, OSC out, DMX, meters) converts
 * wall ↔ audio time with the same estimate and shares one timer.
 */
import { Clock, type AudioTimeSource, type ClockHost } from '../core/clock.ts';

/** Wall time from performance.now(), timers from setTimeout. */
export const nodeClockHost: ClockHost = {
  wallMs: () => performance.now(),
  epochOriginMs: performance.timeOrigin,
  setTimer: (fn, ms) => setTimeout(fn, ms),
  clearTimer: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/** A Tone context or an AudioContext: its currentTime, and the native context's outputLatency. */
interface ContextLike {
  readonly currentTime: number;
  readonly rawContext?: object;
}

const clocks = new WeakMap<object, Clock>();

/** The clock of an audio context (an engine's `context`), made on first use and shared after. */
export function clockFor(context: ContextLike): Clock {
  let clock = clocks.get(context);
  if (!clock) {
    const source: AudioTimeSource = {
      get currentTime() {
        return context.currentTime;
      },
      get outputLatency() {
        // an AudioContext has it; a Tone context has it on its native context; an offline one has none
        const c = (context.rawContext ?? context) as { outputLatency?: number };
        return c.outputLatency;
      },
    };
    clock = new Clock(nodeClockHost, source);
    clocks.set(context, clock);
  }
  return clock;
}

let wall: Clock | undefined;

/** A clock with no audio behind it (audio time = wall seconds): paced sources, which run with or without an engine. */
export function wallClock(): Clock {
  return (wall ??= new Clock(nodeClockHost));
}
