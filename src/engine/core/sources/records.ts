/**
 * Feed records: what every source turns its input into (a value, the time it
 * was measured, and for event feeds the event's properties), and the parsers
 * of the file and payload formats feeds use: CSV/TSV, JSON, NDJSON, GeoJSON
 * FeatureCollections (the shape of USGS earthquake feeds) and our own recording
 * format. Pure: callers read files and sockets.
 */
import { JSONPath } from 'jsonpath-plus';
import { parse } from 'csv-parse/sync';
import { combineRows, parseCsvSeries, parseTimeCell, type LoadReport } from '../dataSeries.ts';
import { parseFiniteNumber } from '../numbers.ts';
import type { FieldSelect, FileFormat, Shaping } from './uri.ts';

/** One reading or event from a feed, before validation. */
export interface FeedRecord {
  /** When it was measured, epoch seconds (NaN when the feed gave none: the receiver stamps it). */
  dataTime: number;
  /** The value as it came: anything, since feeds send anything; the gate decides. */
  value: unknown;
  /** The event's properties (GeoJSON features, JSON objects), for event feeds and recordings. */
  data?: Record<string, unknown>;
  /** A record's identity, so a polled feed emits each event once. */
  id?: string;
  /** The unit the feed says the value is in, if it says. */
  unit?: string;
}

/** Epoch seconds from a time field: ISO text, epoch seconds, or epoch milliseconds (> 1e11). */
export function parseTimeValue(v: unknown): number {
  if (typeof v === 'number') return Number.isFinite(v) ? (Math.abs(v) > 1e11 ? v / 1000 : v) : NaN;
  if (typeof v === 'string') {
    const n = parseTimeCell(v);
    return /^-?\d+(\.\d+)?$/.test(v.trim()) && Math.abs(n) > 1e11 ? n / 1000 : n;
  }
  return NaN;
}

/**
 * Nodes selected by a JSONPath. Script expressions are evaluated by
 * jsonpath-plus's own sandboxed evaluator ("safe"), never by `eval`.
 */
export function selectJson(doc: unknown, path: string): unknown[] {
  if (doc === null || typeof doc !== 'object') return path === '$' ? [doc] : [];
  return JSONPath({ path, json: doc as object, wrap: true, eval: 'safe' }) as unknown[];
}

/** Turns one selected JSON node into a record, reading value/time/id properties of objects. */
export function recordFromNode(node: unknown, fields: FieldSelect): FeedRecord {
  if (node !== null && typeof node === 'object' && !Array.isArray(node)) {
    const o = node as Record<string, unknown>;
    const valueKey = fields.value ?? ('value' in o ? 'value' : undefined);
    const timeKey = fields.time ?? ['time', 'timestamp', 'date', 't'].find((k) => k in o);
    const unit = typeof o.unit === 'string' ? o.unit : undefined;
    return {
      value: valueKey === undefined ? undefined : o[valueKey],
      dataTime: timeKey === undefined ? NaN : parseTimeValue(o[timeKey]),
      id: fields.id !== undefined && o[fields.id] !== undefined ? String(o[fields.id]) : undefined,
      data: o,
      unit,
    };
  }
  return { value: node, dataTime: NaN };
}

/** Records from a parsed JSON document: the selection (default: each element of an array, or the whole). */
export function recordsFromJson(doc: unknown, fields: FieldSelect): FeedRecord[] {
  if (isFeatureCollection(doc)) return recordsFromGeoJson(doc, fields);
  const path = fields.select ?? (Array.isArray(doc) ? '$[*]' : '$');
  // A bare value selected from an object takes the object's own time field, if it has one.
  const docTime = doc !== null && typeof doc === 'object' && !Array.isArray(doc) ? recordFromNode(doc, fields).dataTime : NaN;
  return selectJson(doc, path).map((n) => {
    const r = recordFromNode(n, fields);
    return Number.isNaN(r.dataTime) && (n === null || typeof n !== 'object') ? { ...r, dataTime: docTime } : r;
  });
}

