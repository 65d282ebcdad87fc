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
 * Long renders go in segments (segmentPlan, RenderOptions.segmentSeconds;
 * `ecosym render --segment`): node-web-audio-api holds a context's whole output
 * until the end (peak RSS grew ~23.5 MB per rendered stereo minute at 48 kHz),
 * so each segment is a fresh OfflineAudioContext, dropped before the next, and
 * memory is bounded by the segment. A segment's context starts a pre-roll
 * before its output (preRollSeconds: twice the longest note, plus the longest
 * reverb or delay tail to −100 dB); the pre-roll is thrown away. The samples
 * equal the one-piece render's to float rounding (render.segment.test.ts:
 * below −90 dBFS, measured about −120), because:
 * - the engine keeps piece time: its context's time 0 is piece time `origin`
 *   (platform/origin.ts moves native automation and source times by it), so the
 *   sequencer's steps, their seeded chance and the data keep the piece's clock;
 * - it replays the piece from 0 to the origin, window by window as in one piece,
 *   without sound: conditioners, thresholds, scenes, tempo and the voice pools'
 *   slots reach the origin as they were; native automation due before the origin
 *   is kept as each param's curve and written at time 0 as it stands then;
 * - voices start their oscillators per note in renders (also in one piece), a
 *   stolen slot's too, so no oscillator's phase comes from before the pre-roll;
 *   the noise loop starts at its offset into its buffer.
 * Not cut (one piece, and the plan says why): renders with timed actions, and
 * patches with a chorus bus (its LFO runs from the start).
 */
import { nodePlatform } from './platform/index.ts';
import { suspendPointsRegistered } from './platform/suspend.ts';
import { releaseOfflineContext } from './platform/release.ts';
import * as Tone from 'tone';
import { Engine, type EngineEvent } from '../audio/Engine.ts';
import { liveSourceCount, setOfflineClock } from '../audio/platform/index.ts';
import type { Patch } from '../core/patchSchema.ts';
import type { TimedValue } from '../core/dataSeries.ts';
import { Timeline } from '../core/timeline.ts';
import { SUBDIVISIONS, stepSeconds, type Subdivision } from '../core/rhythm.ts';
import { delaySeconds } from '../audio/buses.ts';
import { installTimeOrigin, TimeOrigin } from './platform/origin.ts';
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
  /**
   * Disposes instruments unused for this many seconds, as live play does
   * (VoiceTiming.reclaimAfter; src/engine/node/realtime.ts), to hear and test
   * that. Default: instruments are kept for the whole render. A render with it
   * is one piece (a later segment could not know which were reclaimed).
   */
  reclaimAfter?: number;
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
  /**
   * Renders in segments of about this many seconds (rounded to scheduler
   * windows), each in a fresh context started a pre-roll early
   * ({@link preRollSeconds}), so memory is bounded by the segment: same samples
   * as one piece. Default: {@link AUTO_SEGMENT_SECONDS} for renders longer
   * than {@link AUTO_SEGMENT_ABOVE}; 0 or Infinity: one piece. A render that
   * cannot be cut (see {@link segmentPlan}) is rendered in one piece.
   */
  segmentSeconds?: number;
  /** Told once before rendering: how the render is cut, or why it is not. */
  onPlan?: (plan: SegmentPlan) => void;
}

/** Segments of renders longer than {@link AUTO_SEGMENT_ABOVE} seconds, by default. */
export const AUTO_SEGMENT_SECONDS = 60;
export const AUTO_SEGMENT_ABOVE = 120;
/** The shortest pre-roll: filters and the master's compressor settle well within it. */
export const MIN_PRE_ROLL = 4;

/** How a render is cut: segment starts (piece seconds) and the pre-roll, or why it is one piece. */
export interface SegmentPlan {
  /** Piece time each segment's output starts at (the first 0); one entry: one piece. */
  starts: number[];
  preRoll: number;
  /** Why a render asked to be cut is one piece. */
  reason?: string;
}

/**
 * Seconds before a segment's start its context must begin so that the segment
 * sounds as in one piece: twice the longest note at the slowest tempo the
 * patch can reach plus its envelope, plus the longest bus tail (reverb decay to −100 dB,
 * delay echoes to −100 dB at the highest feedback it can reach), plus a second
 * for filters and the master's compressor to settle; at least {@link MIN_PRE_ROLL}.
 */
