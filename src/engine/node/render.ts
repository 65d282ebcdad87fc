/**
 * Offline rendering, faster than real time, through the same windowed scheduler
 * as real time: the engine is asked for at most one window ahead, and rendering
 * pauses at each window edge with OfflineAudioContext.suspend()/resume().
 *
 * The reliable pattern (ARCHITECTURE.md asked for one): every suspend point is
 * registered before rendering starts (registering each from the previous one's
 * callback threw InvalidStateError), points sit on 128-frame render quanta, and
 * Tone runs on a Tone.OfflineContext wrapping our raw context (so Tone treats the
 * context as running, and its clock is ours: we set its time at each window).
 */
import './audioGlobals.ts';
import * as Tone from 'tone';
import { garbageCollector } from './gc.ts';
import { Engine, type EngineEvent } from '../audio/Engine.ts';
import { liveSourceCount } from '../audio/toneFixes.ts';
import type { Patch } from '../core/patchSchema.ts';
import type { TimedValue } from '../core/dataSeries.ts';
import { Timeline } from '../core/timeline.ts';

/** Data for one stream, already placed on the render's timeline. */
export interface StreamFeed {
  stream: string;
  points: TimedValue[];
}

/** Something to do at a time during a render (tests and tools: swap a patch, change scene). */
export interface RenderAction {
  time: number;
  run: (engine: Engine, time: number, raw: OfflineAudioContext) => void;
  /**
   * Run when the render reaches `time` (on a suspend point of its own) rather
   * than at the start of the scheduler window that holds it, up to a window
   * early. For patch swaps: a graph built a window early lives that much
   * longer, and a burst of swaps then keeps dozens of graphs alive at once
   * (see {@link RenderOptions.actions}).
   */
  exact?: boolean;
}

export interface RenderOptions {
  patch: Patch;
  /** Seconds of audio. */
  duration: number;
  sampleRate?: number;
  channels?: number;
  /** Overrides the patch seed. */
  seed?: number;
  samples?: ReadonlyMap<string, AudioBuffer>;
  data?: StreamFeed[];
  /**
   * Timed actions. Mark patch swaps `exact`: node-web-audio-api's node table
   * grows to the most nodes ever alive at once and is never compacted, and a
   * graph built after such a peak renders slower (measured with plain
   * node-web-audio-api: 1.6x after a peak of 54,000 nodes, none at 2,700). With
   * 0.25 s windows, 300 swaps 20 ms apart kept about 40 patch graphs alive.
   */
  actions?: RenderAction[];
  /** Scheduler window in seconds (default 0.25). */
  windowSeconds?: number;
  onProgress?: (renderedSeconds: number, totalSeconds: number) => void;
  /**
   * Awaited at each window edge before rendering goes on (after the engine has
   * scheduled the next window): lets a caller take turns between renders or
   * throttle one. Benchmarks use it to render two contexts one at a time.
   */
  pace?: (renderedSeconds: number) => void | Promise<void>;
  onEvent?: (e: EngineEvent) => void;
  /**
   * Called before the render starts over (see {@link MAX_RENDER_ATTEMPTS}):
   * events and actions of the abandoned attempt have already run, so a caller
   * that collects them starts afresh here.
   */
  onRestart?: (attempt: number) => void;
}

export interface RenderResult {
  channels: Float32Array[];
  sampleRate: number;
  wallSeconds: number;
  /** Audio seconds per wall second. */
  speed: number;
  errors: unknown[];
  notes: number;
  /** Source nodes still started and not stopped after the engine was disposed. */
  liveSourcesAfterDispose: number;
  /** Renders started: more than 1 when suspend points were refused and it started over. */
  attempts: number;
}

/**
 * Renders tried before a render with missed windows is given up (and returned
 * with an error). node-web-audio-api can refuse a suspend point registered
 * before rendering (see below); a window without its suspend point is never
 * scheduled, and its notes are lost. Seen under load: in 2 of 12 runs of the
 * test suite one render lost a window. Rendering again from the start gives
 * the same samples.
 */
export const MAX_RENDER_ATTEMPTS = 3;

/** Renders a patch offline. Deterministic: same patch, data, seed and options → same samples. */
export async function renderOffline(opts: RenderOptions): Promise<RenderResult> {
  for (let attempt = 1; ; attempt++) {
    const { result, missedWindows } = await renderOnce(opts);
    if (!missedWindows || attempt >= MAX_RENDER_ATTEMPTS) {
      if (missedWindows) result.errors.push(new Error(`${missedWindows} scheduler windows were missed (suspend points not registered in time), in each of ${attempt} renders`));
      return { ...result, attempts: attempt };
    }
    opts.onRestart?.(attempt + 1);
  }
}

