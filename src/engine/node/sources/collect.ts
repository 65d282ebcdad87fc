/**
 * Data for an offline render, from any source: files are read (CSV streamed into typed arrays), a
 * simulation is generated for the render's length, an HTTP feed is fetched
 * once (a snapshot), and streaming feeds (WebSocket, MQTT, OSC) are captured
 * live for the render's length first. Everything passes the same gate as in
 * real time, and is placed on the render's timeline: at `speed` data seconds
 * per audio second, or spread over the render.
 */
import { isAbsolute, resolve } from 'node:path';
import { Float64Column, placeSeries, type Series, type Thinning } from '../../core/dataSeries.ts';
import { Simulator } from '../../core/sources/sim.ts';
import { parseSourceUri, type SourceSpec } from '../../core/sources/uri.ts';
import type { FeedRecord } from '../../core/sources/records.ts';
import { describePlacement, sharedPaces, type PacedSpan, type Placement } from '../../core/pace.ts';
import { REJECT_REASONS, type SampleGate } from '../../core/sources/gate.ts';
import type { Patch } from '../../core/patchSchema.ts';
import type { StreamFeed } from '../render.ts';
import { HttpSource } from './http.ts';
import { describeFeedFile, readFeedFile, type FeedFile } from './paced.ts';
import { createSource, gateFor, streamSource, takesText, type SourceContext } from './hub.ts';

type StreamSpec = Patch['streams'][string];

/**
 * Most data points a second of a render plays per stream: a render quantum is
 * 2.7 ms at 48 kHz, so closer points cannot change what is heard, and each one
 * costs objects and an engine update (a 50 MB CSV in a 60 s render took 2.3 GB
 * unthinned).
 */
export const RENDER_POINTS_PER_SECOND = 1000;

/** Makes a relative file URI absolute against `base` (other URIs are returned as they are). */
export function absolutizeFileUri(uri: string, base: string): string {
  const spec = parseSourceUri(uri);
  if (spec.kind !== 'file' || isAbsolute(spec.path) || /^file:/i.test(uri)) return uri;
  return resolve(base, spec.path) + uri.slice(spec.path.length);
}

export interface Collected {
  feed: StreamFeed;
  /** One line for the CLI: what the stream plays. */
  described: string;
  /** For file data: how it is paced (`co2: 1958–2020 over 10 min, 1 year = 9.7 s`). */
  pace?: string;
}

/** Records by index: a data file's (see {@link FeedFile}) or a list's. */
type Indexed = Pick<FeedFile, 'length' | 'record'>;

const indexed = (records: FeedRecord[]): Indexed => ({ length: records.length, record: (i) => records[i]! });

/** Gates records (the stream's valid range, spike limit, unit, text), stamping untimed ones with `stamp`. */
function gateRecords(records: Indexed, stream: StreamSpec, text: boolean, stamp: (i: number) => number): { series: Series<number | string>; gate: SampleGate } {
  const gate = gateFor(stream, text);
  // Typed columns: 16 bytes a value, no object each (a file may hold millions).
  const times = new Float64Column();
  const numbers = new Float64Column();
  let values: Array<number | string> | undefined;
  for (let i = 0; i < records.length; i++) {
    const r = records.record(i);
    const ok = gate.accept(r.value, Number.isFinite(r.dataTime) ? r.dataTime : stamp(i), r.unit);
    if (typeof ok === 'string') continue;
    times.push(ok.dataTime);
    // A stream of text categories keeps its values in a plain array.
    if (values === undefined && typeof ok.value === 'string') values = Array.from(numbers.take());
    if (values) values.push(ok.value);
    else numbers.push(ok.value as number);
  }
  return { series: { times: times.take(), values: values ?? numbers.take(), skipped: gate.rejected, column: '' }, gate };
}

/** `2 rejected (out-of-range 1, spike 1)`, or nothing when the gate rejected nothing. */
function gateRejections(gate: SampleGate): string {
  const reasons = REJECT_REASONS.filter((r) => gate.counts[r] > 0).map((r) => `${r} ${gate.counts[r]}`);
  return gate.rejected ? `, ${gate.rejected} rejected (${reasons.join(', ')})` : '';
}

async function fetchOnce(spec: Extract<SourceSpec, { kind: 'http' }>): Promise<FeedRecord[]> {
  return new Promise((resolvePromise, reject) => {
    const src = new HttpSource(spec, {
      records: (r) => {
        void src.stop();
        resolvePromise(r);
      },
      error: (e) => {
        void src.stop();
        reject(e);
      },
      connecting: () => {},
    });
    src.start();
  });
}

