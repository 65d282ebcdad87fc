/**
 * Offline rendering, faster than real time, through the same windowed scheduler
 * as real time: the engine is asked for at most one window ahead, and rendering
 * pauses at each window edge with OfflineAudioContext.suspend()/resume().
 *
 * The reliable pattern (docs/ARCHITECTURE.md asked for one): every suspend point is
 * registered before rendering starts (registering each from the previous one's
 * callback threw InvalidStateError), points sit on 128-frame render quanta, and
 * Tone runs on a Tone.OfflineContext wrapping our raw context (so Tone treats the
 * context as running, and its clock is ours: we set its time at each window).
 *
 * One context renders the whole piece. Rendering in segments (a fresh context per
 * segment, started a pre-roll early, the pre-roll thrown away) is not done. It
 * gives the same samples only if the engine can start at a piece time other than
 * its context's 0 (today the sequencer's steps, and so its step-keyed randomness,
 * count from the context's start) and nothing remembers further back than the
 * pre-roll: oscillators started once and never restarted (LFOs; a held voice
 * whose notes do not change), noise loops, the conditioners' smoothing and
 * auto-range windows, thresholds' holds. OscillatorNode takes no start phase, so
 * an oscillator running since 0 cannot be carried into a new context.
 */
import { nodePlatform } from './platform/index.ts';
import { suspendPointsRegistered } from './platform/suspend.ts';
import * as Tone from 'tone';
import { Engine, type EngineEvent } from '../audio/Engine.ts';
import { liveSourceCount, setOfflineClock } from '../audio/platform/index.ts';
import type { Patch } from '../core/patchSchema.ts';
import type { TimedValue } from '../core/dataSeries.ts';
import { Timeline } from '../core/timeline.ts';
import { isPositioned, outputPlan, resolveLayout } from '../core/spatial.ts';

/** Data for one stream, already placed on the render's timeline. */
export interface StreamFeed {
  stream: string;
  points: TimedValue[];
}

/** Something to do at a time during a render (tests and tools: swap a patch, change scene). */
export interface RenderAction {
  time: number;
  /**
   * Acts on the engine. It runs again if the render starts over (see
   * {@link MAX_RENDER_ATTEMPTS}), so what the caller keeps goes in the function
   * it may return: that is called once, after the render, for the render whose
   * samples are returned, in order with the events.
   *
   * @example
   *   run: (engine) => { const v = engine.values(); return () => seen.push(v); }
   */
  run: (engine: Engine, time: number, raw: OfflineAudioContext) => void | (() => void);
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
  /**
   * Output channels (default: the patch's `output` layout's, 2 without one).
   * Fewer than the layout's folds it down to stereo (core/spatial.ts outputPlan).
   */
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
   * Called once per edge, in time order, even when the render starts over.
   */
  pace?: (renderedSeconds: number) => void | Promise<void>;
  /**
   * The engine's events (notes, beats, scenes…), called after the render, in
   * order, for the render whose samples are returned (not for one abandoned
   * when it started over).
   */
  onEvent?: (e: EngineEvent) => void;
  /**
   * Takes the audio in blocks of at most {@link BLOCK_FRAMES} frames, in order
   * (one array per channel, reused between calls: copy what you keep), instead of
   * {@link RenderResult.channels}, which is then empty: a caller that writes as it
   * goes never holds a second copy of the piece in JavaScript.
   */
  onBlock?: (channels: Float32Array[], startFrame: number, frames: number) => void;
  /**
   * Also records each voice (dry: its level and pan, no bus) and each bus's
   * return as a stem, before the master chain: true for all of them
   * ({@link stemNames}), or a list of names. In a positioned patch (one with an
   * `output` section) a stem is its voice or bus after its position, with as many
   * channels as the mix's layout (folded down: 2), so the stems sum to what
   * reaches the master; otherwise a stem is stereo. See {@link stemWidth}. The
   * audio then holds the mix's channels first, then each stem's, in the order of
   * {@link RenderResult.stems}. At most 32 channels in all: a caller with more
   * renders the stems in groups (the render is deterministic).
   */
  stems?: boolean | readonly string[];
}

/** Channels of each stem: the mix's layout's (as planned for `mixChannels`) in a positioned patch, else 2. */
export function stemWidth(patch: Patch, mixChannels: number): number {
  return isPositioned(patch) ? outputPlan(resolveLayout(patch.output), mixChannels).channels : 2;
}

/** Frames per block given to {@link RenderOptions.onBlock}. */
export const BLOCK_FRAMES = 1 << 16;

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
  /** With {@link RenderOptions.stems}: the stems' names, in channel order after the mix's. */
  stems?: string[];
}

