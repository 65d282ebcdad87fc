/**
 * Data series: columns of timestamped numbers parsed from CSV text, and their
 * placement on the audio timeline (spread over a render, or replayed at a speed).
 * Pure: the caller reads the file (and may stream it through {@link CsvSeriesReader}).
 */
import { parse } from 'csv-parse/sync';
import { parseFiniteNumber } from './numbers.ts';
import type { Aggregate, Shaping } from './sources/uri.ts';

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
  /** Rows left out by `where` filters, and the filters (`source=Renewables`). */
  filtered?: { rows: number; where: string };
  /** Rows combined with others of the same time (or resampling step), and how. */
  combined?: { rows: number; agg: Aggregate };
  /** Resampled to one value every `step` seconds. */
  resampled?: { step: number };
  /** The file has no time column: rows are played in order, one a data second. */
  untimed?: boolean;
}

/** `741 rows: 741 kept, sorted by time (the file was not in time order)`, `635 rows: 0 values, 635 rejected (not a number: 635)`. */
export function formatLoadReport(r: LoadReport): string {
  const reasons = Object.entries(r.rejected).map(([why, n]) => `${why}: ${n}`);
  const rejected = r.rows - r.kept;
  const left = rejected - (r.filtered?.rows ?? 0) - (r.combined?.rows ?? 0);
  let out = `${r.rows} rows: `;
  if (r.filtered) out += `${r.filtered.rows} not matching where ${r.filtered.where}, `;
  out += r.kept === 0 ? '0 values' : `${r.kept} kept`;
  if (r.combined) out += `, ${r.combined.rows} combined by ${r.combined.agg}${r.resampled ? ` into steps of ${formatStep(r.resampled.step)}` : ' with rows of the same time'}`;
  if (left > 0) out += `, ${left} rejected (${reasons.join(', ')}; first: ${r.examples[0]})`;
  if (r.sorted) out += ', sorted by time (the file was not in time order)';
  if (r.untimed) out += ', no time column: played in row order, one row a step';
  return out;
}

/** Limits on what one data file may hold, so a huge file fails clearly instead of exhausting memory. */
export interface SeriesLimits {
  /** Most data rows read (default {@link MAX_SERIES_ROWS}). */
  maxRows?: number;
  /** Keep text cells as text (for streams whose signals map categories), not rejected as "not a number". */
  text?: boolean;
}

/** Default row limit: 16 bytes a kept row, so 30 million rows take 480 MB at most. */
export const MAX_SERIES_ROWS = 30_000_000;

/** `1 d`, `6 h`, `30 s`: a resampling step for reports. */
export function formatStep(seconds: number): string {
  for (const [unit, n] of [['y', 31_557_600], ['d', 86400], ['h', 3600], ['min', 60]] as const) if (seconds >= n && seconds % n === 0) return `${seconds / n} ${unit}`;
  return `${seconds} s`;
}

/**
 * The offset of a time zone from UTC at a moment, in seconds: an IANA name
 * through Intl (so daylight saving time is right), or a fixed "+02:00".
 */
