/**
 * Source URIs: one string names any feed a stream can play, in a patch's
 * `streams.<name>.source` or on the command line (`--data STREAM=URI`).
 *
 *   file.csv#COLUMN@TIME&speed=3600&loop=false   CSV/TSV/JSON/NDJSON/GeoJSON/recording
 *   http(s)://host/path#SELECT&interval=60s       polled JSON, GeoJSON or CSV
 *   ws(s)://host/path#SELECT                      JSON messages
 *   mqtt://host:1883/sensors/+/temp#SELECT&qos=1  MQTT topic (wildcards + and #)
 *   osc://:9000/sensor/temp#0                     OSC in: address, argument index
 *   sim:walk?min=0&max=100&rate=10&seed=2         simulated feed (no network)
 *
 * After `#`: the selection first (a JSONPath for JSON feeds, a column for files,
 * an argument index for OSC), then `&key=value` options. Pure: nothing is opened.
 */
import { parseDuration } from '../units.ts';

export type FileFormat = 'csv' | 'tsv' | 'json' | 'ndjson' | 'geojson';
export type SimShape = 'walk' | 'sine' | 'daily' | 'seasonal' | 'noise' | 'steps';
export type PayloadFormat = 'auto' | 'number' | 'json' | 'text';
/** How rows that share a time (or a resampling step) are combined. */
/** How rows of one time (or resampling step) combine; `count` is how many there were (events a day). */
export type Aggregate = 'mean' | 'sum' | 'last' | 'max' | 'min' | 'first' | 'count';
export const AGGREGATES: readonly Aggregate[] = ['mean', 'sum', 'last', 'max', 'min', 'first', 'count'];

/**
 * Row selection and shaping of a data file: the same in a URI
 * (`&where=source=Renewables&agg=sum&resample=1d&tz=Europe/Paris`) and on a
 * patch's stream (`where: { source: Renewables }`, `agg`, `resample`, `tz`).
 */
export interface Shaping {
  /** Keep only rows whose column holds this text (all must match): long-format files. */
  where?: Array<[column: string, value: string]>;
  /** Combine rows with the same time (default: keep the first, and report the others). */
  agg?: Aggregate;
  /** Resample to one value every this many seconds (combined by `agg`, default mean). */
  resample?: number;
  /** Time zone of date-times written without one: an IANA name ("Europe/Paris") or "+02:00" (default UTC). */
  tz?: string;
}

/** Where a record's value, time and id come from when the feed holds objects. */
export interface FieldSelect {
  /** JSONPath of the value(s) in a JSON document or message; `$` when absent. */
  select?: string;
  /** Property of a selected object holding the value (GeoJSON: of `properties`). */
  value?: string;
  /** Property of a selected object holding its time (epoch ms or s, or ISO text). */
  time?: string;
  /** Property naming a record, so a polled feed emits each one once (GeoJSON: feature id). */
  id?: string;
}

interface Common {
  /** The text this spec was parsed from, for messages and status. */
  uri: string;
}

export type SourceSpec =
  | (Common & FieldSelect & {
      kind: 'file';
      path: string;
      format?: FileFormat;
      column?: string;
      timeColumn?: string;
      /** For a recording holding several streams: the stream to play. */
      stream?: string;
      /** Data seconds per second of playback; undefined = spread over a render. */
      speed?: number;
      /** Rows kept, combined and resampled. */
      shaping: Shaping;
      /** Replay at the data's own pace (speed 1). */
      realtime: boolean;
      loop: boolean;
    })
  | (Common & FieldSelect & {
      kind: 'http';
      url: string;
      format?: 'json' | 'geojson' | 'csv';
      interval: number;
      timeout: number;
      maxBytes: number;
    })
  | (Common & FieldSelect & { kind: 'ws'; url: string; maxBytes: number })
  | (Common & FieldSelect & { kind: 'mqtt'; broker: string; topic: string; qos: 0 | 1 | 2; payload: PayloadFormat })
  | (Common & { kind: 'osc'; host: string; port: number; address: string; arg: number })
  | (Common & { kind: 'sim'; shape: SimShape; min: number; max: number; rate: number; period: number; speed: number; seed: number; step: number; faults: SimFault[] });