async function capture(spec: SourceSpec, seconds: number, ctx: SourceContext): Promise<Array<{ at: number; record: FeedRecord }>> {
  const got: Array<{ at: number; record: FeedRecord }> = [];
  const t0 = performance.now();
  const errors: string[] = [];
  const src = createSource(spec, { records: (rs) => rs.forEach((record) => got.push({ at: (performance.now() - t0) / 1000, record })), error: (e) => errors.push(String((e as Error)?.message ?? e)), connecting: () => {} }, ctx);
  src.start();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  await src.stop();
  if (got.length === 0 && errors.length) throw new Error(`${spec.uri}: nothing captured in ${seconds} s (${errors[errors.length - 1]})`);
  return got;
}

type FileSourceSpec = Extract<SourceSpec, { kind: 'file' }>;

/** A file stream read and gated, not yet placed on the render's time. */
export interface ReadFile {
  stream: string;
  /** The values the stream plays, at their data times (untimed rows stamped 0, 1, 2…). */
  series: Series<number | string>;
  span: PacedSpan;
  /** What was read and kept: `741 rows: 741 kept; 741 values, 2 rejected (spike 2)`. */
  summary: string;
  /** The `described` line, less the thinning (known once placed). */
  describe: (thinned: string) => string;
  untimed: boolean;
}

/**
 * A file stream's series as the engine gets it, the one reading of a patch's
 * data file: read and shaped by its `streamSource` spec (hub.ts) (where, agg,
 * resample, column, time column, tz), then through the stream's gate (valid
 * range, spike limit, unit, text). `render` (here), `play` (a hub lane's
 * paced file with the same spec and gate) and the Author preview
 * (session/preview.ts) read files this way.
 */
export async function readFileStream(stream: string, src: FileSourceSpec, spec: StreamSpec, opts: { baseDir: string; text?: boolean }): Promise<ReadFile> {
  const text = opts.text ?? false;
  const path = resolve(opts.baseDir, src.path);
  const file = await readFeedFile(path, src, { text });
  const { series, gate } = gateRecords(file, spec, text, (i) => i);
  const loaded = describeFeedFile(file);
  if (series.values.length === 0) throw new Error(`${path}: no usable values for stream "${stream}" (${loaded}${gateRejections(gate)})`);
  const label = src.column ? `${src.column}${src.timeColumn ? ` @ ${src.timeColumn}` : ''}` : src.path;
  const n = series.times.length;
  const untimed = file.report?.untimed ?? false;
  const summary = `${loaded}; ${n} values${gateRejections(gate)}`;
  return {
    stream,
    series,
    span: { first: series.times[0]!, last: series.times[n - 1]!, n, untimed, ...(src.speed !== undefined && { speed: src.speed }) },
    summary,
    describe: (thinned) => `${stream} ← ${label} (${summary}${thinned})`,
    untimed,
  };
}

/** Places a read file on the render's time by its placement (core/pace.ts): data time t at (t − origin) / speed. */
function placeFile(read: ReadFile, placement: Placement, duration: number): Collected {
  const thin: Thinning = { perSecond: RENDER_POINTS_PER_SECOND, dropped: 0 };
  const speed = placement.pace.speed;
  const offset = (read.span.first - placement.origin) / speed;
  const points = placeSeries(read.series, duration, speed, offset, thin).filter((p) => p.time <= duration + 1e-9);
  const thinned = thin.dropped ? `; thinned to at most ${thin.perSecond} a second of audio: ${thin.dropped} dropped` : '';
  return { feed: { stream: read.stream, points }, described: read.describe(thinned), pace: describePlacement(read.stream, placement, read.untimed) };
}

/**
 * The data of one stream for a render of `duration` seconds. `onCapture` is
 * told before a live capture starts (it takes `duration` of wall time).
 */