async function renderOnce(opts: RenderOptions): Promise<{ result: Omit<RenderResult, 'attempts'>; missedWindows: number }> {
  const sampleRate = opts.sampleRate ?? 48000;
  const length = Math.max(128, Math.round(opts.duration * sampleRate));
  const raw = new OfflineAudioContext({ numberOfChannels: opts.channels ?? 2, length, sampleRate });
  const ctx = new Tone.OfflineContext(raw as unknown as OfflineAudioContext);
  Tone.setContext(ctx);
  const errors: unknown[] = [];
  const engine = new Engine({
    context: ctx,
    seed: opts.seed,
    samples: (p) => opts.samples?.get(p),
    onEvent: opts.onEvent,
    onError: (e) => errors.push(e),
    collectGarbage: garbageCollector(),
  });
  engine.load(opts.patch, { time: 0 });

  const quantum = 128 / sampleRate;
  // An exact action waits for the last render quantum that starts at or before its time.
  const quantumOf = (time: number) => Math.floor(time / quantum + 1e-9) * quantum;
  // One time-ordered queue of data points and actions, interleaved with advancing,
  // so a value at t changes only what comes after t.
  const timeline = new Timeline<{ run: () => void; at?: number }>([
    ...(opts.data ?? []).flatMap((feed) =>
      feed.points.map((p) => ({ time: p.time, value: { run: () => void engine.update(feed.stream, p.value, p.time, p.dataTime) } })),
    ),
    ...(opts.actions ?? []).map((a) => ({ time: a.time, value: { run: () => a.run(engine, a.time, raw), at: a.exact ? quantumOf(a.time) : undefined } })),
  ]);
  let position = 0;
  const step = (until: number) => {
    timeline.drain(
      until,
      (item) => {
        engine.advance(item.time);
        try {
          item.value.run();
        } catch (e) {
          errors.push(e);
        }
      },
      (item) => item.value.at === undefined || item.value.at <= position + 1e-9,
    );
    engine.advance(until);
  };

  const win = Math.max(1, Math.round((opts.windowSeconds ?? 0.25) / quantum)) * quantum;
  const internal = ctx as unknown as { _currentTime: number };
  let horizon = win;
  step(horizon);
  let missedWindows = 0;
  const windowEdges = Array.from({ length: Math.max(0, Math.ceil(opts.duration / win) - 1) }, (_, i) => (i + 1) * win).filter((t) => t < opts.duration);
  const exactPoints = (opts.actions ?? []).filter((a) => a.exact).map((a) => quantumOf(a.time)).filter((t) => t > 0 && t < opts.duration);
  // Keyed by frame: an action on a window edge shares its suspend point (one per frame is allowed).
  const points = new Map<number, number>();
  for (const t of exactPoints) points.set(Math.round(t * sampleRate), t);
  for (const t of windowEdges) points.set(Math.round(t * sampleRate), t);
  const edges = new Set(windowEdges);
  for (const t of [...points.values()].sort((a, b) => a - b)) {
    raw.suspend(t).then(
      () => {
        internal._currentTime = t;
        position = t;
        // A window edge schedules one window further; a point of its own only runs its actions.
        if (edges.has(t)) horizon = t + win;
        step(horizon);
        opts.onProgress?.(t, opts.duration);
        const paced = edges.has(t) ? opts.pace?.(t) : undefined;
        return paced ? paced.then(() => raw.resume()) : raw.resume();
      },
      () => missedWindows++,
    );
  }
  // node-web-audio-api registers a suspend point when its native future is first
  // polled, on its own thread pool, and refuses any once rendering has started
  // (registering from a callback always fails; starting in the same turn lost 12
  // of 319 points, and even after a macrotask some were lost under load). A marker
  // at the render's end is refused as soon as it is polled: its rejection means
  // the points queued before it have been polled and registered.
  await raw.suspend(length / sampleRate).catch(() => undefined);
  await new Promise((resolve) => setImmediate(resolve));
  const started = performance.now();
  const buffer = await raw.startRendering();
  const wallSeconds = (performance.now() - started) / 1000;
  opts.onProgress?.(opts.duration, opts.duration);
  internal._currentTime = opts.duration;
  const notes = engine.stats.notes;
  engine.dispose();
  const channels: Float32Array[] = [];
  for (let c = 0; c < buffer.numberOfChannels; c++) channels.push(buffer.getChannelData(c).slice());
  const result: Omit<RenderResult, 'attempts'> = {
    channels,
    sampleRate,
    wallSeconds,
    speed: opts.duration / Math.max(wallSeconds, 1e-9),
    errors,
    notes,
    liveSourcesAfterDispose: liveSourceCount(raw),
  };
  try {
    ctx.dispose();
  } catch {
    // Tone's dispose of an offline context that has finished may throw; nothing is left to free
  }
  return { result, missedWindows };
}
