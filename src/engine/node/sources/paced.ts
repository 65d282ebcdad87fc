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

export class FileSource implements Source {
  private timer: Disposable | undefined;
  private records: FeedFile = recordsFile([]);
  private index = 0;
  private loop = 0;
  private started = 0;
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
    this.started = this.clock.now();
    if (this.pump()) this.timer = this.clock.every(STEP, () => this.pump() || this.timer?.dispose());
  }

  /** Data seconds per second of playback. */
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

  /** Hands over what is due; false once a file played once is done. */
  private pump(): boolean {
    const r = this.records;
    if (!r.length) return false;
    const t0 = r.time(0);
    const elapsedData = (this.clock.now() - this.started) * this.speed;
    const due: FeedRecord[] = [];
    while (this.loop * this.span + r.time(this.index) - t0 <= elapsedData) {
      const rec = r.record(this.index);
      due.push({ ...rec, dataTime: rec.dataTime + this.loop * this.span });
      if (++this.index >= r.length) {
        if (!this.spec.loop) {
          if (due.length) this.sink.records(due);
          return false;
        }
        this.index = 0;
        this.loop++;
      }
      if (due.length > 10_000) break;
    }
    if (due.length) this.sink.records(due);
    return true;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.timer?.dispose();
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
