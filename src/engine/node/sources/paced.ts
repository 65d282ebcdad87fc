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
import { describePace, describePlacement, loopSpan, paceFor, sharedPaces, type PacedSpan, type Placement } from '../../core/pace.ts';
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

/**
 * One clock for the dated file streams of a patch (core/pace.ts, sharedPaces):
 * each file source without a speed of its own joins when it starts, tells its
 * span once read (or that it keeps its own pace: no dates, or no data), and
 * starts playing when every member has, all at the same moment on one mapping
 * from data time to play time. A source joining later (a stream given another
 * file while playing) takes the axis as it is and the play head of a member.
 */
export class TimeAxis {
  private readonly pending = new Set<FileSource>();
  private readonly spans = new Map<FileSource, PacedSpan>();
  private readonly waiters: Array<() => void> = [];
  private placed: Map<FileSource, Placement> | undefined;
  /** Clock time at which the members started. */
  startedAt = 0;

  /** `speed`: `--speed` (data seconds per second), else the union is spread over `over` seconds. */
  constructor(
    readonly opts: { speed?: number; over: number },
    private readonly clock: Clock = wallClock(),
  ) {}

  join(member: FileSource): void {
    if (!this.placed) this.pending.add(member);
  }

  /**
   * The member's span (null: it keeps its own pace). Resolves, once every
   * member has said, to its placement (undefined: its own pace) and, for a
   * member joining late, another member to take the play head from.
   */
  async settle(member: FileSource, span: PacedSpan | null): Promise<{ placement?: Placement; peer?: FileSource }> {
    if (this.placed) {
      // Late: the axis stays as it is (a file longer than it is cut at its loop's end).
      const [peer, placement] = [...this.placed].find(([m]) => m !== member && m.transport() !== undefined) ?? [];
      if (!span || !placement || !peer) return {};
      this.placed.set(member, placement);
      return { placement, peer };
    }
    if (span) this.spans.set(member, span);
    this.pending.delete(member);
    if (this.pending.size > 0) await new Promise<void>((r) => this.waiters.push(r));
    else {
      const names = new Map([...this.spans.keys()].map((m, i) => [m, `${m.name ?? `file ${i + 1}`}`]));
      const byName = sharedPaces(new Map([...this.spans].map(([m, s]) => [names.get(m)!, s])), this.opts);
      this.placed = new Map([...this.spans.keys()].map((m) => [m, byName.get(names.get(m)!)!]));
      this.startedAt = this.clock.now();
      for (const w of this.waiters.splice(0)) w();
    }
    return { placement: this.placed!.get(member) };
  }
}

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
  /** Data time at the start of each loop (the first record's, or the shared axis's). */
  private t0 = 0;
  /** Data seconds of a loop and data seconds per second of playing (its own pace, or the shared axis's). */
  private loopLength = 1;
  private paceSpeed = 1;
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
    /** The patch's shared time axis, for a file without a speed of its own. */
    private readonly axis?: TimeAxis,
    /** The stream's name (pace lines). */
    readonly name?: string,
  ) {
    this.sink = guarded(sink);
  }

  /** What was read, once it has been (rows kept, rejected by reason, sorted). */
  loaded: string | undefined;

  /** Settles once the file has been read and playing has begun (or failed). */
  ready: Promise<void> = Promise.resolve();

  start(): void {
    this.sink.connecting();
    if (this.onAxis) this.axis!.join(this);
    this.ready = this.load();
  }

  /** True when it plays on the patch's shared axis (no speed of its own). */
  private get onAxis(): boolean {
    return this.axis !== undefined && this.spec.speed === undefined;
  }

  private async load(): Promise<void> {
    let file: FeedFile;
    try {
      file = await readFeedFile(this.path, this.spec, this.limits);
    } catch (e) {
      if (this.onAxis) void this.axis!.settle(this, null);
      this.sink.error(e);
      return;
    }
    if (this.stopped) {
      if (this.onAxis) void this.axis!.settle(this, null);
      return;
    }
    const report = file.report;
    // Records without a time cannot be paced (a CSV's rows always have one).
    if (!report) {
      const timed: FeedRecord[] = [];
      for (let i = 0; i < file.length; i++) if (Number.isFinite(file.time(i))) timed.push(file.record(i));
      file = recordsFile(timed);
    }
    const n = file.length;
    const span: PacedSpan | null = n && !report?.untimed ? { first: file.time(0), last: file.time(n - 1), n } : null;
    // On the shared axis, it waits for the patch's other dated files to be read.
    const { placement, peer } = this.onAxis ? await this.axis!.settle(this, span) : {};
    if (this.stopped) return;
    this.records = file;
    if (n === 0) {
      this.loaded = describeFeedFile(file);
      this.onLoaded?.(this.loaded);
      return this.sink.error(new Error(`${this.path}: no timed records`));
    }
    const own = (): Placement => {
      const pace = paceFor(file.time(0), file.time(n - 1), n, { speed: this.spec.speed ?? this.axis?.opts.speed, over: this.spreadSeconds });
      return { pace, origin: file.time(0), first: file.time(0), last: file.time(n - 1), sharedWith: [] };
    };
    const p = placement ?? own();
    this.t0 = p.origin;
    this.loopLength = p.pace.loopSpan;
    this.paceSpeed = p.pace.speed;
    const name = this.name ?? '';
    const line = placement ? describePlacement(name, p) : describePace(name, file.time(0), file.time(n - 1), p.pace, report?.untimed);
    this.loaded = `${describeFeedFile({ ...file, report })}; ${line.slice(name.length + 2)}`;
    this.onLoaded?.(this.loaded);
    this.lastAt = placement && !peer ? this.axis!.startedAt : this.clock.now();
    if (peer) {
      // Joining a playing axis: the same play head, loop and speed as the others.
      peer.pump();
      this.pos = peer.pos;
      this.factor = peer.factor;
      this.region = peer.region;
      this.index = this.indexAt(this.pos) + (this.records.time(0) - this.t0 <= this.pos ? 1 : 0);
      this.lastAt = peer.lastAt;
    }
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
    return this.records.length ? this.paceSpeed : 1;
  }

  /** Data seconds of a loop: the data's span plus one step, or the shared axis's. */
  get span(): number {
    return this.records.length ? this.loopLength : 1;
  }

  /** Data time at the start of a loop: the first record's, or the shared axis's. */
  get origin(): number {
    return this.t0;
  }

  /** Data seconds between two of its records, on average (its own span plus one step, over its count). */
  private get step(): number {
    const r = this.records;
    const n = r.length;
    return n ? loopSpan(r.time(0), r.time(n - 1), n) / n : 1;
  }

  /** Hands a record over, its data time shifted so times only grow (by at least one step, and by the distance jumped back). */
  private emit(i: number, due: FeedRecord[]): void {
    const rec = this.records.record(i);
    let out = rec.dataTime + this.shift;
    if (out <= this.lastOut) {
      this.shift += this.lastOut - out + this.step;
      out = rec.dataTime + this.shift;
    }
    this.lastOut = out;
    due.push({ ...rec, dataTime: out });
  }

  /** The last record at or before `offset` data seconds after the first (binary search: times are sorted). */
  private indexAt(offset: number): number {
    const r = this.records;
    const t = this.t0 + offset;
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
    // Before its first record (a stream whose data starts later on the shared axis), nothing is due yet.
    if (this.records.time(i) - this.t0 > offset) {
      this.index = i;
      return;
    }
    this.emit(i, due);
    this.index = i + 1;
  }

  /** Hands over what is due; false once a file played once is done. */
  private pump(): boolean {
    const r = this.records;
    if (!r.length || this.done) return false;
    const now = this.clock.now();
    this.pos += Math.max(0, now - this.lastAt) * this.speed * this.factor;
    this.lastAt = Math.max(now, this.lastAt);
    const t0 = this.t0;
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
      if (this.region && r.time(this.index) - t0 <= lo) {
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
    const t0 = this.t0;
    return {
      time: t0 + Math.min(this.pos, this.span),
      index: Math.max(0, Math.min(n - 1, this.index - 1)),
      count: n,
      first: r.time(0),
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
    this.loadedOrThrow();
    if (!Number.isFinite(time)) throw new Error(`seek: the time must be a finite number of data seconds, got ${time}`);
    this.pump();
    const [lo, hi] = this.region ?? [0, this.span];
    // Inside [lo, hi): the loop's end is the next loop's start.
    const offset = Math.min(Math.max(time - this.t0, lo), lo + (hi - lo) * (1 - 1e-9));
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
    this.loadedOrThrow();
    if (region === null) {
      this.region = undefined;
      return this.transport()!;
    }
    const [from, to] = region;
    if (!Number.isFinite(from) || !Number.isFinite(to) || !(from < to)) throw new Error(`loop: from (${from}) must be before to (${to})`);
    const t0 = this.t0;
    const lo = Math.max(0, from - t0);
    const hi = Math.min(this.span, to - t0);
    if (!(lo < hi)) throw new Error(`loop ${from}–${to}: outside the data (${t0}–${t0 + this.span})`);
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