export async function collectFeed(
  stream: string,
  uri: string,
  spec: StreamSpec,
  opts: { duration: number; speed?: number; baseDir: string; text?: boolean; onCapture?: (stream: string, uri: string) => void },
): Promise<Collected> {
  const src = streamSource(uri, spec);
  const text = opts.text ?? false;
  const thin: Thinning = { perSecond: RENDER_POINTS_PER_SECOND, dropped: 0 };
  const place = (series: Series<number | string>, speed = opts.speed) => placeSeries(series, opts.duration, speed, 0, thin);
  const thinned = () => (thin.dropped ? `; thinned to at most ${thin.perSecond} a second of audio: ${thin.dropped} dropped` : '');
  const describe = (what: string, n: number, gate: SampleGate, loaded?: string) =>
    `${stream} ← ${what} (${loaded ? `${loaded}; ` : ''}${n} values${gateRejections(gate)}${thinned()})`;

  switch (src.kind) {
    case 'file': {
      const read = await readFileStream(stream, src, spec, opts);
      const placement = sharedPaces(new Map([[stream, read.span]]), { speed: opts.speed, over: opts.duration }).get(stream)!;
      return placeFile(read, placement, opts.duration);
    }
    case 'sim': {
      const sim = new Simulator(src, Date.UTC(2025, 0, 1) / 1000);
      const samples = sim.until(opts.duration);
      const { series, gate } = gateRecords(indexed(samples.map((s) => ({ value: s.value, dataTime: s.dataTime }))), spec, text, () => NaN);
      // A simulation plays at its own pace: time t of the sim is time t of the render.
      const points = Array.from(series.times, (dt, i) => ({ time: (dt - sim.startDataTime) / src.speed, value: series.values[i]!, dataTime: dt }));
      return { feed: { stream, points }, described: describe(`simulated ${src.shape}`, points.length, gate) };
    }
    case 'http': {
      const records = await fetchOnce(src);
      const now = Date.now() / 1000;
      const { series, gate } = gateRecords(indexed(records), spec, text, (i) => now + i * 1e-3);
      const timed = records.some((r) => Number.isFinite(r.dataTime));
      const n = series.values.length;
      // A snapshot of one current value holds for the whole render.
      const points = timed && n > 1 ? place(series) : n ? [{ time: 0, value: series.values[n - 1]!, dataTime: now }] : [];
      return { feed: { stream, points }, described: describe(`${src.url} (snapshot)`, points.length, gate) };
    }
    case 'ws':
    case 'mqtt':
    case 'osc': {
      opts.onCapture?.(stream, uri);
      const got = await capture(src, opts.duration, { baseDir: opts.baseDir });
      const gate = gateFor(spec, text);
      const t0 = Date.now() / 1000 - opts.duration;
      const points = got.flatMap(({ at, record }) => {
        const ok = gate.accept(record.value, Number.isFinite(record.dataTime) ? record.dataTime : t0 + at, record.unit);
        return typeof ok === 'string' ? [] : [{ time: at, value: ok.value, dataTime: ok.dataTime }];
      });
      return { feed: { stream, points }, described: describe(`${uri} (captured live)`, points.length, gate) };
    }
  }
}

/**
 * The data of every stream with a source: `overrides` (stream → URI) first,
 * then the patch defaults. The dated file streams share one time axis
 * ({@link sharedPaces}). Each entry is the stream's data or the error reading it.
 */
export async function collectStreams(
  patch: Patch,
  patchDir: string,
  overrides: ReadonlyMap<string, string>,
  opts: { duration: number; speed?: number; onCapture?: (stream: string, uri: string) => void; skip?: (stream: string, spec: SourceSpec) => boolean },
): Promise<Map<string, Collected | Error>> {
  const out = new Map<string, Collected | Error>();
  const files: ReadFile[] = [];
  const fail = (stream: string) => (e: unknown) => void out.set(stream, e instanceof Error ? e : new Error(String(e)));
  // Live captures run side by side, so two feeds take one duration, not two.
  await Promise.all(
    Object.entries(patch.streams).flatMap(([stream, spec]) => {
      const uri = overrides.get(stream) ?? spec.source;
      if (!uri) return [];
      const text = takesText(patch, stream);
      let src: SourceSpec;
      try {
        src = streamSource(uri, spec);
      } catch (e) {
        fail(stream)(e);
        return [];
      }
      if (opts.skip?.(stream, src)) return [];
      if (src.kind === 'file') return [readFileStream(stream, src, spec, { baseDir: patchDir, text }).then((r) => void files.push(r), fail(stream))];
      return [collectFeed(stream, uri, spec, { ...opts, baseDir: patchDir, text }).then((c) => void out.set(stream, c), fail(stream))];
    }),
  );
  const placements = sharedPaces(new Map(files.map((f) => [f.stream, f.span])), { speed: opts.speed, over: opts.duration });
  for (const f of files) out.set(f.stream, placeFile(f, placements.get(f.stream)!, opts.duration));
  // In the patch's order.
  return new Map(Object.keys(patch.streams).flatMap((k) => (out.has(k) ? [[k, out.get(k)!] as const] : [])));
}

/** The data of every stream with a source (see {@link collectStreams}); the first error throws. */
export async function collectFeeds(
  patch: Patch,
  patchDir: string,
  overrides: ReadonlyMap<string, string>,
  opts: { duration: number; speed?: number; onCapture?: (stream: string, uri: string) => void },
): Promise<Collected[]> {
  const all = [...(await collectStreams(patch, patchDir, overrides, opts)).values()];
  const failed = all.find((c): c is Error => c instanceof Error);
  if (failed) throw failed;
  return all as Collected[];
}

/** The feeds of a patch's own default sources for a render of `duration` seconds. */
export async function defaultFeeds(patch: Patch, patchDir: string, duration: number): Promise<StreamFeed[]> {
  return (await collectFeeds(patch, patchDir, new Map(), { duration })).map((c) => c.feed);
}
