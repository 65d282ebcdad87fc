/**
 * Data series: columns of timestamped numbers parsed from CSV text, and their
 * placement on the audio timeline (spread over a render, or replayed at a speed).
 * Pure: the caller reads the file.
 */
import { parse } from 'csv-parse/sync';

/** A time series in data seconds (epoch seconds for dates, or row numbers). */
export interface Series<V extends number | string = number> {
  times: number[];
  /** Numbers; text only for streams that map categories. */
  values: V[];
  /** Rows skipped because the value or the time was missing or not a number. */
  skipped: number;
  column: string;
  timeColumn?: string;
}

const TIME_NAME = /^(date|time|timestamp|datetime|year|month|day|t)$/i;

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

/**
 * Reads one numeric column of CSV (or TSV) text. The time column is the one named,
 * else the first whose header looks like a time (date, time, timestamp, year…),
 * else row numbers. The value column is the one named, else the first numeric
 * column that is not the time. Throws with a clear message when a named column
 * does not exist.
 */
export function parseCsvSeries(text: string, column?: string, timeColumn?: string, where = 'data'): Series {
  const delimiter = text.split('\n', 1)[0]!.includes('\t') ? '\t' : ',';
  const rows = parse(text, { delimiter, columns: true, skip_empty_lines: true, trim: true, relax_column_count: true, bom: true }) as Record<string, string>[];
  if (rows.length === 0) throw new Error(`${where}: no rows`);
  const headers = Object.keys(rows[0]!);
  if (timeColumn !== undefined && !headers.includes(timeColumn))
    throw new Error(`${where}: no time column "${timeColumn}" (columns: ${headers.join(', ')})`);
  const tcol = timeColumn ?? headers.find((h) => TIME_NAME.test(h));
  if (column !== undefined && !headers.includes(column))
    throw new Error(`${where}: no column "${column}" (columns: ${headers.join(', ')})`);
  const isYear = tcol !== undefined && /^year$/i.test(tcol);
  const vcol = column ?? headers.find((h) => h !== tcol && rows.slice(0, 20).every((r) => Number.isFinite(Number(r[h]))));
  if (!vcol) throw new Error(`${where}: no numeric column found (columns: ${headers.join(', ')}); name one with #COLUMN`);
  const times: number[] = [];
  const values: number[] = [];
  let skipped = 0;
  let last = -Infinity;
  rows.forEach((r, i) => {
    const raw = r[vcol] ?? '';
    const v = raw.trim() === '' ? NaN : Number(raw);
    const t = tcol ? parseTimeCell(r[tcol] ?? '', isYear) : i;
    // Non-numbers, and out-of-order or duplicate times, never reach the engine.
    if (!Number.isFinite(v) || !Number.isFinite(t) || t <= last) {
      skipped++;
      return;
    }
    last = t;
    times.push(t);
    values.push(v);
  });
  if (values.length === 0) throw new Error(`${where}: column "${vcol}" has no numeric values`);
  return { times, values, skipped, column: vcol, timeColumn: tcol };
}

/** A value at an engine time. */
export interface TimedValue<V extends number | string = number | string> {
  /** Engine seconds: when it plays. */
  time: number;
  value: V;
  /** When it was measured (epoch seconds), if known. */
  dataTime?: number;
}

/**
 * Places a series on the audio timeline. With `speed` (data seconds per audio
 * second) the series starts at `offset` and plays at that rate; without it the
 * whole series is spread evenly over `duration` seconds.
 */
export function placeSeries<V extends number | string>(series: Series<V>, duration: number, speed?: number, offset = 0): TimedValue<V>[] {
  const t0 = series.times[0]!;
  const span = series.times[series.times.length - 1]! - t0;
  const out: TimedValue<V>[] = [];
  for (let i = 0; i < series.times.length; i++) {
    const dt = series.times[i]! - t0;
    // Divide last, so the final point lands exactly on `duration` when spread.
    const time = offset + (speed !== undefined ? dt / speed : span > 0 ? (dt / span) * duration : 0);
    if (time > offset + duration) break;
    out.push({ time, value: series.values[i]!, dataTime: series.times[i]! });
  }
  return out;
}