/** The stems a patch has (voices, then buses), for checking the channel count before rendering. */
export function stemNames(patch: Patch): string[] {
  return [...Object.keys(patch.voices), ...Object.keys(patch.buses)];
}

/**
 * Renders tried before a render with missed windows is given up (and returned
 * with an error). node-web-audio-api refuses a suspend point asked for once
 * rendering has begun, and registers those asked for before lazily (see
 * below); a window without its suspend point is never scheduled, and its notes
 * are lost. Seen under load: in 2 of 12 runs of the test suite one render lost
 * a window. Rendering again from the start gives the same samples.
 *
 * A restart is invisible to callers: events and what actions return are kept
 * per render and delivered only for the one returned, progress and pacing only
 * ever move forward (tests/support/faults.ts makes one happen).
 */
export const MAX_RENDER_ATTEMPTS = 3;

/** What the caller has seen so far, across the renders of one renderOffline. */
interface Shown {
  progress: number;
  paced: number;
}

/** Renders a patch offline. Deterministic: same patch, data, seed and options → same samples. */
export async function renderOffline(opts: RenderOptions): Promise<RenderResult> {
  const shown: Shown = { progress: 0, paced: -Infinity };
  for (let attempt = 1; ; attempt++) {
    const { result, missedPoints, journal, buffer } = await renderOnce(opts, shown, attempt === MAX_RENDER_ATTEMPTS);
    if (missedPoints && attempt < MAX_RENDER_ATTEMPTS) continue;
    if (missedPoints) result.errors.push(new Error(`${missedPoints} scheduler windows were missed (suspend points not registered in time), in each of ${attempt} renders`));
    for (const deliver of journal) {
      try {
        deliver();
      } catch (e) {
        result.errors.push(e);
      }
    }
    if (opts.onBlock) deliverBlocks(buffer, opts.onBlock);
    opts.onProgress?.(opts.duration, opts.duration);
    return result;
  }
}

/**
 * One render. Events and action results go to `journal`, for the caller once
 * this render is known good. Once a suspend point is missed, a render that is
 * not the `last` is doomed (it will start over): from then on it schedules
 * nothing and tells the caller nothing, and only finishes (an offline render
 * cannot be stopped). The last goes on as well as it can.
 */