interface Feature {
  type: 'Feature';
  id?: string | number;
  properties?: Record<string, unknown> | null;
  geometry?: { type: string; coordinates?: unknown } | null;
}

function isFeatureCollection(doc: unknown): doc is { type: 'FeatureCollection'; features: Feature[] } {
  return (
    doc !== null && typeof doc === 'object' && (doc as { type?: unknown }).type === 'FeatureCollection' && Array.isArray((doc as { features?: unknown }).features)
  );
}

/**
 * Each feature becomes an event: its value from `properties[fields.value]`
 * (default `mag`, else `value`, else the first numeric property), its time from
 * `properties[fields.time ?? 'time']`, its id from `feature.id` (or the `id`
 * property named), and its properties plus `lon`, `lat`, `depth` as data.
 * Sorted by time, oldest first.
 */
export function recordsFromGeoJson(doc: unknown, fields: FieldSelect): FeedRecord[] {
  if (!isFeatureCollection(doc)) throw new Error('not a GeoJSON FeatureCollection (expected {"type":"FeatureCollection","features":[…]})');
  const selected = fields.select ? (selectJson(doc, fields.select) as Feature[]) : doc.features;
  const out: FeedRecord[] = [];
  for (const f of selected) {
    if (f === null || typeof f !== 'object') continue;
    const props = f.properties && typeof f.properties === 'object' ? f.properties : {};
    const valueKey =
      fields.value ?? (['mag', 'value'].find((k) => typeof props[k] === 'number') || Object.keys(props).find((k) => typeof props[k] === 'number'));
    const coords = f.geometry?.type === 'Point' && Array.isArray(f.geometry.coordinates) ? (f.geometry.coordinates as unknown[]) : [];
    const data: Record<string, unknown> = { ...props };
    if (typeof coords[0] === 'number') data.lon = coords[0];
    if (typeof coords[1] === 'number') data.lat = coords[1];
    if (typeof coords[2] === 'number') data.depth = coords[2];
    const id = fields.id !== undefined ? props[fields.id] : f.id;
    out.push({
      // The value may be a property or a coordinate (lon, lat, depth).
      value: valueKey === undefined ? undefined : data[valueKey],
      dataTime: parseTimeValue(props[fields.time ?? 'time']),
      id: id === undefined || id === null ? undefined : String(id),
      data,
    });
  }
  // Stable sort by time; records without a time keep their place at the end.
  return out.map((r, i) => ({ r, i })).sort((a, b) => (a.r.dataTime || Infinity) - (b.r.dataTime || Infinity) || a.i - b.i).map((x) => x.r);
}

// ------------------------------------------------------------ recordings
/** The header of a recording made by `ecosym record`. */
export const RECORDING_HEADER = 'time,stream,value,data';

/** One row of a recording. */
export interface RecordingRow {
  dataTime: number;
  stream: string;
  value: number | string | null;
  data?: Record<string, unknown>;
}

