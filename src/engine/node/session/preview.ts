/**
 * What the conditioning of a patch does to a file-sourced stream, before it is
 * heard: the stream's series (as `render` and `play` read it) beside each of its signals, computed by the
 * same {@link Conditioner} the engine uses (range, curve, smoothing, slew,
 * thresholds) over the whole file, on the playing time the file source would
 * give it. Thinned to at most {@link MAX_PREVIEW_POINTS} points for drawing,
 * keeping each bucket's lowest and highest raw value so spikes stay visible.
 */
import { Conditioner } from '../../core/conditioning.ts';
import type { Patch } from '../../core/patchSchema.ts';
import { sharedPaces, type PacedSpan, type Placement } from '../../core/pace.ts';
import { conditionSpec } from '../../audio/PatchRuntime.ts';
import { readFileStream, type ReadFile } from '../sources/collect.ts';
import { streamSource, takesText } from '../sources/hub.ts';

/** Most points of a preview's series (raw and each signal share the same times). */
export const MAX_PREVIEW_POINTS = 2000;

/** One signal of a stream, conditioned over the file. */
export interface PreviewSignal {
  name: string;
  /** The fixed range in the stream's units, or `auto` (a rolling window). */
  range: [number, number] | 'auto';
  curve: string;
  smooth: number;
  threshold?: { above?: number; below?: number; hysteresis: number };
  /** 0…1 per point (null where the sample gave no output: refused, or a rate's first). */
  values: Array<number | null>;
  /** Threshold crossings, at data times. */
  events: Array<{ t: number; state: 'on' | 'off' }>;
}

export interface StreamPreview {
  stream: string;
  uri: string;
  unit?: string;
  /** What was read and kept (`741 rows: 741 kept; 741 values`, and what the gate rejected). */
  summary: string;
  /** Values the stream plays (after the patch's where/agg/resample and the stream's gate), and points sent. */
  rows: number;
  points: number;
  /** Data seconds per playing second the preview assumed. */
  speed: number;
  /** Data times (epoch seconds) and raw values (null: not a number). */
  t: number[];
  raw: Array<number | null>;
  signals: PreviewSignal[];
}

/** Indices to keep: every one when few, else each bucket's first, lowest and highest (in order), at most `max`. */
export function thinIndices(values: ArrayLike<number>, max: number): number[] {
  const n = values.length;
  if (n <= max) return Array.from({ length: n }, (_, i) => i);
  const buckets = Math.floor(max / 2);
  const out: number[] = [];
  for (let b = 0; b < buckets; b++) {
    const from = Math.floor((b * n) / buckets);
    const to = Math.floor(((b + 1) * n) / buckets);
    let lo = from;
    let hi = from;
    for (let i = from; i < to; i++) {
      const v = values[i]!;
      if (Number.isFinite(v)) {
        if (!Number.isFinite(values[lo]!) || v < values[lo]!) lo = i;
        if (!Number.isFinite(values[hi]!) || v > values[hi]!) hi = i;
      }
    }
    if (lo === hi) out.push(lo);
    else out.push(Math.min(lo, hi), Math.max(lo, hi));
  }
  return out;
}

/** Options: where relative paths resolve, and the pace files play at (as the session's). */
export interface PreviewOptions {
  baseDir: string;
  /** The source to use instead of the patch's (a session's rebind or `--data`). */
  uri?: string;
  /** Files with no speed are spread over this many seconds (the session's loop; 600 by default). */
  spreadSeconds?: number;
  speed?: number;
  /** Other streams' sources in place of the patch's (the session's bindings), for the shared time axis. */
  sourceOf?: (stream: string) => string | undefined;
}

/**
 * Where a patch's file stream sits on the playing time: the dated file streams
 * share one time axis (core/pace.ts, sharedPaces) as they do in `render` and
 * `play`, so the other streams' spans count. A file that cannot be read is
 * left out (its own errors are its preview's).
 */
async function placementOf(patch: Patch, own: ReadFile, opts: PreviewOptions): Promise<Placement> {
  const spans = new Map<string, PacedSpan>([[own.stream, own.span]]);
  await Promise.all(
    Object.entries(patch.streams).map(async ([name, s]) => {
      const uri = opts.sourceOf?.(name) ?? s.source;
      if (name === own.stream || !uri) return;
      try {
        const spec = streamSource(uri, s);
        if (spec.kind !== 'file') return;
        spans.set(name, (await readFileStream(name, spec, s, { baseDir: opts.baseDir, text: takesText(patch, name) })).span);
      } catch {
        // Not readable here: its own preview says why.
      }
    }),
  );
  return sharedPaces(spans, { speed: opts.speed, over: opts.spreadSeconds ?? 600 }).get(own.stream)!;
}

/**
 * Computes the preview of one stream of a patch: its series read exactly as
 * `render` and `play` read it (sources/collect.ts, readFileStream: the URI
 * with the stream's where/agg/resample/tz, then its gate), conditioned as the
 * engine conditions it. Throws what is wrong (no such stream, not a file,
 * unreadable, nothing usable).
 */
export async function streamPreview(patch: Patch, stream: string, opts: PreviewOptions): Promise<StreamPreview> {
  const s = patch.streams[stream];
  if (!s) throw new Error(`no stream "${stream}" (streams: ${Object.keys(patch.streams).join(', ')})`);
  const uri = opts.uri ?? s.source;
  if (!uri) throw new Error(`stream "${stream}" has no source: a preview needs a data file`);
  const spec = streamSource(uri, s);
  if (spec.kind !== 'file') throw new Error(`stream "${stream}" comes from ${spec.kind} (${uri}): a preview needs a data file`);
  const read = await readFileStream(stream, spec, s, { baseDir: opts.baseDir, text: takesText(patch, stream) });
  const { times, values } = read.series;
  const n = times.length;
  const speed = (await placementOf(patch, read, opts)).pace.speed;
  const numeric = Float64Array.from(values as ArrayLike<number | string>, (v) => (typeof v === 'number' && Number.isFinite(v) ? v : NaN));
  const keep = thinIndices(numeric, MAX_PREVIEW_POINTS);
  const signals: PreviewSignal[] = [];
  for (const [name, sig] of Object.entries(patch.signals)) {
    if (sig.from !== stream) continue;
    const c = new Conditioner(conditionSpec(sig, s.unit));
    const all = new Float64Array(n).fill(NaN);
    const events: PreviewSignal['events'] = [];
    for (let i = 0; i < n; i++) {
      // As the engine pushes a gated value (PatchRuntime): already in the stream's unit.
      const out = c.push(values[i]!, (times[i]! - times[0]!) / speed, times[i]!);
      if (!out) continue;
      all[i] = out.value;
      if (out.event) events.push({ t: times[i]!, state: out.event });
    }
    signals.push({
      name,
      range: Array.isArray(sig.range) ? [sig.range[0], sig.range[1]] : 'auto',
      curve: sig.curve,
      smooth: sig.smooth,
      ...(sig.threshold ? { threshold: sig.threshold } : {}),
      values: keep.map((i) => (Number.isFinite(all[i]!) ? all[i]! : null)),
      events: events.slice(0, 500),
    });
  }
  return {
    stream,
    uri,
    ...(s.unit ? { unit: s.unit } : {}),
    summary: read.summary,
    rows: n,
    points: keep.length,
    speed,
    t: keep.map((i) => times[i]!),
    raw: keep.map((i) => (Number.isFinite(numeric[i]!) ? numeric[i]! : null)),
    signals,
  };
}
