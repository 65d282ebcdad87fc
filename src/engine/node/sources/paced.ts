/**
 * Sources that play data they already have, paced on a timer: files (CSV, TSV,
 * JSON, NDJSON, GeoJSON, recordings) at a speed or at their own pace, looping
 * or once; and simulations. One timer each, re-armed for the next due record.
 */
import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { parse } from 'csv-parse';
import { csvDelimiter, csvError, csvOptions, CsvSeriesReader, formatLoadReport, type LoadReport, type SeriesLimits } from '../../core/dataSeries.ts';
import { filterRecords, isRecording, parseFeedFile, shapeRecords, sniffFormat, type FeedRecord } from '../../core/sources/records.ts';
import { Simulator } from '../../core/sources/sim.ts';
import { describePace, loopSpan, paceFor } from '../../core/pace.ts';
import type { SourceSpec } from '../../core/sources/uri.ts';
import type { Clock, Disposable } from '../../core/clock.ts';
import { wallClock } from '../clock.ts';
import { guarded, type Source, type SourceSink } from './types.ts';

type FileSpec = Extract<SourceSpec, { kind: 'file' }>;
type SimSpec = Extract<SourceSpec, { kind: 'sim' }>;

/** Polling step of paced sources, seconds. */
const STEP = 0.02;

/** Largest CSV/TSV data file: it is streamed into 16 bytes a row, so memory stays far below this. */
export const MAX_CSV_BYTES = 2 * 1024 ** 3;
/** Largest JSON, NDJSON, GeoJSON or recording file: these are parsed whole, at several times their size. */
export const MAX_DOCUMENT_BYTES = 64 * 1024 ** 2;
/** Bytes read to recognise a file's format. */
const SNIFF_BYTES = 64 * 1024;

/** Size limits of data files (the defaults above; tests lower them). */
export interface FeedFileLimits extends SeriesLimits {
  maxCsvBytes?: number;
  maxDocumentBytes?: number;
}

/** A data file's records, by index (a CSV column is kept in typed arrays, not as objects). */
export interface FeedFile {
  length: number;
  /** Data time of record `i` (NaN when the file gives none). */
  time(i: number): number;
  record(i: number): FeedRecord;
  /** What became of a CSV's rows (kept, rejected by reason, sorted). */
  report?: LoadReport;
}

function recordsFile(records: FeedRecord[]): FeedFile {
  return { length: records.length, time: (i) => records[i]!.dataTime, record: (i) => records[i]! };
}

/** One line describing what was read, for the commands to print: `741 rows: 741 kept` or `12 records`. */
export function describeFeedFile(f: FeedFile): string {
  return f.report ? formatLoadReport(f.report) : `${f.length} records`;
}

/**
 * Reads and parses a data file (path already resolved). A CSV/TSV column is
 * streamed row by row into typed arrays, so its memory is 16 bytes a row
 * whatever the file's size; other formats are read whole, up to
 * {@link MAX_DOCUMENT_BYTES}. Only regular files are read. Every error names the file.
 */