async function renderOnce(
  opts: RenderOptions,
  shown: Shown,
  last: boolean,
): Promise<{ result: RenderResult; missedPoints: number; journal: Array<() => void>; buffer: AudioBuffer }> {
  const sampleRate = opts.sampleRate ?? 48000;
  const length = Math.max(128, Math.round(opts.duration * sampleRate));
  const mixChannels = opts.channels ?? resolveLayout(opts.patch.output).channels;
  const all = stemNames(opts.patch);
  const stems = opts.stems === true ? all : opts.stems ? [...opts.stems] : [];
  const unknown = stems.find((n) => !all.includes(n));
  if (unknown !== undefined) throw new Error(`stems: no voice or bus "${unknown}" (voices and buses: ${all.join(', ')})`);
  const width = stemWidth(opts.patch, mixChannels);
  const total = mixChannels + width * stems.length;
  if (total > 32) throw new Error(`stems: ${stems.length} stems of ${width} channels make ${total} channels with the mix's ${mixChannels}; a render holds at most 32`);
  const raw = new OfflineAudioContext({ numberOfChannels: total, length, sampleRate });
  const ctx = new Tone.OfflineContext(raw as unknown as OfflineAudioContext);
  // With stems, the master ends in the mix's channels of a merger that also takes each stem.
  let destination: AudioNode | undefined;
  let merger: ChannelMergerNode | undefined;
  const toMerger = (node: AudioNode, channels: number, first: number) => {
    const fit = raw.createGain();
    fit.channelCount = channels;
    fit.channelCountMode = 'explicit';
    const split = raw.createChannelSplitter(channels);
    node.connect(fit).connect(split);
    for (let c = 0; c < channels; c++) split.connect(merger!, c, first + c);
    return fit;
  };
  if (stems.length) {
    merger = raw.createChannelMerger(total);
    merger.connect(raw.destination);
    destination = raw.createGain();
    destination.channelCount = mixChannels;
    destination.channelCountMode = 'explicit';
    toMerger(destination, mixChannels, 0);
  }
  Tone.setContext(ctx);
  const errors: unknown[] = [];
  const journal: Array<() => void> = [];
  const onEvent = opts.onEvent;
  const engine = new Engine({
    context: ctx,
    seed: opts.seed,
    samples: (p) => opts.samples?.get(p),
    onEvent: onEvent && ((e) => void journal.push(() => onEvent(e))),
    onError: (e) => errors.push(e),
    platform: nodePlatform,
    destination,
  });
  engine.load(opts.patch, { time: 0 });
  if (stems.length) {
    const taps = engine.runtime!.stemTaps();
    stems.forEach((name, k) => toMerger(taps.get(name)!, width, mixChannels + width * k));
  }

  const quantum = 128 / sampleRate;
  // An exact action waits for the last render quantum that starts at or before its time.
  const quantumOf = (time: number) => Math.floor(time / quantum + 1e-9) * quantum;
  // One time-ordered queue of data points and actions, interleaved with advancing,
  // so a value at t changes only what comes after t.
  const timeline = new Timeline<{ run: () => void; at?: number }>([
    ...(opts.data ?? []).flatMap((feed) =>
      feed.points.map((p) => ({ time: p.time, value: { run: () => void engine.update(feed.stream, p.value, p.time, p.dataTime) } })),
    ),
    ...(opts.actions ?? []).map((a) => ({
      time: a.time,
      value: {
        run: () => {
          const deliver = a.run(engine, a.time, raw);
          if (typeof deliver === 'function') journal.push(deliver);
        },
        at: a.exact ? quantumOf(a.time) : undefined,
      },
    })),
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
  let horizon = win;
  step(horizon);
  const windowEdges = Array.from({ length: Math.max(0, Math.ceil(opts.duration / win) - 1) }, (_, i) => (i + 1) * win).filter((t) => t < opts.duration);
  const exactPoints = (opts.actions ?? []).filter((a) => a.exact).map((a) => quantumOf(a.time)).filter((t) => t > 0 && t < opts.duration);
  // Keyed by frame: an action on a window edge shares its suspend point (one per frame is allowed).
  const points = new Map<number, number>();
  for (const t of exactPoints) points.set(Math.round(t * sampleRate), t);
  for (const t of windowEdges) points.set(Math.round(t * sampleRate), t);
  const edges = new Set(windowEdges);
  const sorted = [...points.values()].sort((a, b) => a - b);
  let reached = 0;
  let doomed = false;
  sorted.forEach((t, index) => {
    raw.suspend(t).then(
      () => {
        // Points are reached in time order: one before this not reached was refused.
        doomed ||= reached !== index;
        reached++;
        if (doomed && !last) return raw.resume();
        setOfflineClock(ctx, t);
        position = t;
        // A window edge schedules one window further; a point of its own only runs its actions.
        if (edges.has(t)) horizon = t + win;
        step(horizon);
        if (t > shown.progress) {
          shown.progress = t;
          opts.onProgress?.(t, opts.duration);
        }
        // An edge paced by an earlier render that started over is not paced again.
        const pace = edges.has(t) && t > shown.paced ? opts.pace : undefined;
        if (pace) shown.paced = t;
        const paced = pace?.(t);
        return paced ? paced.then(() => raw.resume()) : raw.resume();
      },
      () => void (doomed = true),
    );
  });
  await suspendPointsRegistered(raw);
  const started = performance.now();
  const buffer = await raw.startRendering();
  const wallSeconds = (performance.now() - started) / 1000;
  setOfflineClock(ctx, opts.duration);
  const notes = engine.stats.notes;
  engine.dispose();
  const channels: Float32Array[] = [];
  if (!opts.onBlock) for (let c = 0; c < buffer.numberOfChannels; c++) channels.push(buffer.getChannelData(c).slice());
  const result: RenderResult = {
    channels,
    sampleRate,
    wallSeconds,
    speed: opts.duration / Math.max(wallSeconds, 1e-9),
    errors,
    notes,
    liveSourcesAfterDispose: liveSourceCount(raw),
    ...(opts.stems && { stems }),
  };
  try {
    ctx.dispose();
  } catch {
    // Tone's dispose of an offline context that has finished may throw; nothing is left to free
  }
  return { result, missedPoints: sorted.length - reached, journal, buffer };
}

/** Hands a rendered buffer to `onBlock` a block at a time, through one reused block. */
function deliverBlocks(buffer: AudioBuffer, onBlock: NonNullable<RenderOptions['onBlock']>): void {
  const size = Math.min(BLOCK_FRAMES, buffer.length);
  const block = Array.from({ length: buffer.numberOfChannels }, () => new Float32Array(size));
  for (let start = 0; start < buffer.length; start += size) {
    const frames = Math.min(size, buffer.length - start);
    const view = frames === size ? block : block.map((b) => b.subarray(0, frames));
    for (let c = 0; c < view.length; c++) buffer.copyFromChannel(view[c]!, c, start);
    onBlock(view, start, frames);
  }
}