function csvCell(s: string): string {
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/**
 * A recording row as CSV: `time` ISO 8601, `stream`, `value` (a number; empty
 * when the reading was text, which then goes in `data.text`), `data` as JSON.
 */
export function formatRecordingRow(r: RecordingRow): string {
  const text = typeof r.value === 'string' ? r.value : undefined;
  const data = text !== undefined ? { ...r.data, text } : r.data;
  const value = typeof r.value === 'number' && Number.isFinite(r.value) ? String(r.value) : '';
  return [new Date(r.dataTime * 1000).toISOString(), csvCell(r.stream), value, data ? csvCell(JSON.stringify(data)) : ''].join(',');
}

/** True when CSV text starts with the recording header. */
export function isRecording(text: string): boolean {
  return text.replace(/^\uFEFF/, '').trimStart().split(/\r?\n/, 1)[0]!.trim() === RECORDING_HEADER;
}

/** Parses a recording, optionally only one stream's rows. Rows that cannot be read are counted. */
export function parseRecording(text: string, stream?: string): { rows: RecordingRow[]; skipped: number; streams: string[] } {
  const opts = { columns: true, skip_empty_lines: true, bom: true, relax_column_count: true } as const;
  let rows: Record<string, string>[];
  let skipped = 0;
  try {
    rows = parse(text, opts) as Record<string, string>[];
  } catch {
    // A line torn by a crash (an unclosed quote): read line by line, skipping bad ones.
    // Our rows never span lines (JSON escapes newlines).
    const lines = text.split(/\r?\n/);
    rows = [];
    for (const line of lines.slice(1)) {
      if (line.trim() === '') continue;
      try {
        rows.push(...(parse(`${lines[0]}\n${line}`, opts) as Record<string, string>[]));
      } catch {
        skipped++;
      }
    }
  }
  const out: RecordingRow[] = [];
  const streams = new Set<string>();
  for (const r of rows) {
    const name = r.stream ?? '';
    streams.add(name);
    if (stream !== undefined && name !== stream) continue;
    const dataTime = parseTimeCell(r.time ?? '');
    let data: Record<string, unknown> | undefined;
    try {
      data = r.data ? (JSON.parse(r.data) as Record<string, unknown>) : undefined;
    } catch {
      skipped++;
      continue;
    }
    const parsed = r.value === undefined || r.value.trim() === '' ? undefined : parseFiniteNumber(r.value);
    const value = parsed === undefined ? (typeof data?.text === 'string' ? data.text : null) : parsed;
    if (!Number.isFinite(dataTime) || (parsed !== undefined && typeof parsed !== 'number')) {
      skipped++;
      continue;
    }
    out.push({ dataTime, stream: name, value, data });
  }
  return { rows: out, skipped, streams: [...streams] };
}

// ------------------------------------------------------------ files
export interface FileSelect extends FieldSelect {
  format?: FileFormat;
  column?: string;
  timeColumn?: string;
  stream?: string;
  shaping?: Shaping;
}

/**
 * Keeps the records whose properties match every `where` filter (compared as
 * text); none matching is an error naming the values that were there.
 */
export function filterRecords(records: FeedRecord[], where: Shaping['where'], file: string): FeedRecord[] {
  if (!where?.length) return records;
  const kept = records.filter((r) => where.every(([k, v]) => r.data !== undefined && String(r.data[k] ?? '').trim() === v));
  if (kept.length === 0 && records.length > 0) {
    const [k] = where[0]!;
    const seen = [...new Set(records.slice(0, 500).map((r) => String(r.data?.[k] ?? '')))].slice(0, 12);
    throw new Error(`${file}: no records where ${where.map(([c, v]) => `${c}=${v}`).join(' and ')} (of ${records.length}; values of ${k}: ${seen.join(', ') || 'none: no such property'})`);
  }
  return kept;
}

/**
 * `agg` and `resample` for records of JSON, NDJSON and GeoJSON files, as for CSV
 * columns (see {@link combineRows}): records with a time and a numeric value
 * (any record with a time for `count`) are sorted and combined; the others are
 * counted in the report. Combined records keep only their value and time.
 * Without `agg` or `resample` the records are returned as they are.
 */
export function shapeRecords(records: FeedRecord[], shaping: Shaping | undefined, file: string, text = false): { records: FeedRecord[]; report?: LoadReport } {
  const agg = shaping?.agg;
  const step = shaping?.resample;
  if (agg === undefined && step === undefined) return { records };
  if (text) throw new Error(`${file}: agg and resample combine numbers; a stream of categories cannot use them`);
  const rejected: LoadReport['rejected'] = {};
  const examples: string[] = [];
  const reject = (why: 'bad time' | 'not a number', i: number, v: unknown) => {
    rejected[why] = (rejected[why] ?? 0) + 1;
    if (examples.length < 3) examples.push(`record ${i + 1}: ${why} ${JSON.stringify(v)?.slice(0, 30) ?? ''}`);
  };
  const kept: Array<{ t: number; v: number; i: number }> = [];
  records.forEach((r, i) => {
    if (!Number.isFinite(r.dataTime)) return reject('bad time', i, r.dataTime);
    const v = agg === 'count' ? 1 : typeof r.value === 'number' ? r.value : typeof r.value === 'string' ? parseFiniteNumber(r.value) : NaN;
    if (typeof v !== 'number' || !Number.isFinite(v)) return reject('not a number', i, r.value);
    kept.push({ t: r.dataTime, v, i });
  });
  const how = agg ?? 'mean';
  if (kept.length === 0)
    throw new Error(`${file}: nothing to combine by ${how}: none of the ${records.length} records has a time and a numeric value (first: ${examples[0] ?? 'no records'}; name them with &time= and &value=)`);
  kept.sort((a, b) => a.t - b.t || a.i - b.i);
  const c = combineRows(Float64Array.from(kept, (k) => k.t), Float64Array.from(kept, (k) => k.v), agg, step);
  const report: LoadReport = { rows: records.length, kept: c.times.length, rejected, examples, sorted: false, combined: { rows: c.merged, agg: how } };
  if (step !== undefined) report.resampled = { step };
  return { records: Array.from(c.times, (t, i) => ({ dataTime: t, value: c.values[i]! })), report };
}

/**
 * Parses the text of a data file into records, by format (from the options or
 * the extension; recordings are recognised by their header). `where` names the
 * file in errors.
 */
export function parseFeedFile(text: string, opts: FileSelect, where: string): FeedRecord[] {
  const format = opts.format ?? sniffFormat(text);
  if ((format === 'csv' || format === 'tsv') && isRecording(text)) {
    const rec = parseRecording(text, opts.stream);
    if (opts.stream === undefined && rec.streams.length > 1)
      throw new Error(`${where}: a recording of several streams (${rec.streams.join(', ')}); choose one with &stream=NAME`);
    if (rec.rows.length === 0) throw new Error(`${where}: no rows${opts.stream ? ` for stream "${opts.stream}" (streams: ${rec.streams.join(', ')})` : ''}`);
    return rec.rows.map((r) => ({ dataTime: r.dataTime, value: r.value, data: r.data }));
  }
  if (format === 'csv' || format === 'tsv') {
    const s = parseCsvSeries(text, opts.column, opts.timeColumn, where, undefined, opts.shaping);
    return Array.from(s.values, (v, i) => ({ dataTime: s.times[i]!, value: v }));
  }
  if (format === 'ndjson') {
    const out: FeedRecord[] = [];
    text.split(/\r?\n/).forEach((line, i) => {
      if (line.trim() === '') return;
      let doc: unknown;
      try {
        doc = JSON.parse(line);
      } catch (e) {
        throw new Error(`${where}:${i + 1}: invalid JSON (${(e as Error).message})`);
      }
      out.push(...recordsFromJson(doc, opts));
    });
    return out;
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new Error(`${where}: invalid JSON (${(e as Error).message})`);
  }
  return format === 'geojson' ? recordsFromGeoJson(doc, opts) : recordsFromJson(doc, opts);
}

/** Guesses a format from content: JSON object/array, NDJSON, or CSV. */
export function sniffFormat(text: string): FileFormat {
  const t = text.trimStart();
  if (t.startsWith('{')) {
    const firstLine = t.split(/\r?\n/, 1)[0]!.trim();
    const oneLinePerDoc = t.split(/\r?\n/).filter((l) => l.trim()).length > 1 && firstLine.endsWith('}');
    if (oneLinePerDoc) {
      try {
        JSON.parse(firstLine);
        return 'ndjson';
      } catch {
        /* a pretty-printed document */
      }
    }
    return /"FeatureCollection"/.test(t.slice(0, 2000)) ? 'geojson' : 'json';
  }
  if (t.startsWith('[')) return 'json';
  return t.split(/\r?\n/, 1)[0]!.includes('\t') ? 'tsv' : 'csv';
}
