/**
 * Real-time playback in Node: an AudioContext on the default device, or with
 * `sink: 'none'` a context whose clock runs at wall speed with no device (for
 * machines without a sound card, tests and CI). Feeds data on the driver's tick.
 */
import { nodePlatform } from './platform/index.ts';
import * as Tone from 'tone';
import { clockFor } from './clock.ts';
import { Engine, type EngineOptions } from '../audio/Engine.ts';
import { RealtimeDriver } from '../audio/RealtimeDriver.ts';
import { Timeline } from '../core/timeline.ts';
import type { Patch } from '../core/patchSchema.ts';
import type { Clock } from '../core/clock.ts';
import type { StreamFeed } from './render.ts';
import { resolveLayout } from '../core/spatial.ts';

/** Raised when no audio output device can be opened. */
export class NoAudioDeviceError extends Error {
  constructor(cause: unknown) {
    super(`no audio output device could be opened (${(cause as Error)?.message ?? String(cause)})`);
    this.name = 'NoAudioDeviceError';
  }
}

export interface PlayOptions {
  patch: Patch;
  sink: 'default' | 'none';
  /** An output device's id (from `mediaDevices.enumerateDevices()`), instead of the default one (with sink `default`). */
  deviceId?: string;
  /** The context's sample rate (default: the device's, or 44100 with no device). */
  sampleRate?: number;
  seed?: number;
  samples?: ReadonlyMap<string, AudioBuffer>;
  /** Data placed on the timeline from time 0; `loopSeconds` repeats it. */
  data?: StreamFeed[];
  loopSeconds?: number;
  lookAhead?: number;
  onEvent?: EngineOptions['onEvent'];
  onError?: (e: unknown) => void;
  /** The output ceiling, dBFS sample peak (default -1): nothing can exceed it. */
  ceilingDb?: number;
  /** A level cap below the ceiling from the start, dBFS sample peak (an installation's quiet hours). */
  levelCapDb?: number;
  /** Seconds over which the output fades in from silence (default 0: at once). */
  fadeIn?: number;
}

/** A running real-time player. */
export interface Player {
  engine: Engine;
  driver: RealtimeDriver;
  raw: AudioContext;
  /** The context's clock service: wall ↔ audio time, and timers on it. */
  clock: Clock;
  stop(): Promise<void>;
}

/**
 * Opens a real-time context (throws NoAudioDeviceError when there is no device:
 * node-web-audio-api's constructor throws then, ircam-ismm/node-web-audio-api#150;
 * 2.2.0 says "cpal backend error during default_output_config: DeviceUnavailable…").
 */
export function openRealtimeContext(sink: 'default' | 'none', opts: { deviceId?: string; sampleRate?: number } = {}): AudioContext {
  const rate = opts.sampleRate === undefined ? {} : { sampleRate: opts.sampleRate };
  try {
    return sink === 'none'
      ? new AudioContext({ sinkId: { type: 'none' }, latencyHint: 'playback', ...rate } as unknown as AudioContextOptions)
      : new AudioContext({ latencyHint: 'interactive', ...rate, ...(opts.deviceId === undefined ? {} : { sinkId: opts.deviceId }) } as unknown as AudioContextOptions);
  } catch (e) {
    throw new NoAudioDeviceError(e);
  }
}

/**
 * Seconds a voice's instrument may go unused in live play before it is
 * disposed (VoiceTiming.reclaimAfter in src/engine/audio/voices.ts): long
 * enough that a voice playing a phrase every few bars keeps its instruments,
 * short enough that a chord or an alarm heard once stops costing render time.
 */
export const RECLAIM_IDLE_SECONDS = 20;

/** Starts playing a patch in real time. */
export async function startPlayer(opts: PlayOptions): Promise<Player> {
  const raw = openRealtimeContext(opts.sink, { deviceId: opts.deviceId, sampleRate: opts.sampleRate });
  // A multichannel patch opens the device with as many channels as it has (up to the
  // device's); the engine folds the layout down to stereo when the device has fewer.
  const wanted = resolveLayout(opts.patch.output).channels;
  if (wanted > 2) raw.destination.channelCount = Math.min(wanted, raw.destination.maxChannelCount);
  await raw.resume();
  const ctx = new Tone.Context({ context: raw, clockSource: 'offline', lookAhead: 0 } as Partial<Tone.ContextOptions>);
  Tone.setContext(ctx);
  const engine = new Engine({
    context: ctx,
    seed: opts.seed,
    samples: (p) => opts.samples?.get(p),
    onEvent: opts.onEvent,
    onError: opts.onError,
    platform: nodePlatform,
    ceilingDb: opts.ceilingDb,
    timing: { reclaimAfter: RECLAIM_IDLE_SECONDS },
  });
  const start = raw.currentTime + 0.05;
  if (opts.levelCapDb !== undefined) engine.master.setCap(opts.levelCapDb, raw.currentTime, 0.001);
  if (opts.fadeIn) engine.master.fadeIn(opts.fadeIn, raw.currentTime);
  engine.load(opts.patch, { time: start });
  // Each loop moves the data's own clock on by the series' span (plus one step),
  // so auto-range windows see time keep going forward.
  const dataSpan = (points: StreamFeed['points']) => {
    const first = points[0]?.dataTime;
    const last = points[points.length - 1]?.dataTime;
    return first === undefined || last === undefined || points.length < 2 ? 0 : (last - first) * (points.length / (points.length - 1));
  };
  const place = (offset: number, loopIndex: number) =>
    new Timeline(
      (opts.data ?? []).flatMap((f) => {
        const shift = loopIndex * dataSpan(f.points);
        return f.points.map((p) => ({
          time: offset + p.time,
          value: { stream: f.stream, value: p.value, dataTime: p.dataTime === undefined ? undefined : p.dataTime + shift },
        }));
      }),
    );
  let loop = 0;
  let timeline = place(start, 0);
  const clock = clockFor(ctx);
  const driver = new RealtimeDriver(engine, {
    clock,
    lookAhead: opts.lookAhead ?? 0.1,
    onTick: (_now, until) => {
      timeline.drain(until, (item) => {
        engine.advance(item.time);
        engine.update(item.value.stream, item.value.value, item.time, item.value.dataTime);
      });
      if (timeline.done && opts.loopSeconds && timeline.length > 0) timeline = place(start + ++loop * opts.loopSeconds, loop);
    },
  });
  driver.start();
  return {
    engine,
    driver,
    raw,
    clock,
    async stop() {
      driver.stop();
      // whatever is still scheduled on it would run against a closed context
      clock.dispose();
      engine.dispose();
      // Tone's close() closes the native context once and releases its own parts.
      // (Calling Tone's dispose() as well started a second, unawaited close that
      // raced ours: node-web-audio-api then panicked in an unhandled rejection.)
      await ctx.close().catch(() => undefined);
    },
  };
}
