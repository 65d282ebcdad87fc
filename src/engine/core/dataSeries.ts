/**
 * Data series: columns of timestamped numbers parsed from CSV text, and their
 * placement on the audio timeline (spread over a render, or replayed at a speed).
 * Pure: the caller reads the file (and may stream it through {@link CsvSeriesReader}).
 */
import { parse } from 'csv-parse/sync';
import { parseFiniteNumber } from './numbers.ts';

/** A time series in data seconds (epoch seconds for dates, or row numbers). */
export interface Series<V extends number | string = number> {
  /** Increasing data times; a Float64Array for series read from files. */
  times: ArrayLike<number>;
  /** Numbers; text only for streams that map categories. */
  values: ArrayLike<V>;
  /** Rows not kept (missing, not a number, bad or duplicate time); `report` says why. */
  skipped: number;
  column: string;
  timeColumn?: string;
  /** What loading did with each row, for the summary commands print. */
  report?: LoadReport;
}

/** Why a row of a data file was not kept. */
export type RowProblem = 'empty value' | 'not a number' | 'not finite' | 'bad time' | 'duplicate time';

/** What became of the rows of a data file. */
export interface LoadReport {
  /** Data rows read (the header not counted). */
  rows: number;
  /** Rows kept as values. */
  kept: number;
  /** Rows not kept, by reason. */
  rejected: Partial<Record<RowProblem, number>>;
  /** The first few rejected rows, `row 12: not a number "0x190"` (data rows counted from 1, after the header). */
  examples: string[];
  /** True when the rows were not in time order and were sorted. */
  sorted: boolean;
}

/** `741 rows: 741 kept, sorted by time (the file was not in time order)`, `635 rows: 0 values, 635 rejected (not a number: 635)`. */
export function formatLoadReport(r: LoadReport): string {
  const reasons = Object.entries(r.rejected).map(([why, n]) => `${why}: ${n}`);
  const rejected = r.rows - r.kept;
  let out = `${r.rows} rows: ${r.kept === 0 ? '0 values' : `${r.kept} kept`}`;
  if (rejected > 0) out += `, ${rejected} rejected (${reasons.join(', ')}; first: ${r.examples[0]})`;
  if (r.sorted) out += ', sorted by time (the file was not in time order)';
  return out;
}

/** Limits on what one data file may hold, so a huge file fails clearly instead of exhausting memory. */
export interface SeriesLimits {
  /** Most data rows read (default {@link MAX_SERIES_ROWS}). */
  maxRows?: number;
}

/** Default row limit: 16 bytes a kept row, so 30 million rows take 480 MB at most. */
export const MAX_SERIES_ROWS = 30_000_000;

const TIME_NAME = /^(date|time|timestamp|datetime|year|month|day|t)$/i;
/** Rows looked at to choose the value column when none is named. */
const DETECT_ROWS = 20;
/** Rejected rows quoted in a report. */
const EXAMPLES = 3;

/**
 * Parses a time cell: ISO dates and times → epoch seconds (UTC when no zone is
 * given); plain numbers are seconds, or years in a column named "year".
 */
export function parseTimeCell(cell: string, isYear = false): number {
  const s = cell.trim();
  if (s === '') return NaN;
  if (/^-?\d+(\.\d+)?$/.test(s)) return isYear ? Date.UTC(Number(s), 0, 1) / 1000 : Number(s);
  // A date-time with no zone is UTC, so results never depend on the machine's zone.
  const ms = Date.parse(/^\d{4}-\d{2}-\d{2}[T ][\d:.]+$/.test(s) ? s.replace(' ', 'T') + 'Z' : s);
  return Number.isNaN(ms) ? NaN : ms / 1000;
}

/** A growable Float64Array (capacity doubles), so a column costs 8 bytes a row, not an object. */
export class Float64Column {
  private data = new Float64Array(1024);
  length = 0;

  push(x: number): void {
    if (this.length === this.data.length) {
      const bigger = new Float64Array(this.data.length * 2);
      bigger.set(this.data);
      this.data = bigger;
    }
    this.data[this.length++] = x;
  }

  /** The values: a view, not a copy, so the peak stays 1.5 times the column (the spare capacity is at most as much again). */
  take(): Float64Array {
    return this.data.subarray(0, this.length);
  }
}