export function preRollSeconds(patch: Patch): number {
  const mapped = (to: (t: string) => boolean) => patch.mappings.filter((m) => to(m.to));
  let slowest = Math.min(patch.tempo, ...Object.values(patch.scenes).map((sc) => sc.tempo ?? patch.tempo));
  for (const m of mapped((t) => t === 'tempo')) slowest = Math.min(slowest, ...(m.range ?? [20, 20]));
  const step = stepSeconds(Math.max(20, slowest));
  let note = 0.5; // a triggered one-shot
  for (const v of Object.values(patch.voices)) {
    const every = SUBDIVISIONS[v.rhythm.every as Subdivision] ?? 16;
    const length = v.rhythm.hold ? 16 * patch.harmony.barsPerChord * step : v.notes.length * every * step;
    const env = v.envelope ?? {};
    note = Math.max(note, length + (env.attack ?? 0.01) + (env.decay ?? 0.1) + (env.release ?? 1));
  }
  let tail = 0;
  for (const [name, b] of Object.entries(patch.buses)) {
    if (b.type === 'reverb') tail = Math.max(tail, (b.preDelay ?? 0.02) + (Math.min(b.decay ?? 3, 12) * 100) / 60);
    if (b.type === 'delay') {
      const fb = mapped((t) => t === `${name}.feedback`).length ? 0.95 : (b.feedback ?? 0.35);
      const echo = Math.max(delaySeconds(b.time, slowest), 128 / 48000);
      tail = Math.max(tail, fb > 0 ? echo * Math.ceil(Math.log(1e-5) / Math.log(fb)) : echo);
    }
  }
  // Twice the longest note: a note begun in the pre-roll may take the pool slot of
  // one begun before it (not played in the segment) and sound otherwise till it ends.
  return Math.max(MIN_PRE_ROLL, 2 * note + tail + 1);
}

/** Scheduler window (seconds) of a render: a whole number of render quanta. */
function windowOf(opts: RenderOptions, sampleRate: number): number {
  const quantum = 128 / sampleRate;
  return Math.max(1, Math.round((opts.windowSeconds ?? 0.25) / quantum)) * quantum;
}

/**
 * How {@link renderOffline} cuts a render. Segments start on scheduler window
 * edges (so every segment schedules on the one-piece render's grid) and so do
 * their contexts. Not cut: renders with actions (they act on the engine and
 * its context as they please) and patches with a chorus bus (its LFO runs
 * from the start, and nothing gives it its phase in a later context).
 */