/** A scripted fault of a simulated feed, for testing a patch's outage behaviour. */
export interface SimFault {
  kind: 'nan' | 'inf' | 'null' | 'string' | 'spike' | 'duplicate' | 'backwards' | 'silence';
  /** Seconds after start. */
  at: number;
  /** For silence: how long. */
  length: number;
}

const FILE_FORMATS: readonly FileFormat[] = ['csv', 'tsv', 'json', 'ndjson', 'geojson'];
const SIM_SHAPES: readonly SimShape[] = ['walk', 'sine', 'daily', 'seasonal', 'noise', 'steps'];
const FAULT_KINDS: readonly SimFault['kind'][] = ['nan', 'inf', 'null', 'string', 'spike', 'duplicate', 'backwards', 'silence'];

/** Default HTTP response cap (bytes). */
export const DEFAULT_MAX_BYTES = 5 * 1024 * 1024;

/** The error of an unusable URI: says what was wrong and what was expected. */
export class SourceUriError extends Error {
  constructor(uri: string, problem: string) {
    super(`source "${uri}": ${problem}`);
    this.name = 'SourceUriError';
  }
}

/** Splits `#SELECT&k=v&k2` into the selection and the options (a bare key is `true`). */
function splitFragment(fragment: string): { selection?: string; options: Map<string, string> } {
  const options = new Map<string, string>();
  if (fragment === '') return { options };
  const parts = fragment.split('&');
  let selection: string | undefined;
  parts.forEach((part, i) => {
    const eq = part.indexOf('=');
    // The selection is the first part; a JSONPath may hold '=' inside brackets.
    if (i === 0 && (eq < 0 || part.startsWith('$') || /[[(]/.test(part.slice(0, eq)))) {
      // (A leading '&' leaves the first part empty: no selection.)
      selection = part || undefined;
      return;
    }
    if (part === '') return;
    if (eq < 0) options.set(part, 'true');
    else {
      const key = part.slice(0, eq);
      const value = decodeURIComponent(part.slice(eq + 1));
      // `where` may repeat (every filter must match); the others are single.
      options.set(key, key === 'where' && options.has(key) ? `${options.get(key)}\n${value}` : value);
    }
  });
  return { selection, options };
}

class Options {
  private readonly used = new Set<string>();
  constructor(
    private readonly uri: string,
    private readonly map: Map<string, string>,
  ) {}

  str(key: string): string | undefined {
    this.used.add(key);
    return this.map.get(key);
  }

  num(key: string, fallback: number, min = -Infinity, max = Infinity): number {
    const s = this.str(key);
    if (s === undefined) return fallback;
    const n = Number(s);
    if (!Number.isFinite(n) || n < min || n > max)
      throw new SourceUriError(this.uri, `${key}=${s}: expected a number${min > -Infinity ? ` ≥ ${min}` : ''}${max < Infinity ? ` and ≤ ${max}` : ''}`);
    return n;
  }

  seconds(key: string, fallback: number, min = 0): number {
    const s = this.str(key);
    if (s === undefined) return fallback;
    const n = parseDuration(/^\d+(\.\d+)?$/.test(s) ? Number(s) : s);
    if (!Number.isFinite(n) || n < min) throw new SourceUriError(this.uri, `${key}=${s}: expected a duration like 30s, 5m or 1h`);
    return n;
  }

  bool(key: string, fallback: boolean): boolean {
    const s = this.str(key);
    if (s === undefined) return fallback;
    if (s === 'true' || s === '1' || s === 'yes') return true;
    if (s === 'false' || s === '0' || s === 'no') return false;
    throw new SourceUriError(this.uri, `${key}=${s}: expected true or false`);
  }

  oneOf<T extends string>(key: string, allowed: readonly T[]): T | undefined {
    const s = this.str(key);
    if (s === undefined) return undefined;
    if (!(allowed as readonly string[]).includes(s)) throw new SourceUriError(this.uri, `${key}=${s}: expected one of ${allowed.join(', ')}`);
    return s as T;
  }

  fields(): Omit<FieldSelect, 'select'> {
    return { value: this.str('value'), time: this.str('time'), id: this.str('id') };
  }

  /** Unknown options are errors: a typo must never pass silently. */
  finish(): void {
    for (const k of this.map.keys())
      if (!this.used.has(k)) throw new SourceUriError(this.uri, `unknown option "${k}" (options: ${[...this.used].join(', ')})`);
  }
}

/** Parses `at` fault lists: `nan@5s,silence@10s+20s,spike@30s`. */
function parseFaults(uri: string, text: string | undefined): SimFault[] {
  if (!text) return [];
  return text.split(',').map((item) => {
    const m = /^([a-z]+)@([^+]+)(?:\+(.+))?$/.exec(item.trim());
    const kind = m?.[1] as SimFault['kind'] | undefined;
    if (!m || !kind || !FAULT_KINDS.includes(kind))
      throw new SourceUriError(uri, `fault "${item}": expected KIND@TIME[+LENGTH] with KIND one of ${FAULT_KINDS.join(', ')}`);
    const at = parseDuration(m[2]!);
    const length = m[3] === undefined ? 0 : parseDuration(m[3]);
    if (!Number.isFinite(at) || !Number.isFinite(length)) throw new SourceUriError(uri, `fault "${item}": times must be durations like 10s`);
    if (kind === 'silence' && length <= 0) throw new SourceUriError(uri, `fault "${item}": silence needs a length, like silence@10s+30s`);
    return { kind, at, length };
  });
}

/** An http(s) or ws(s) URL without credentials (they belong in the environment). */
function webUrl(uri: string, base: string): URL {
  let url: URL;
  try {
    url = new URL(base);
  } catch {
    throw new SourceUriError(uri, 'not a valid URL');
  }
  if (url.username || url.password) throw new SourceUriError(uri, 'credentials do not belong in a patch or URI; use the environment');
  return url;
}

/**
 * Parses a source URI. File paths stay as written (relative to whatever the
 * caller resolves them against). Throws SourceUriError with what was wrong.
 */
export function parseSourceUri(uri: string): SourceSpec {
  const text = uri.trim();
  if (text === '') throw new SourceUriError(uri, 'empty');
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(text)?.[1]?.toLowerCase();

  if (scheme === 'sim') {
    const q = text.indexOf('?');
    const shape = (q < 0 ? text.slice(4) : text.slice(4, q)) as SimShape;
    if (!SIM_SHAPES.includes(shape)) throw new SourceUriError(uri, `unknown simulation "${shape}" (one of ${SIM_SHAPES.join(', ')})`);
    const o = new Options(uri, splitFragment(q < 0 ? '' : '&' + text.slice(q + 1)).options);
    const min = o.num('min', 0);
    const max = o.num('max', 1);
    if (!(max > min)) throw new SourceUriError(uri, `max (${max}) must be above min (${min})`);
    const defaultPeriod = shape === 'daily' ? 86400 : shape === 'seasonal' ? 31557600 : 60;
    const spec: SourceSpec = {
      kind: 'sim',
      uri,
      shape,
      min,
      max,
      rate: o.num('rate', 1, 0.001, 1000),
      period: o.seconds('period', defaultPeriod, 0.001),
      speed: o.num('speed', shape === 'daily' ? 1440 : shape === 'seasonal' ? 525960 : 1, 0.000001),
      seed: o.num('seed', 1, 0, 4294967295),
      step: o.num('step', (max - min) / 20, 0),
      faults: parseFaults(uri, o.str('faults')),
    };
    o.finish();
    return spec;
  }

  // A URL's fragment starts at its first '#'; a file path may hold '#', so its selection starts at the last.
  const hash = scheme && scheme.length > 1 && scheme !== 'file' ? text.indexOf('#') : text.lastIndexOf('#');
  const base = hash < 0 ? text : text.slice(0, hash);
  const { selection, options } = splitFragment(hash < 0 ? '' : text.slice(hash + 1));
  const o = new Options(uri, options);

  if (scheme === 'http' || scheme === 'https') {
    const url = webUrl(uri, base);
    const spec: SourceSpec = {
      kind: 'http',
      uri,
      url: url.href,
      select: selection,
      ...o.fields(),
      format: o.oneOf('format', ['json', 'geojson', 'csv'] as const),
      interval: o.seconds('interval', 60, 0.05),
      timeout: o.seconds('timeout', 10, 0.01),
      maxBytes: o.num('maxBytes', DEFAULT_MAX_BYTES, 1),
    };
    o.finish();
    return spec;
  }

  if (scheme === 'ws' || scheme === 'wss') {
    const url = webUrl(uri, base);
    const spec: SourceSpec = { kind: 'ws', uri, url: url.href, select: selection, ...o.fields(), maxBytes: o.num('maxBytes', 1024 * 1024, 1) };
    o.finish();
    return spec;
  }

  if (scheme === 'mqtt' || scheme === 'mqtts') {
    const m = /^mqtts?:\/\/([^/]*)\/(.+)$/i.exec(base);
    if (!m) throw new SourceUriError(uri, 'expected mqtt://HOST[:PORT]/TOPIC');
    if (m[1]!.includes('@')) throw new SourceUriError(uri, 'credentials do not belong in a patch or URI; set ECOSYM_MQTT_USERNAME and ECOSYM_MQTT_PASSWORD');
    const topic = decodeURIComponent(m[2]!);
    const badWildcard = topic.split('/').findIndex((level, i, all) => (level.includes('#') && (level !== '#' || i !== all.length - 1)) || (level.includes('+') && level !== '+'));
    if (badWildcard >= 0) throw new SourceUriError(uri, `topic "${topic}": "+" must fill a whole level and "#" must be the last level`);
    const qos = o.num('qos', 0, 0, 2);
    if (!Number.isInteger(qos)) throw new SourceUriError(uri, `qos=${qos}: expected 0, 1 or 2`);
    const spec: SourceSpec = {
      kind: 'mqtt',
      uri,
      broker: `${scheme}://${m[1] || 'localhost'}`,
      topic,
      qos: qos as 0 | 1 | 2,
      select: selection,
      ...o.fields(),
      payload: o.oneOf('payload', ['auto', 'number', 'json', 'text'] as const) ?? 'auto',
    };
    o.finish();
    return spec;
  }

  if (scheme === 'osc' || scheme === 'osc.udp') {
    const m = /^osc(?:\.udp)?:\/\/([^/:]*)(?::(\d+))?(\/.*)$/i.exec(base);
    if (!m || m[2] === undefined) throw new SourceUriError(uri, 'expected osc://[HOST]:PORT/ADDRESS');
    const port = Number(m[2]);
    if (!(port > 0 && port < 65536)) throw new SourceUriError(uri, `port ${m[2]} out of range`);
    const arg = selection === undefined ? 0 : Number(selection);
    if (!Number.isInteger(arg) || arg < 0) throw new SourceUriError(uri, `argument index "${selection}": expected 0, 1, 2…`);
    const spec: SourceSpec = { kind: 'osc', uri, host: m[1] || '0.0.0.0', port, address: m[3]!, arg };
    o.finish();
    return spec;
  }

  if (scheme !== undefined && scheme.length > 1 && scheme !== 'file')
    throw new SourceUriError(uri, `unknown scheme "${scheme}:" (file path, http, https, ws, wss, mqtt, mqtts, osc or sim)`);

  // A file: FILE#COLUMN@TIME&options, or a file: URL.
  const path = scheme === 'file' ? decodeURIComponent(base.replace(/^file:(\/\/)?/i, '')) : base;
  let column: string | undefined;
  let timeColumn: string | undefined;
  let select: string | undefined;
  if (selection?.startsWith('$')) select = selection;
  else if (selection !== undefined) {
    const at = selection.indexOf('@');
    column = (at < 0 ? selection : selection.slice(0, at)) || undefined;
    timeColumn = at < 0 ? undefined : selection.slice(at + 1) || undefined;
  }
  const ext = /\.([a-z]+)$/i.exec(path)?.[1]?.toLowerCase();
  const format = o.oneOf('format', FILE_FORMATS) ?? (ext === 'jsonl' ? 'ndjson' : FILE_FORMATS.find((f) => f === ext));
  const realtime = o.bool('realtime', false);
  const speedOpt = o.str('speed');
  const speed = realtime ? 1 : speedOpt === undefined ? undefined : o.num('speed', 1, 1e-9);
  const fields = o.fields();
  const shaping = parseShaping(uri, o);
  const spec: SourceSpec = {
    kind: 'file',
    shaping,
    uri,
    path,
    format,
    column,
    timeColumn: timeColumn ?? fields.time,
    select,
    value: fields.value,
    time: fields.time,
    id: fields.id,
    stream: o.str('stream'),
    speed,
    realtime,
    loop: o.bool('loop', true),
  };
  o.finish();
  return spec;
}

/** A time zone: an IANA name Intl knows, "UTC", or a fixed offset "+02:00"; else an error message. */
export function timeZoneProblem(tz: string): string | undefined {
  if (/^[+-]\d{2}:?\d{2}$/.test(tz)) return undefined;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return undefined;
  } catch {
    return `unknown time zone "${tz}": expected an IANA name like "Europe/Paris" or "America/New_York", "UTC", or an offset like "+02:00"`;
  }
}

/** `source=Renewables` → ['source', 'Renewables']; else an error message. */
export function parseWhere(text: string): [string, string] | string {
  const eq = text.indexOf('=');
  if (eq <= 0) return `where=${text}: expected where=COLUMN=VALUE, like where=source=Renewables`;
  return [text.slice(0, eq).trim(), text.slice(eq + 1).trim()];
}

function parseShaping(uri: string, o: Options): Shaping {
  const shaping: Shaping = {};
  const where = o.str('where');
  if (where !== undefined)
    shaping.where = where.split('\n').map((w) => {
      const r = parseWhere(w);
      if (typeof r === 'string') throw new SourceUriError(uri, r);
      return r;
    });
  const agg = o.oneOf('agg', AGGREGATES);
  if (agg) shaping.agg = agg;
  if (o.str('resample') !== undefined) shaping.resample = o.seconds('resample', 0, 1e-9);
  const tz = o.str('tz');
  if (tz !== undefined) {
    const problem = timeZoneProblem(tz);
    if (problem) throw new SourceUriError(uri, `tz=${tz}: ${problem}`);
    shaping.tz = tz;
  }
  return shaping;
}

/**
 * A file source's shaping with its stream's (`where`, `agg`, `resample`, `tz`
 * in the patch) added: the URI's options win, filters of both apply. Other
 * kinds of source are returned as they are.
 */
export function withStreamShaping(
  spec: SourceSpec,
  stream: (Omit<Shaping, 'where'> & { where?: Shaping['where'] | Record<string, string | number> }) | undefined,
): SourceSpec {
  if (spec.kind !== 'file' || !stream) return spec;
  const own = spec.shaping;
  const streamWhere = Array.isArray(stream.where) ? stream.where : Object.entries(stream.where ?? {}).map(([k, v]): [string, string] => [k, String(v).trim()]);
  const where = [...streamWhere.filter(([c]) => !own.where?.some(([oc]) => oc === c)), ...(own.where ?? [])];
  return {
    ...spec,
    shaping: {
      ...(where.length && { where }),
      ...((own.agg ?? stream.agg) && { agg: own.agg ?? stream.agg }),
      ...((own.resample ?? stream.resample) !== undefined && { resample: own.resample ?? stream.resample }),
      ...((own.tz ?? stream.tz) && { tz: own.tz ?? stream.tz }),
    },
  };
}

/** `where source=Renewables, agg sum, resample 1d` (empty when there is nothing). */
export function describeShaping(s: Shaping): string {
  const parts: string[] = [];
  if (s.where?.length) parts.push(`where ${s.where.map(([c, v]) => `${c}=${v}`).join(' and ')}`);
  if (s.agg) parts.push(`agg ${s.agg}`);
  if (s.resample !== undefined) parts.push(`resample ${s.resample} s`);
  if (s.tz) parts.push(`tz ${s.tz}`);
  return parts.join(', ');
}

/** True for sources that deliver data as it happens (not files or simulations). */
export function isLive(spec: SourceSpec): boolean {
  return spec.kind === 'http' || spec.kind === 'ws' || spec.kind === 'mqtt' || spec.kind === 'osc';
}