/**
 * Reads one numeric column of a CSV/TSV file row by row, so a caller can
 * stream a file of any size through it: the header, then each row with its
 * line, then {@link CsvSeriesReader.finish}. Values go into Float64Arrays (16
 * bytes a row). Every row not kept is counted with its reason. Rows out of time
 * order are sorted by time at the end (a file is a whole data set, often
 * exported newest first, not a live feed where late rows are stale); of rows
 * with the same time the first is kept.
 *
 * The time column is the one named, else the first whose header looks like a
 * time (date, time, timestamp, year…), else row numbers. The value column is the
 * one named, else the first column of numbers (by the first 20 rows) that is
 * not the time. `where` names the file in errors.
 */
export class CsvSeriesReader {
  private headers: string[] | undefined;
  private vi = -1;
  private ti = -1;
  private isYear = false;
  private pending: Array<{ cells: string[]; index: number }> | undefined = [];
  private readonly times = new Float64Column();
  private readonly values = new Float64Column();
  private rows = 0;
  private readonly rejected: Partial<Record<RowProblem, number>> = {};
  private readonly examples: string[] = [];
  private readonly maxRows: number;

  constructor(
    private readonly where: string,
    private readonly column?: string,
    private readonly timeColumn?: string,
    limits: SeriesLimits = {},
  ) {
    this.maxRows = limits.maxRows ?? MAX_SERIES_ROWS;
  }

  /** The header row; named columns must be in it. */
  header(cells: string[]): void {
    cells = cells.map((c) => c.trim());
    this.headers = cells;
    const list = () => cells.join(', ');
    if (this.timeColumn !== undefined && !cells.includes(this.timeColumn)) throw new Error(`${this.where}: no time column "${this.timeColumn}" (columns: ${list()})`);
    if (this.column !== undefined && !cells.includes(this.column)) throw new Error(`${this.where}: no column "${this.column}" (columns: ${list()})`);
    this.ti = this.timeColumn !== undefined ? cells.indexOf(this.timeColumn) : cells.findIndex((h) => TIME_NAME.test(h));
    this.isYear = this.ti >= 0 && /^year$/i.test(cells[this.ti]!);
    if (this.column !== undefined) {
      this.vi = cells.indexOf(this.column);
      this.pending = undefined;
    }
  }

  /** One row of cells (the first is the header). */
  row(cells: string[]): void {
    if (!this.headers) return this.header(cells);
    if (++this.rows > this.maxRows) throw new Error(`${this.where}: more than ${this.maxRows} rows, over the limit for one data file`);
    if (this.pending) {
      this.pending.push({ cells, index: this.rows - 1 });
      if (this.pending.length >= DETECT_ROWS) this.detect();
      return;
    }
    this.take(cells, this.rows - 1);
  }

  private detect(): void {
    const headers = this.headers!;
    const rows = this.pending!;
    this.pending = undefined;
    this.vi = headers.findIndex((_, i) => i !== this.ti && rows.every((r) => typeof parseFiniteNumber(r.cells[i] ?? '') === 'number'));
    if (this.vi < 0) throw new Error(`${this.where}: no numeric column found (columns: ${headers.join(', ')}); name one with #COLUMN`);
    for (const r of rows) this.take(r.cells, r.index);
  }

  private reject(why: RowProblem, index: number, cell: string): void {
    this.rejected[why] = (this.rejected[why] ?? 0) + 1;
    const c = cell.trim();
    if (this.examples.length < EXAMPLES) this.examples.push(`row ${index + 1}: ${why}${c === '' ? '' : ` ${JSON.stringify(c.length > 30 ? c.slice(0, 27) + '...' : c)}`}`);
  }

  /** `index`: the row's number among data rows (from 0), its time when the file has no time column. */
  private take(cells: string[], index: number): void {
    const raw = cells[this.vi] ?? '';
    const v = parseFiniteNumber(raw);
    if (typeof v !== 'number') return this.reject(v === 'empty' ? 'empty value' : v === 'non-finite' ? 'not finite' : 'not a number', index, raw);
    const t = this.ti >= 0 ? parseTimeCell(cells[this.ti] ?? '', this.isYear) : index;
    if (!Number.isFinite(t)) return this.reject('bad time', index, cells[this.ti] ?? '');
    this.times.push(t);
    this.values.push(v);
  }