export function segmentPlan(opts: RenderOptions): SegmentPlan {
  const sampleRate = opts.sampleRate ?? 48000;
  const win = windowOf(opts, sampleRate);
  const wanted = opts.segmentSeconds ?? (opts.duration > AUTO_SEGMENT_ABOVE ? AUTO_SEGMENT_SECONDS : 0);
  const preRoll = Math.ceil(preRollSeconds(opts.patch) / win - 1e-9) * win;
  const one = (reason?: string): SegmentPlan => ({ starts: [0], preRoll, ...(reason && { reason }) });
  if (!(wanted > 0) || !Number.isFinite(wanted) || wanted >= opts.duration) return one();
  if (opts.actions?.length) return one('timed actions act on the engine and its context, which a segment cannot replay');
  if (opts.reclaimAfter !== undefined) return one('instruments are reclaimed while idle, as in live play, which a segment cannot replay');
  const chorus = Object.entries(opts.patch.buses).find(([, b]) => b.type === 'chorus');
  if (chorus) return one(`bus "${chorus[0]}" is a chorus, whose LFO cannot be given its phase in a later segment`);
  // As many segments as `wanted` makes, of equal length (no sliver at the end).
  const count = Math.ceil(opts.duration / wanted - 1e-9);
  const seg = Math.max(1, Math.ceil(opts.duration / count / win - 1e-9)) * win;
  const starts: number[] = [];
  for (let k = 0; k * seg < opts.duration - 1e-9; k++) starts.push(k * seg);
  return { starts, preRoll };
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

/** One segment of a render: its output starts at `from` (piece seconds), its context at `origin`; `to` is where it ends. */
interface Segment {
  origin: number;
  from: number;
  to: number;
  last: boolean;
}

/**
 * Renders a patch offline. Deterministic: same patch, data, seed and options →
 * same samples, whether in one piece or in segments of any length (see
 * {@link segmentPlan}; the test is in render.segment.test.ts).
 */
export async function renderOffline(opts: RenderOptions): Promise<RenderResult> {
  installTimeOrigin();
  const shown: Shown = { progress: 0, paced: -Infinity };
  const sampleRate = opts.sampleRate ?? 48000;
  const plan = segmentPlan(opts);
  opts.onPlan?.(plan);
  const total = Math.max(128, Math.round(opts.duration * sampleRate));
  let whole: Float32Array[] | undefined;
  let result: RenderResult | undefined;
  let wallSeconds = 0;
  let notes = 0;
  let live = 0;
  const errors: unknown[] = [];
  for (let k = 0; k < plan.starts.length; k++) {
    const from = plan.starts[k]!;
    const last = k === plan.starts.length - 1;
    const segment: Segment = { from, origin: Math.max(0, from - plan.preRoll), to: last ? opts.duration : plan.starts[k + 1]!, last };
    for (let attempt = 1; ; attempt++) {
      const once = await renderOnce(opts, segment, shown, attempt === MAX_RENDER_ATTEMPTS);
      if (once.missedPoints && attempt < MAX_RENDER_ATTEMPTS) continue;
      const r = once.result;
      if (once.missedPoints) r.errors.push(new Error(`${once.missedPoints} scheduler windows were missed (suspend points not registered in time), in each of ${attempt} renders`));
      for (const deliver of once.journal) {
        try {
          deliver();
        } catch (e) {
          r.errors.push(e);
        }
      }
      // The segment's own frames: after its pre-roll, up to the next segment's start.
      const skip = Math.round(segment.from * sampleRate) - Math.round(segment.origin * sampleRate);
      const frames = (last ? total : Math.round(segment.to * sampleRate)) - Math.round(segment.from * sampleRate);
      const first = Math.round(segment.from * sampleRate);
      if (opts.onBlock) deliverBlocks(once.buffer, opts.onBlock, skip, frames, first);
      else if (plan.starts.length === 1) whole = r.channels;
      else {
        whole ??= Array.from({ length: once.buffer.numberOfChannels }, () => new Float32Array(total));
        for (let c = 0; c < whole.length; c++) whole[c]!.set(once.buffer.getChannelData(c).subarray(skip, skip + frames), first);
      }
      wallSeconds += r.wallSeconds;
      notes += r.notes;
      live = Math.max(live, r.liveSourcesAfterDispose);
      errors.push(...r.errors);
      result = r;
      break;
    }
  }
  opts.onProgress?.(opts.duration, opts.duration);
  return {
    ...result!,
    channels: opts.onBlock ? [] : whole!,
    wallSeconds,
    speed: opts.duration / Math.max(wallSeconds, 1e-9),
    errors,
    notes,
    liveSourcesAfterDispose: live,
  };
}

/**
 * One render of a segment (the whole piece: origin 0, to the end). A segment
 * that starts later first replays the piece from 0 up to its origin without
 * sound (the engine's control state, the sequencer and the scheduler windows
 * as in one piece; native automation kept as curves, notes not played: see
 * platform/origin.ts), then renders from its origin. Events and action results
 * go to `journal` (only those of the segment's own time), for the caller once
 * this render is known good. Once a suspend point is missed, a render that is
 * not the `last` is doomed (it will start over): from then on it schedules
 * nothing and tells the caller nothing, and only finishes (an offline render
 * cannot be stopped). The last goes on as well as it can.
 */
async function renderOnce(
  opts: RenderOptions,
  segment: Segment,
  shown: Shown,
  last: boolean,
): Promise<{ result: RenderResult; missedPoints: number; journal: Array<() => void>; buffer: AudioBuffer }> {
  const sampleRate = opts.sampleRate ?? 48000;
  const { origin } = segment;
  const shift = new TimeOrigin(origin);
  const end = segment.last ? opts.duration : segment.to;
  const length = Math.max(128, Math.round(end * sampleRate) - Math.round(origin * sampleRate));
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
  // What happened before the segment's own time was told by the segment before.
  const own = (time: number) => time >= segment.from - 1e-9 && (segment.last || time < segment.to - 1e-9);
  let position = 0;
  let notes = 0;
  setOfflineClock(ctx, 0, origin);
  const engine = shift.run(
    () =>
      new Engine({
        context: ctx,
        seed: opts.seed,
        samples: (p) => opts.samples?.get(p),
        onEvent: (e) => {
          if (!own(e.time)) return;
          if (e.type === 'note') notes += e.notes.length;
          if (onEvent) journal.push(() => onEvent(e));
        },
        onError: (e) => void (position >= segment.from - 1e-9 && errors.push(e)),
        platform: nodePlatform,
        destination,
        // Per note, so a note sounds the same whenever its context began.
        timing: { origin, perNote: true, reclaimAfter: opts.reclaimAfter },
      }),
  );
  shift.run(() => engine.load(opts.patch, { time: 0 }));
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
  const step = (until: number) => {
    timeline.drain(
      until,
      (item) => {
        engine.advance(item.time);
        try {
          item.value.run();
        } catch (e) {
          if (position >= segment.from - 1e-9) errors.push(e);
        }
      },
      (item) => item.value.at === undefined || item.value.at <= position + 1e-9,
    );
    engine.advance(until);
  };

  const win = windowOf(opts, sampleRate);
  const started = performance.now();
  let horizon = win;
  shift.run(() => step(horizon));
  const allEdges = Array.from({ length: Math.max(0, Math.ceil(end / win) - 1) }, (_, i) => (i + 1) * win).filter((t) => Math.round(t * sampleRate) < Math.round(end * sampleRate));
  // The dry run: the piece up to the segment's origin, window by window as in one piece, without sound.
  for (const t of allEdges) {
    if (t > origin + 1e-9) break;
    setOfflineClock(ctx, t, origin);
    position = t;
    horizon = t + win;
    shift.run(() => step(horizon));
  }
  shift.flush();
  const windowEdges = allEdges.filter((t) => t > origin + 1e-9);
  const exactPoints = (opts.actions ?? []).filter((a) => a.exact).map((a) => quantumOf(a.time)).filter((t) => t > 0 && t < end);
  // Keyed by frame: an action on a window edge shares its suspend point (one per frame is allowed).
  const points = new Map<number, number>();
  for (const t of exactPoints) points.set(Math.round(t * sampleRate), t);
  for (const t of windowEdges) points.set(Math.round(t * sampleRate), t);
  const originFrame = Math.round(origin * sampleRate);
  const edges = new Set(windowEdges);
  const sorted = [...points.values()].sort((a, b) => a - b);
  let reached = 0;
  let doomed = false;
  sorted.forEach((t, index) => {
    raw.suspend((Math.round(t * sampleRate) - originFrame) / sampleRate).then(
      () => {
        // Points are reached in time order: one before this not reached was refused.
        doomed ||= reached !== index;
        reached++;
        if (doomed && !last) return raw.resume();
        setOfflineClock(ctx, t, origin);
        position = t;
        // A window edge schedules one window further; a point of its own only runs its actions.
        if (edges.has(t)) horizon = t + win;
        shift.run(() => step(horizon));
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
  const buffer = await raw.startRendering();
  // Else the context and its whole graph are never freed (platform/release.ts): memory grew per segment.
  releaseOfflineContext(raw);
  const wallSeconds = (performance.now() - started) / 1000;
  setOfflineClock(ctx, end, origin);
  shift.run(() => engine.dispose());
  const channels: Float32Array[] = [];
  // Copies: node-web-audio-api's getChannelData is a view of the AudioBuffer's native
  // memory, freed when the buffer is collected, view or no view (measured: views of 20
  // rendered buffers kept alone, a collection, new allocations: a segmentation fault).
  if (!opts.onBlock && origin === 0 && segment.last) for (let c = 0; c < buffer.numberOfChannels; c++) channels.push(buffer.getChannelData(c).slice());
  const result: RenderResult = {
    channels,
    sampleRate,
    wallSeconds,
    speed: (end - segment.from) / Math.max(wallSeconds, 1e-9),
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

/**
 * Hands `count` frames of a rendered buffer from frame `skip` to `onBlock` a
 * block at a time, through one reused block, numbered from the piece's frame `first`.
 */
function deliverBlocks(buffer: AudioBuffer, onBlock: NonNullable<RenderOptions['onBlock']>, skip: number, count: number, first: number): void {
  const size = Math.max(1, Math.min(BLOCK_FRAMES, count));
  const block = Array.from({ length: buffer.numberOfChannels }, () => new Float32Array(size));
  for (let done = 0; done < count; done += size) {
    const frames = Math.min(size, count - done);
    const view = frames === size ? block : block.map((b) => b.subarray(0, frames));
    for (let c = 0; c < view.length; c++) buffer.copyFromChannel(view[c]!, c, skip + done);
    onBlock(view, first + done, frames);
  }
}
