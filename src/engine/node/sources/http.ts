/**
 * HTTP(S) polling of JSON, GeoJSON and CSV endpoints.
 *
 * Every `interval` it asks again, conditionally (If-None-Match / If-Modified-Since
 * from the last answer's ETag / Last-Modified, so an unchanged feed costs a 304).
 * A request that takes longer than `timeout`, a body larger than `maxBytes`
 * (checked as it streams in, not after), an error status or a body that does
 * not parse is an error: counted, and retried after an exponential backoff
 * with jitter (1 s doubling, capped at 30 s, so a feed back after an outage is
 * heard within half a minute), reset by any answer (a 304 too). GeoJSON features (and JSON objects with an `id` field
 * named) are emitted once each, by id: the shape of USGS earthquake feeds.
 */
import { backoffDelay } from '../../core/sources/status.ts';
import { parseCsvSeries } from '../../core/dataSeries.ts';
import { recordsFromGeoJson, recordsFromJson, sniffFormat, type FeedRecord } from '../../core/sources/records.ts';
import type { SourceSpec } from '../../core/sources/uri.ts';
import { guarded, type Source, type SourceSink } from './types.ts';

type HttpSpec = Extract<SourceSpec, { kind: 'http' }>;

/** Ids remembered to emit each event once (oldest forgotten first). */
const MAX_SEEN_IDS = 20_000;
const BACKOFF_BASE = 1;
/** Longest wait before retrying a failing feed, seconds (whatever its interval). */
export const HTTP_BACKOFF_MAX = 30;

/** Sets the timer of the next request (tests pass a fake to see and fire the delays). */
export type PollTimer = (fn: () => void, ms: number) => NodeJS.Timeout;

export class HttpError extends Error {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

/** Reads a response body, failing as soon as it grows past `maxBytes`. */
export async function readCapped(res: Response, maxBytes: number): Promise<string> {
  const declared = Number(res.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > maxBytes) {
    await res.body?.cancel().catch(() => undefined);
    throw new HttpError(`response of ${declared} bytes is over the ${maxBytes}-byte limit`);
  }
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw new HttpError(`response over the ${maxBytes}-byte limit`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Parses a body by the spec's format, else the Content-Type, else its content. */
export function parseHttpBody(text: string, contentType: string, spec: HttpSpec): FeedRecord[] {
  const ct = contentType.toLowerCase();
  const format =
    spec.format ?? (ct.includes('geo+json') ? 'geojson' : ct.includes('json') ? 'json' : ct.includes('csv') ? 'csv' : undefined) ?? sniffFormat(text);
  if (format === 'csv' || format === 'tsv') {
    const s = parseCsvSeries(text, spec.value, spec.time, spec.url);
    return Array.from(s.values, (v, i) => ({ value: v, dataTime: s.timeColumn ? s.times[i]! : NaN }));
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new HttpError(`invalid JSON from ${spec.url} (${(e as Error).message})`);
  }
  return format === 'geojson' ? recordsFromGeoJson(doc, spec) : recordsFromJson(doc, spec);
}

/** fetch() says only "fetch failed"; the cause says why (ECONNREFUSED, ENOTFOUND…). */
export function describeFetchError(e: unknown, url: string): unknown {
  const cause = (e as { cause?: { code?: string; message?: string } })?.cause;
  if (!(e instanceof TypeError) || !cause) return e;
  return new HttpError(`cannot reach ${url}: ${cause.code ?? cause.message ?? 'network error'}`);
}

export class HttpSource implements Source {
  private timer: NodeJS.Timeout | undefined;
  private abort: AbortController | undefined;
  private stopped = false;
  private failures = 0;
  private etag: string | undefined;
  private lastModified: string | undefined;
  private readonly seen = new Set<string>();
  private readonly sink: SourceSink;
  /** Requests made, and how many were answered 304 Not Modified. */
  readonly stats = { requests: 0, notModified: 0 };

  constructor(
    readonly spec: HttpSpec,
    sink: SourceSink,
    private readonly random: () => number = Math.random,
    private readonly setTimer: PollTimer = setTimeout,
  ) {
    this.sink = guarded(sink);
  }

  start(): void {
    this.sink.connecting();
    this.schedule(0);
  }

  private schedule(seconds: number): void {
    if (this.stopped) return;
    this.timer = this.setTimer(() => void this.poll(), seconds * 1000);
  }

  /** One request; schedules the next. */
  private async poll(): Promise<void> {
    if (this.stopped) return;
    this.abort = new AbortController();
    const timer = setTimeout(() => this.abort?.abort(new HttpError(`no answer within ${this.spec.timeout} s`)), this.spec.timeout * 1000);
    try {
      const headers: Record<string, string> = { accept: 'application/geo+json, application/json, text/csv;q=0.9, */*;q=0.5' };
      if (this.etag) headers['if-none-match'] = this.etag;
      if (this.lastModified) headers['if-modified-since'] = this.lastModified;
      this.stats.requests++;
      const res = await fetch(this.spec.url, { headers, signal: this.abort.signal, redirect: 'follow' });
      if (res.status === 304) {
        this.stats.notModified++;
        await res.body?.cancel().catch(() => undefined);
      } else if (!res.ok) {
        await res.body?.cancel().catch(() => undefined);
        throw new HttpError(`HTTP ${res.status} ${res.statusText} from ${this.spec.url}`, res.status);
      } else {
        const text = await readCapped(res, this.spec.maxBytes);
        const records = this.fresh(parseHttpBody(text, res.headers.get('content-type') ?? '', this.spec));
        this.etag = res.headers.get('etag') ?? undefined;
        this.lastModified = res.headers.get('last-modified') ?? undefined;
        if (records.length) this.sink.records(records);
      }
      this.failures = 0;
      this.sink.connected?.();
      this.schedule(this.spec.interval);
    } catch (e) {
      if (this.stopped) return;
      const err = this.abort.signal.aborted && this.abort.signal.reason instanceof Error ? this.abort.signal.reason : describeFetchError(e, this.spec.url);
      this.sink.error(err);
      this.sink.disconnected?.(err);
      this.schedule(backoffDelay(this.failures++, BACKOFF_BASE, HTTP_BACKOFF_MAX, this.random()));
    } finally {
      clearTimeout(timer);
    }
  }

  /** Drops events already emitted (by id); records without an id always pass. */
  private fresh(records: FeedRecord[]): FeedRecord[] {
    return records.filter((r) => {
      if (r.id === undefined) return true;
      if (this.seen.has(r.id)) return false;
      this.seen.add(r.id);
      if (this.seen.size > MAX_SEEN_IDS) this.seen.delete(this.seen.values().next().value!);
      return true;
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.abort?.abort();
  }
}