  /** The series: sorted by time, duplicate times dropped, every row accounted for in `report`. */
  finish(): Series {
    if (!this.headers || this.rows === 0) throw new Error(`${this.where}: no rows`);
    if (this.pending) this.detect();
    let times = this.times.take();
    let values = this.values.take();
    let sorted = false;
    for (let i = 1; i < times.length; i++)
      if (times[i]! < times[i - 1]!) {
        sorted = true;
        break;
      }
    if (sorted) {
      // Stable: of equal times the row that came first stays first, and is the one kept.
      const order = new Uint32Array(times.length).map((_, i) => i).sort((a, b) => times[a]! - times[b]! || a - b);
      times = Float64Array.from(order, (i) => times[i]!);
      values = Float64Array.from(order, (i) => values[i]!);
    }
    let n = 0;
    for (let i = 0; i < times.length; i++) {
      if (n > 0 && times[i] === times[n - 1]) {
        this.rejected['duplicate time'] = (this.rejected['duplicate time'] ?? 0) + 1;
        if (this.examples.length < EXAMPLES) this.examples.push(`duplicate time ${times[i]}`);
        continue;
      }
      times[n] = times[i]!;
      values[n++] = values[i]!;
    }
    if (n < times.length) {
      times = times.slice(0, n);
      values = values.slice(0, n);
    }
    const report: LoadReport = { rows: this.rows, kept: n, rejected: this.rejected, examples: this.examples, sorted };
    const column = this.headers[this.vi]!;
    if (n === 0) throw new Error(`${this.where}: column "${column}" has no numeric values (${formatLoadReport(report)})`);
    return { times, values, skipped: this.rows - n, column, timeColumn: this.ti >= 0 ? this.headers[this.ti] : undefined, report };
  }
}

/** The delimiter of a CSV/TSV file: a tab in the header line makes it TSV. */
export function csvDelimiter(firstLine: string): ',' | '\t' {
  return firstLine.includes('\t') ? '\t' : ',';
}

/**
 * csv-parse options for data files (the delimiter from {@link csvDelimiter}).
 * Cells are trimmed by the reader, not by csv-parse: its `trim` and `info`
 * options made streaming a 20 MB file 4 to 10 times slower.
 */
export function csvOptions(delimiter: string) {
  return { delimiter, skip_empty_lines: true, relax_column_count: true, bom: true } as const;
}

/** Prefixes a csv-parse error with the file and line it is about. */
export function csvError(e: unknown, where: string): Error {
  const line = (e as { lines?: number }).lines;
  return new Error(`${where}${line ? `:${line}` : ''}: ${(e as Error).message.replace(/ at line \d+$/, '')}`);
}

/**
 * Reads one numeric column of CSV (or TSV) text, with {@link CsvSeriesReader}
 * (see there); for text already in memory (an HTTP body). Files are streamed.
 */
export function parseCsvSeries(text: string, column?: string, timeColumn?: string, where = 'data', limits?: SeriesLimits): Series {
  const reader = new CsvSeriesReader(where, column, timeColumn, limits);
  let records: string[][];
  try {
    records = parse(text, csvOptions(csvDelimiter(text.split('\n', 1)[0]!))) as string[][];
  } catch (e) {
    throw csvError(e, where);
  }
  for (const r of records) reader.row(r);
  return reader.finish();
}

/** A value at an engine time. */
export interface TimedValue<V extends number | string = number | string> {
  /** Engine seconds: when it plays. */
  time: number;
  value: V;
  /** When it was measured (epoch seconds), if known. */
  dataTime?: number;
}

/** Thinning of {@link placeSeries}: at most `perSecond` points a second of audio; `dropped` is filled in. */
export interface Thinning {
  perSecond: number;
  dropped: number;
}

/**
 * Places a series on the audio timeline. With `speed` (data seconds per audio
 * second) the series starts at `offset` and plays at that rate; without it the
 * whole series is spread evenly over `duration` seconds. With `thin`, points
 * closer than 1/perSecond of audio are thinned to the last of each such slot
 * (millions of rows in a minute's render are more than can be heard, and each
 * point costs an object and an engine update); `thin.dropped` counts them.
 */
export function placeSeries<V extends number | string>(series: Series<V>, duration: number, speed?: number, offset = 0, thin?: Thinning): TimedValue<V>[] {
  const t0 = series.times[0]!;
  const span = series.times[series.times.length - 1]! - t0;
  const out: TimedValue<V>[] = [];
  let lastSlot = -Infinity;
  for (let i = 0; i < series.times.length; i++) {
    const dt = series.times[i]! - t0;
    // Divide last, so the final point lands exactly on `duration` when spread.
    const time = offset + (speed !== undefined ? dt / speed : span > 0 ? (dt / span) * duration : 0);
    if (time > offset + duration) break;
    const point = { time, value: series.values[i]!, dataTime: series.times[i]! };
    if (thin) {
      const slot = Math.floor((time - offset) * thin.perSecond);
      if (slot === lastSlot) {
        out[out.length - 1] = point;
        thin.dropped++;
        continue;
      }
      lastSlot = slot;
    }
    out.push(point);
  }
  return out;
}