export function zoneOffset(tz: string, epochMs: number): number {
  const fixed = /^([+-])(\d{2}):?(\d{2})$/.exec(tz);
  if (fixed) return (fixed[1] === '-' ? -1 : 1) * (Number(fixed[2]) * 3600 + Number(fixed[3]) * 60);
  const parts = new Intl.DateTimeFormat('en-US', { timeZone: tz, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' }).formatToParts(new Date(epochMs));
  const get = (t: string) => Number(parts.find((p) => p.type === t)?.value ?? 0);
  const asUtc = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour') % 24, get('minute'), get('second'));
  return Math.round((asUtc - Math.floor(epochMs / 1000) * 1000) / 1000);
}

/** Epoch seconds of a wall-clock time in a zone (the UTC reading `localMs` shifted by the zone's offset then). */
function fromZone(localMs: number, tz: string): number {
  const guess = localMs - zoneOffset(tz, localMs) * 1000;
  return (localMs - zoneOffset(tz, guess) * 1000) / 1000;
}

/** `2020`, `2020-03`, `2020-03-15`, `2020-03-15T12:00[:00[.000]]` with no zone. */
const ZONELESS = /^(\d{4})-(\d{2})(?:-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?)?)?$/;

const TIME_NAME = /^(date|time|timestamp|datetime|year|month|day|t)$/i;
/** Rows looked at to choose the value column when none is named. */
const DETECT_ROWS = 20;
/** Rejected rows quoted in a report. */
const EXAMPLES = 3;

/**
 * Parses a time cell into epoch seconds: a year (in a column named "year"),
 * year-month (`2020-03`), an ISO date or date-time, with or without a zone
 * (without one it is in `tz`, default UTC, so results never depend on the
 * machine's zone), or a plain number: epoch seconds, or milliseconds when above
 * 1e11 (a date after the year 5000 in seconds).
 */
export function parseTimeCell(cell: string, isYear = false, tz?: string): number {
  const s = cell.trim();
  if (s === '') return NaN;
  if (/^-?\d+(\.\d+)?$/.test(s)) {
    const n = Number(s);
    if (isYear) return Date.UTC(n, 0, 1) / 1000;
    return Math.abs(n) > 1e11 ? n / 1000 : n;
  }
  const m = ZONELESS.exec(s);
  if (m) {
    const [mo, d, h, mi, sec] = [m[2], m[3], m[4], m[5], m[6]].map((x) => Number(x ?? 0));
    const ms = Date.UTC(Number(m[1]), mo! - 1, d || 1, h, mi, sec) + (m[7] ? Math.round(Number(m[7]) * 1000) : 0);
    if (mo! < 1 || mo! > 12 || (m[3] !== undefined && (d! < 1 || d! > 31)) || h! > 24 || mi! > 59 || sec! > 60) return NaN;
    return tz && tz !== 'UTC' ? fromZone(ms, tz) : ms / 1000;
  }
  const ms = Date.parse(s);
  return Number.isNaN(ms) ? NaN : ms / 1000;
}

/** What the time cells of a file may be, for errors. */
export const TIME_FORMATS = 'a year, year-month (2020-03), an ISO 8601 date or date-time (2020-03-15T12:00, with or without a zone), or epoch seconds or milliseconds';

/**
 * Combines rows that share a time, or a resampling step (`step` seconds from
 * the first time), with `agg` (default: keep the first when no step is given,
 * mean when one is; `count` with a step also gives the steps with none, as 0).
 * `times` must be sorted. Returns the new columns and how
 * many rows were merged into others.
 */
export function combineRows(times: Float64Array, values: Float64Array, agg: Aggregate | undefined, step?: number): { times: Float64Array; values: Float64Array; merged: number } {
  const how: Aggregate = agg ?? (step !== undefined ? 'mean' : 'first');
  const t0 = times[0] ?? 0;
  const key = (t: number) => (step !== undefined ? Math.floor((t - t0) / step + 1e-9) : t);
  const outT = new Float64Array(times.length);
  const outV = new Float64Array(times.length);
  let n = 0;
  let i = 0;
  while (i < times.length) {
    const k = key(times[i]!);
    let j = i;
    let sum = 0;
    let max = -Infinity;
    let min = Infinity;
    for (; j < times.length && key(times[j]!) === k; j++) {
      const v = values[j]!;
      sum += v;
      if (v > max) max = v;
      if (v < min) min = v;
    }
    const count = j - i;
    outT[n] = step !== undefined ? t0 + k * step : times[i]!;
    outV[n++] = how === 'mean' ? sum / count : how === 'sum' ? sum : how === 'max' ? max : how === 'min' ? min : how === 'last' ? values[j - 1]! : how === 'count' ? count : values[i]!;
    i = j;
  }
  if (how === 'count' && step !== undefined && n > 1) {
    // Counting events a step: a step with none is a 0, not a gap.
    const steps = Math.round((outT[n - 1]! - t0) / step) + 1;
    const denseT = new Float64Array(steps).map((_, k) => t0 + k * step);
    const denseV = new Float64Array(steps);
    for (let k = 0; k < n; k++) denseV[Math.round((outT[k]! - t0) / step)] = outV[k]!;
    return { times: denseT, values: denseV, merged: times.length - n };
  }
  return { times: outT.slice(0, n), values: outV.slice(0, n), merged: times.length - n };
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
  /** `where` filters as column indexes. */
  private filters: Array<{ index: number; value: string }> = [];
  private filtered = 0;
  /** Values seen in the first filter's column, for the message when none match. */
  private readonly seen = new Set<string>();
  /** The line of the first time that could not be read, and its text. */
  private badTime: { line: number; cell: string } | undefined;
  /** Text mode: the cells, which `values` index. */
  private readonly labels: string[] | undefined;

  constructor(
    private readonly where: string,
    private readonly column?: string,
    private readonly timeColumn?: string,
    limits: SeriesLimits = {},
    private readonly shaping: Shaping = {},
  ) {
    this.maxRows = limits.maxRows ?? MAX_SERIES_ROWS;
    if (limits.text) this.labels = [];
  }

  /** The header row; named columns must be in it. */
  header(cells: string[]): void {
    cells = cells.map((c) => c.trim());
    this.headers = cells;
    const list = () => cells.join(', ');
    if (this.timeColumn !== undefined && !cells.includes(this.timeColumn)) throw new Error(`${this.where}: no time column "${this.timeColumn}" (columns: ${list()})`);
    if (this.column !== undefined && !cells.includes(this.column)) throw new Error(`${this.where}: no column "${this.column}" (columns: ${list()})`);
    for (const [col, value] of this.shaping.where ?? []) {
      const index = cells.indexOf(col);
      if (index < 0) throw new Error(`${this.where}:1: no column "${col}" to filter on (where ${col}=${value}; columns: ${list()})`);
      this.filters.push({ index, value });
    }
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
    for (const f of this.filters) {
      const cell = (cells[f.index] ?? '').trim();
      if (f === this.filters[0] && this.seen.size < 12) this.seen.add(cell);
      if (cell !== f.value) {
        this.filtered++;
        return;
      }
    }
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
    if (rows.length === 0) return;
    const filterColumns = this.filters.map((f) => f.index);
    this.vi = headers.findIndex((_, i) => i !== this.ti && !filterColumns.includes(i) && rows.every((r) => typeof parseFiniteNumber(r.cells[i] ?? '') === 'number'));
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
    let v = parseFiniteNumber(raw);
    if (this.labels && v === 'not-a-number') {
      v = this.labels.length;
      this.labels.push(raw.trim());
    } else if (this.labels && typeof v === 'number') {
      this.labels.push(raw.trim());
      v = this.labels.length - 1;
    }
    if (typeof v !== 'number') return this.reject(v === 'empty' ? 'empty value' : v === 'non-finite' ? 'not finite' : 'not a number', index, raw);
    const t = this.ti >= 0 ? parseTimeCell(cells[this.ti] ?? '', this.isYear, this.shaping.tz) : index;
    if (!Number.isFinite(t)) {
      // Data rows start on line 2 (after the header).
      this.badTime ??= { line: index + 2, cell: cells[this.ti] ?? '' };
      return this.reject('bad time', index, cells[this.ti] ?? '');
    }
    this.times.push(t);
    this.values.push(v);
  }

  /** The series: sorted by time, rows of the same time combined (or all but the first dropped), every row accounted for in `report`. */
  finish(): Series {
    return this.finishAny() as Series;
  }

  /** {@link finish} for a reader in text mode: values are numbers or text. */
  finishAny(): Series<number | string> {
    if (!this.headers || this.rows === 0) throw new Error(`${this.where}: no rows`);
    const whereText = (this.shaping.where ?? []).map(([c, v]) => `${c}=${v}`).join(' and ');
    if (this.filters.length && this.filtered === this.rows) {
      const [col] = this.shaping.where![0]!;
      throw new Error(`${this.where}: no rows where ${whereText} (of ${this.rows} rows; values of ${col}: ${[...this.seen].join(', ')}${this.seen.size >= 12 ? ', …' : ''})`);
    }
    if (this.pending) this.detect();
    let times = this.times.take();
    let values = this.values.take();
    if (times.length === 0 && this.badTime && this.ti >= 0)
      throw new Error(`${this.where}:${this.badTime.line}: cannot read the time ${JSON.stringify(this.badTime.cell)} in column "${this.headers[this.ti]}" (expected ${TIME_FORMATS}; name the zone with &tz=)`);
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
    const { agg, resample } = this.shaping;
    let combined: LoadReport['combined'];
    if (this.labels && (agg !== undefined || resample !== undefined)) throw new Error(`${this.where}: agg and resample combine numbers; a stream of categories cannot use them`);
    if (agg !== undefined || resample !== undefined) {
      const c = combineRows(times, values, agg, resample);
      if (c.merged > 0 || resample !== undefined) combined = { rows: c.merged, agg: agg ?? 'mean' };
      times = c.times;
      values = c.values;
    } else {
      let n = 0;
      for (let i = 0; i < times.length; i++) {
        if (n > 0 && times[i] === times[n - 1]) {
          this.rejected['duplicate time'] = (this.rejected['duplicate time'] ?? 0) + 1;
          if (this.examples.length < EXAMPLES) this.examples.push(`duplicate time ${times[i]} (several rows a time: pick rows with &where=COLUMN=VALUE or combine them with &agg=mean|sum|last|max)`);
          continue;
        }
        times[n] = times[i]!;
        values[n++] = values[i]!;
      }
      if (n < times.length) {
        times = times.slice(0, n);
        values = values.slice(0, n);
      }
    }
    const n = times.length;
    const report: LoadReport = { rows: this.rows, kept: n, rejected: this.rejected, examples: this.examples, sorted };
    if (this.filters.length) report.filtered = { rows: this.filtered, where: whereText };
    if (combined) report.combined = combined;
    if (resample !== undefined) report.resampled = { step: resample };
    if (this.ti < 0) report.untimed = true;
    const column = this.headers[this.vi] ?? this.column ?? '?';
    if (n === 0) throw new Error(`${this.where}: column "${column}" has no numeric values (${formatLoadReport(report)})`);
    const labels = this.labels;
    // Text mode: cells that read as numbers stay numbers (a category map takes raw numbers too).
    const out = labels ? Array.from(values, (i) => (typeof parseFiniteNumber(labels[i]!) === 'number' ? Number(labels[i]) : labels[i]!)) : values;
    return { times, values: out, skipped: this.rows - n, column, timeColumn: this.ti >= 0 ? this.headers[this.ti] : undefined, report };
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
export function parseCsvSeries(text: string, column?: string, timeColumn?: string, where = 'data', limits?: SeriesLimits, shaping?: Shaping): Series {
  const reader = new CsvSeriesReader(where, column, timeColumn, limits, shaping);
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