export async function readFeedFile(path: string, spec: FileSpec, limits: FeedFileLimits = {}): Promise<FeedFile> {
  const cannot = (e: unknown) => new Error(`cannot read data file ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  const info = await stat(path).catch((e: unknown) => {
    throw cannot(e);
  });
  // A device or a pipe (/dev/zero, /dev/stdin) would never end.
  if (!info.isFile()) throw new Error(`${path}: not a regular file`);
  const head = await readHead(path, Math.min(info.size, SNIFF_BYTES)).catch((e: unknown) => {
    throw cannot(e);
  });
  const format = spec.format ?? sniffFormat(head);
  if ((format === 'csv' || format === 'tsv') && !isRecording(head)) {
    const max = limits.maxCsvBytes ?? MAX_CSV_BYTES;
    if (info.size > max) throw new Error(`${path}: ${info.size} bytes, over the ${max}-byte limit for a data file`);
    const series = await streamCsvSeries(path, spec, csvDelimiter(head.replace(/^\uFEFF/, '').split('\n', 1)[0]!), limits);
    const { times, values } = series;
    return { length: times.length, time: (i) => times[i]!, record: (i) => ({ dataTime: times[i]!, value: values[i]! }), report: series.report };
  }
  const max = limits.maxDocumentBytes ?? MAX_DOCUMENT_BYTES;
  if (info.size > max) throw new Error(`${path}: ${info.size} bytes, over the ${max}-byte limit for a ${format} file (CSV files may be larger: they are streamed)`);
  const text = await readCapped(path, max).catch((e: unknown) => {
    throw e instanceof RangeError ? new Error(`${path}: ${e.message}`) : cannot(e);
  });
  const records = parseFeedFile(text, spec, path);
  const format2 = spec.format ?? sniffFormat(text);
  // CSV text read whole (a recording) was shaped by its parser; documents are filtered and combined here.
  if (format2 === 'csv' || format2 === 'tsv') return recordsFile(records);
  const shaped = shapeRecords(filterRecords(records, spec.shaping.where, path), spec.shaping, path, limits.text);
  return { ...recordsFile(shaped.records), ...(shaped.report && { report: shaped.report }) };
}

async function readHead(path: string, bytes: number): Promise<string> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(bytes);
    const { bytesRead } = await fh.read(buf, 0, bytes, 0);
    return buf.subarray(0, bytesRead).toString('utf8');
  } finally {
    await fh.close();
  }
}

/** Reads a file whole, failing (RangeError) as soon as it grows past `max` bytes. */
async function readCapped(path: string, max: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of createReadStream(path)) {
    size += (chunk as Buffer).length;
    if (size > max) throw new RangeError(`grew past the ${max}-byte limit while being read`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Streams a CSV/TSV file through csv-parse into a {@link CsvSeriesReader}. */
async function streamCsvSeries(path: string, spec: FileSpec, delimiter: string, limits: SeriesLimits) {
  const reader = new CsvSeriesReader(path, spec.column, spec.timeColumn, limits, spec.shaping);
  const input = createReadStream(path);
  const parser = parse(csvOptions(delimiter));
  input.on('error', (e) => parser.destroy(e));
  input.pipe(parser);
  try {
    for await (const cells of parser as AsyncIterable<string[]>) reader.row(cells);
  } catch (e) {
    if ((e as { code?: string }).code?.startsWith('CSV_')) throw csvError(e, path);
    if ((e as NodeJS.ErrnoException).syscall) throw new Error(`cannot read data file ${path}: ${(e as NodeJS.ErrnoException).code}`);
    throw e;
  } finally {
    input.destroy();
  }
  return reader.finishAny();
}

/** Where a file stream's play head is and how it moves: what the Live screen's timeline shows. */
export interface FileTransport {
  /** Data time of the play head (the file's own times, whatever loops went by). */
  time: number;
  /** Index of the record playing (the last one handed over). */
  index: number;
  /** Records in the file. */
  count: number;
  /** Data times of the first and last records. */
  first: number;
  last: number;
  /** The loop region `[from, to]` in data time, or null (the whole file, looping when the source loops). */
  loop: [number, number] | null;
  /** Factor of the documented pace (1: as `speed`/`loop` say; 2: twice as fast). */
  speed: number;
  /** Data seconds per second of playing now (the pace times `speed`). */
  dataSpeed: number;
  /** False once a file played once has reached its end. */
  playing: boolean;
}

/** A file's series, downsampled for drawing: `[time, value]` pairs (each bucket's lowest and highest, in time order). */
export interface FileSeries {
  first: number;
  last: number;
  count: number;
  points: Array<[number, number]>;
}

/** Bounds of the transport's speed factor. */
export const MIN_TRANSPORT_SPEED = 1 / 64;
export const MAX_TRANSPORT_SPEED = 64;

export class FileSource implements Source {
  private timer: Disposable | undefined;
  private records: FeedFile = recordsFile([]);
  /** The next record to hand over. */
  private index = 0;
  /** The play head: data seconds after the first record. */
  private pos = 0;
  /** Clock time of the last advance of {@link pos}. */
  private lastAt = 0;
  /** The transport's factor of the pace. */
  private factor = 1;
  /** Loop region, data seconds after the first record. */
  private region: [number, number] | undefined;
  /** Added to the data times handed over, so they only ever grow (loops, seeks back). */
  private shift = 0;
  private lastOut = -Infinity;
  private done = false;
  private readonly sink: SourceSink;

  private stopped = false;

  /**
   * @param spreadSeconds with no speed in the spec, the whole file plays over this many seconds.
   * @param clock what paces it (default: wall time; a source plays with or without an engine).
   * @param onLoaded told what was read (`741 rows: 741 kept…`) before playing starts.
   */
  constructor(
    readonly spec: FileSpec,
    readonly path: string,
    sink: SourceSink,
    private readonly spreadSeconds = 600,
    private readonly clock: Clock = wallClock(),
    private readonly onLoaded?: (summary: string) => void,
    private readonly limits: FeedFileLimits = {},
  ) {
    this.sink = guarded(sink);
  }

  /** What was read, once it has been (rows kept, rejected by reason, sorted). */
  loaded: string | undefined;

  /** Settles once the file has been read and playing has begun (or failed). */
  ready: Promise<void> = Promise.resolve();

  start(): void {
    this.sink.connecting();
    this.ready = this.load();
  }

  private async load(): Promise<void> {
    let file: FeedFile;
    try {
      file = await readFeedFile(this.path, this.spec, this.limits);
    } catch (e) {
      this.sink.error(e);
      return;
    }
    if (this.stopped) return;
    const report = file.report;
    // Records without a time cannot be paced (a CSV's rows always have one).
    if (!report) {
      const timed: FeedRecord[] = [];
      for (let i = 0; i < file.length; i++) if (Number.isFinite(file.time(i))) timed.push(file.record(i));
      file = recordsFile(timed);
    }
    this.records = file;
    if (this.records.length === 0) {
      this.loaded = describeFeedFile(file);
      this.onLoaded?.(this.loaded);
      return this.sink.error(new Error(`${this.path}: no timed records`));
    }
    const n = file.length;
    const pace = paceFor(file.time(0), file.time(n - 1), n, { speed: this.spec.speed, over: this.spreadSeconds });
    this.loaded = `${describeFeedFile({ ...file, report })}; ${describePace('', file.time(0), file.time(n - 1), pace, report?.untimed).slice(2)}`;
    this.onLoaded?.(this.loaded);
    this.lastAt = this.clock.now();
    this.arm();
  }

  private arm(): void {
    if (this.timer || this.stopped) return;
    if (this.pump()) this.timer = this.clock.every(STEP, () => this.pump() || this.disarm());
  }

  private disarm(): void {
    this.timer?.dispose();
    this.timer = undefined;
  }

  /** Data seconds per second of playback, as documented (without the transport's factor). */
  get speed(): number {
    const r = this.records;
    const n = r.length;
    return n ? paceFor(r.time(0), r.time(n - 1), n, { speed: this.spec.speed, over: this.spreadSeconds }).speed : 1;
  }

  /** The data's span, plus one step so a loop does not repeat a time. */
  get span(): number {
    const r = this.records;
    const n = r.length;
    return n ? loopSpan(r.time(0), r.time(n - 1), n) : 1;
  }

  /** Hands a record over, its data time shifted so times only grow (by at least one step, and by the distance jumped back). */
  private emit(i: number, due: FeedRecord[]): void {
    const rec = this.records.record(i);
    let out = rec.dataTime + this.shift;
    if (out <= this.lastOut) {
      this.shift += this.lastOut - out + this.span / this.records.length;
      out = rec.dataTime + this.shift;
    }
    this.lastOut = out;
    due.push({ ...rec, dataTime: out });
  }

  /** The last record at or before `offset` data seconds after the first (binary search: times are sorted). */
  private indexAt(offset: number): number {
    const r = this.records;
    const t = r.time(0) + offset;
    let lo = 0;
    let hi = r.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (r.time(mid) <= t) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /** Moves the play head to `offset` and hands over the value there. */
  private jump(offset: number, due: FeedRecord[]): void {
    this.pos = offset;
    const i = this.indexAt(offset);
    this.emit(i, due);
    this.index = i + 1;
  }

  /** Hands over what is due; false once a file played once is done. */
  private pump(): boolean {
    const r = this.records;
    if (!r.length || this.done) return false;
    const now = this.clock.now();
    this.pos += (now - this.lastAt) * this.speed * this.factor;
    this.lastAt = now;
    const t0 = r.time(0);
    const [lo, hi] = this.region ?? [0, this.span];
    const due: FeedRecord[] = [];
    for (;;) {
      while (this.index < r.length && r.time(this.index) - t0 <= this.pos && r.time(this.index) - t0 < hi && due.length <= 10_000) this.emit(this.index++, due);
      if (due.length > 10_000) break;
      if (this.pos < hi && this.index < r.length) break;
      if (this.pos < hi) {
        // Played to the last record; the loop's end (one step on) is not reached yet.
        if (this.region || this.spec.loop) break;
        this.done = true;
        break;
      }
      if (!this.region && !this.spec.loop) {
        this.done = true;
        break;
      }
      // Past the loop's end: back to its start, and on from there.
      const over = (this.pos - hi) % (hi - lo);
      this.pos = lo;
      this.index = this.region ? this.indexAt(lo) : 0;
      if (this.region) {
        this.emit(this.index++, due);
      }
      this.pos = lo + over;
    }
    if (due.length) this.sink.records(due);
    return !this.done;
  }

  /** The play head, loop region and speed now (undefined before the file is read). */
  transport(): FileTransport | undefined {
    const r = this.records;
    const n = r.length;
    if (!n) return undefined;
    const t0 = r.time(0);
    return {
      time: t0 + Math.min(this.pos, this.span),
      index: Math.max(0, Math.min(n - 1, this.index - 1)),
      count: n,
      first: t0,
      last: r.time(n - 1),
      loop: this.region ? [t0 + this.region[0], t0 + this.region[1]] : null,
      speed: this.factor,
      dataSpeed: this.speed * this.factor,
      playing: !this.done,
    };
  }

  private loadedOrThrow(): FeedFile {
    if (!this.records.length) throw new Error(`${this.path}: not read yet (or has no timed records)`);
    return this.records;
  }

  /**
   * Moves the play head to data time `time` (clamped to the file, and into the
   * loop region when there is one) and hands over the value there at once, as
   * any new value (the stream's smoothing applies). A file played once that had
   * ended plays again from there. Returns the play head.
   */
  seek(time: number): FileTransport {
    const r = this.loadedOrThrow();
    if (!Number.isFinite(time)) throw new Error(`seek: the time must be a finite number of data seconds, got ${time}`);
    this.pump();
    const [lo, hi] = this.region ?? [0, this.span];
    // Inside [lo, hi): the loop's end is the next loop's start.
    const offset = Math.min(Math.max(time - r.time(0), lo), lo + (hi - lo) * (1 - 1e-9));
    const due: FeedRecord[] = [];
    this.jump(offset, due);
    this.sink.records(due);
    this.lastAt = this.clock.now();
    this.done = false;
    this.arm();
    return this.transport()!;
  }

  /**
   * Loops the data time region `[from, to]` (null: the whole file again). It is
   * clipped to the file; the play head, if outside, moves to its start.
   */
  setLoop(region: [number, number] | null): FileTransport {
    const r = this.loadedOrThrow();
    if (region === null) {
      this.region = undefined;
      return this.transport()!;
    }
    const [from, to] = region;
    if (!Number.isFinite(from) || !Number.isFinite(to) || !(from < to)) throw new Error(`loop: from (${from}) must be before to (${to})`);
    const t0 = r.time(0);
    const lo = Math.max(0, from - t0);
    const hi = Math.min(this.span, to - t0);
    if (!(lo < hi)) throw new Error(`loop ${from}–${to}: outside the data (${t0}–${r.time(r.length - 1)})`);
    this.pump();
    this.region = [lo, hi];
    if (this.pos < lo || this.pos >= hi) {
      const due: FeedRecord[] = [];
      this.jump(lo, due);
      this.sink.records(due);
    }
    this.done = false;
    this.lastAt = this.clock.now();
    this.arm();
    return this.transport()!;
  }

  /** Plays at `factor` times the documented pace (what went before counts at the old one). */
  setSpeed(factor: number): FileTransport {
    this.loadedOrThrow();
    if (!(factor >= MIN_TRANSPORT_SPEED && factor <= MAX_TRANSPORT_SPEED)) throw new Error(`speed: a factor from ${MIN_TRANSPORT_SPEED} to ${MAX_TRANSPORT_SPEED}, got ${factor}`);
    this.pump();
    this.factor = factor;
    return this.transport()!;
  }

  /** The numeric series, at most `2 × buckets` points (each bucket's lowest and highest), for drawing. */
  series(buckets = 500): FileSeries | undefined {
    const r = this.records;
    const n = r.length;
    if (!n) return undefined;
    const points: Array<[number, number]> = [];
    const per = Math.max(1, Math.ceil(n / buckets));
    for (let b = 0; b < n; b += per) {
      let lo = -1;
      let hi = -1;
      for (let i = b; i < Math.min(n, b + per); i++) {
        const v = r.record(i).value;
        if (typeof v !== 'number' || !Number.isFinite(v)) continue;
        if (lo < 0 || v < (r.record(lo).value as number)) lo = i;
        if (hi < 0 || v > (r.record(hi).value as number)) hi = i;
      }
      if (lo < 0) continue;
      for (const i of lo === hi ? [lo] : lo < hi ? [lo, hi] : [hi, lo]) points.push([r.time(i), r.record(i).value as number]);
    }
    return { first: r.time(0), last: r.time(n - 1), count: n, points };
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.disarm();
    this.records = recordsFile([]);
  }
}

export class SimSource implements Source {
  private timer: Disposable | undefined;
  private sim: Simulator | undefined;
  private started = 0;
  private readonly sink: SourceSink;

  constructor(
    readonly spec: SimSpec,
    sink: SourceSink,
    /** What paces it (default: wall time); data times are its epoch seconds. */
    private readonly clock: Clock = wallClock(),
  ) {
    this.sink = guarded(sink);
  }

  start(): void {
    this.started = this.clock.now();
    this.sim = new Simulator(this.spec, this.clock.toEpoch(this.started));
    this.pump();
    this.timer = this.clock.every(Math.min(STEP * 5, 1 / this.spec.rate / 2), () => this.pump());
  }

  private pump(): void {
    const samples = this.sim!.until(this.clock.now() - this.started + 1e-9);
    if (samples.length) this.sink.records(samples.map((s) => ({ value: s.value, dataTime: s.dataTime })));
  }

  async stop(): Promise<void> {
    this.timer?.dispose();
  }
}
