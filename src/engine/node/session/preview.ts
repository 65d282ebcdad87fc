/**
 * What the conditioning of a patch does to a file-sourced stream, before it is
 * heard: the stream's raw series beside each of its signals, computed by the
 * same {@link Conditioner} the engine uses (range, curve, smoothing, slew,
 * thresholds) over the whole file, on the playing time the file source would
 * give it. Thinned to at most {@link MAX_PREVIEW_POINTS} points for drawing,
 * keeping each bucket's lowest and highest raw value so spikes stay visible.
 */
import { resolve } from 'node:path';
import { Conditioner } from '../../core/conditioning.ts';
import type { Patch } from '../../core/patchSchema.ts';
import { parseSourceUri, withStreamShaping } from '../../core/sources/uri.ts';
import { sharedPaces, type PacedSpan } from '../../core/pace.ts';
import { conditionSpec } from '../../audio/PatchRuntime.ts';
import { describeFeedFile, readFeedFile, type FeedFile } from '../sources/paced.ts';

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
  /** What was read (`741 rows: 741 kept`). */
  summary: string;
  /** Rows in the file, and points sent. */
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
 * The data seconds per second a dated file stream plays at: its patch's dated
 * file streams share one time axis (core/pace.ts, sharedPaces), so the others'
 * spans count. A file that cannot be read is left out (its own errors are its preview's).
 */
async function axisSpeed(patch: Patch, stream: string, own: PacedSpan, opts: PreviewOptions): Promise<number> {
  const spans = new Map<string, PacedSpan>([[stream, own]]);
  await Promise.all(
    Object.entries(patch.streams).map(async ([name, s]) => {
      const uri = opts.sourceOf?.(name) ?? s.source;
      if (name === stream || !uri) return;
      try {
        const spec = withStreamShaping(parseSourceUri(uri), s);
        if (spec.kind !== 'file' || spec.speed !== undefined) return;
        const f = await readFeedFile(resolve(opts.baseDir, spec.path), spec);
        const times = Array.from({ length: f.length }, (_, i) => f.time(i)).filter(Number.isFinite);
        if (times.length && !f.report?.untimed) spans.set(name, { first: times[0]!, last: times[times.length - 1]!, n: times.length });
      } catch {
        // Not readable here: its own preview says why.
      }
    }),
  );
  return sharedPaces(spans, { speed: opts.speed, over: opts.spreadSeconds ?? 600 }).get(stream)!.pace.speed;
}

/** Computes the preview of one stream of a patch. Throws what is wrong (no such stream, not a file, unreadable). */
export async function streamPreview(patch: Patch, stream: string, opts: PreviewOptions): Promise<StreamPreview> {
  const s = patch.streams[stream];
  if (!s) throw new Error(`no stream "${stream}" (streams: ${Object.keys(patch.streams).join(', ')})`);
  const uri = opts.uri ?? s.source;
  if (!uri) throw new Error(`stream "${stream}" has no source: a preview needs a data file`);
  const spec = parseSourceUri(uri);
  if (spec.kind !== 'file') throw new Error(`stream "${stream}" comes from ${spec.kind} (${uri}): a preview needs a data file`);
  const file: FeedFile = await readFeedFile(resolve(opts.baseDir, spec.path), spec);
  const times: number[] = [];
  const values: unknown[] = [];
  const units: Array<string | undefined> = [];
  for (let i = 0; i < file.length; i++) {
    const t = file.time(i);
    if (!Number.isFinite(t)) continue;
    const r = file.record(i);
    times.push(t);
    values.push(r.value);
    units.push(r.unit);
  }
  const n = times.length;
  const span = n < 2 ? 1 : ((times[n - 1]! - times[0]!) * n) / (n - 1);
  const speed =
    spec.speed ?? (n && !file.report?.untimed ? await axisSpeed(patch, stream, { first: times[0]!, last: times[n - 1]!, n }, opts) : (opts.speed ?? (span > 0 ? span / (opts.spreadSeconds ?? 600) : 1)));
  const numeric = Float64Array.from(values, (v) => (typeof v === 'number' && Number.isFinite(v) ? v : NaN));
  const keep = thinIndices(numeric, MAX_PREVIEW_POINTS);
  const valid = s.valid;
  const signals: PreviewSignal[] = [];
  for (const [name, sig] of Object.entries(patch.signals)) {
    if (sig.from !== stream) continue;
    const c = new Conditioner(conditionSpec(sig, s.unit));
    const all = new Float64Array(n).fill(NaN);
    const events: PreviewSignal['events'] = [];
    for (let i = 0; i < n; i++) {
      const v = values[i];
      if (valid && typeof v === 'number' && (v < valid[0] || v > valid[1])) continue;
      const out = c.push(v, (times[i]! - times[0]!) / speed, times[i]!, units[i]);
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
    summary: describeFeedFile(file),
    rows: n,
    points: keep.length,
    speed,
    t: keep.map((i) => times[i]!),
    raw: keep.map((i) => (Number.isFinite(numeric[i]!) ? numeric[i]! : null)),
    signals,
  };
}
