/**
 * HTTP polling against a real server on loopback, serving real-format data
 * (USGS-shaped GeoJSON, JSON, CSV) and faults: 500s, 304s, timeouts, slow and
 * truncated bodies, invalid JSON, oversized responses.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { HttpSource, type PollTimer } from './http.ts';
import { parseSourceUri, type SourceSpec } from '../../core/sources/uri.ts';
import type { FeedRecord } from '../../core/sources/records.ts';
import { USGS_SAMPLE } from '../../../../tests/support/fixtures.ts';
import { until } from '../../../../tests/support/wait.ts';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;
let server: Server;
let base = '';
const routes = new Map<string, Handler>();
const hits = new Map<string, IncomingMessage[]>();

beforeAll(async () => {
  server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    hits.set(path, [...(hits.get(path) ?? []), req]);
    const h = routes.get(path);
    if (h) h(req, res);
    else res.writeHead(404).end('not found');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const sources: HttpSource[] = [];
afterEach(async () => {
  await Promise.all(sources.splice(0).map((s) => s.stop()));
  routes.clear();
  hits.clear();
});

function poll(uri: string) {
  const got: FeedRecord[] = [];
  const errors: string[] = [];
  let connecting = 0;
  const src = new HttpSource(parseSourceUri(uri) as Extract<SourceSpec, { kind: 'http' }>, {
    records: (r) => got.push(...r),
    error: (e) => errors.push((e as Error).message),
    connecting: () => connecting++,
  }, () => 0);
  sources.push(src);
  src.start();
  return { src, got, errors, connecting: () => connecting };
}

describe('HttpSource', () => {
  it('polls a GeoJSON feed: each earthquake once, by id, with ETag revalidation (304)', async () => {
    const feed = structuredClone(USGS_SAMPLE);
    let version = 1;
    routes.set('/quakes.geojson', (req, res) => {
      const etag = `"v${version}"`;
      if (req.headers['if-none-match'] === etag) return res.writeHead(304, { etag }).end();
      res.writeHead(200, { 'content-type': 'application/geo+json', etag }).end(JSON.stringify(feed));
    });
    const p = poll(`${base}/quakes.geojson#&interval=0.05s`);
    await until(() => p.got.length === 2, 'the first two quakes');
    await until(() => p.src.stats.notModified >= 2, 'two 304s');
    // A new quake appears at the top, as USGS serves them.
    feed.features.unshift({
      type: 'Feature',
      properties: { mag: 4.7, place: 'Offshore', time: 1764139800000, updated: 1764139800000, type: 'earthquake' },
      geometry: { type: 'Point', coordinates: [140.1, 36.2, 45] },
      id: 'us7000abcd',
    });
    version++;
    await until(() => p.got.length === 3, 'the new quake');
    // Two more answered polls (not a fixed sleep, which a loaded machine may fill with none):
    // the quakes already out must not come again.
    const answered = p.src.stats.notModified;
    await until(() => p.src.stats.notModified >= answered + 2, 'two more 304s');
    expect(p.got.map((r) => [r.id, r.value])).toEqual([
      ['ak0000001', 1.1],
      ['ci40000002', 2.4],
      ['us7000abcd', 4.7],
    ]);
    expect(p.got[2]!.data).toMatchObject({ place: 'Offshore', depth: 45 });
    expect(p.errors).toEqual([]);
    // Requests after the first carried If-None-Match.
    expect(hits.get('/quakes.geojson')!.slice(1).every((r) => r.headers['if-none-match'])).toBe(true);
  });

  it('uses Last-Modified when there is no ETag', async () => {
    const stamp = 'Wed, 26 Nov 2025 06:00:00 GMT';
    routes.set('/lm.json', (req, res) => {
      if (req.headers['if-modified-since'] === stamp) return res.writeHead(304).end();
      res.writeHead(200, { 'content-type': 'application/json', 'last-modified': stamp }).end('{"level": 2.5}');
    });
    const p = poll(`${base}/lm.json#$.level&interval=0.05s`);
    await until(() => p.src.stats.notModified >= 2, 'two 304s');
    expect(p.got.map((r) => r.value)).toEqual([2.5]);
  });

  it('selects many values from JSON and reads a CSV endpoint', async () => {
    routes.set('/aq.json', (_q, res) =>
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ results: [{ ts: '2025-01-01T00:00:00Z', pm25: 8 }, { ts: '2025-01-01T01:00:00Z', pm25: 11 }] })),
    );
    routes.set('/levels.csv', (_q, res) => res.writeHead(200, { 'content-type': 'text/csv' }).end('date,level\n2025-01-01,1.5\n2025-01-02,1.75\n'));
    const a = poll(`${base}/aq.json#$.results[*]&value=pm25&time=ts&interval=10s`);
    const b = poll(`${base}/levels.csv#&interval=10s`);
    await until(() => a.got.length === 2 && b.got.length === 2, 'both feeds');
    expect(a.got.map((r) => [r.value, r.dataTime])).toEqual([
      [8, Date.UTC(2025, 0, 1) / 1000],
      [11, Date.UTC(2025, 0, 1, 1) / 1000],
    ]);
    expect(b.got.map((r) => [r.value, r.dataTime])).toEqual([
      [1.5, Date.UTC(2025, 0, 1) / 1000],
      [1.75, Date.UTC(2025, 0, 2) / 1000],
    ]);
  });

  it('survives 500s with a growing backoff (1 s base, doubling), then recovers', async () => {
    // The source's timers run on vitest's fake clock (fetch and the server stay real), so
    // each wait is checked exactly: no request a millisecond before it is due, one when it is.
    // (Measured in wall time, a loaded machine stretched the gaps past their bounds.)
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      let n = 0;
      routes.set('/flaky', (_q, res) => {
        if (++n <= 3) res.writeHead(500).end('boom');
        else res.writeHead(200, { 'content-type': 'application/json' }).end('{"v": 1}');
      });
      const p = poll(`${base}/flaky#$.v&interval=0.05s`); // jitter source fixed at 0: delays 0.5, 1, 2 s
      const requests = () => p.src.stats.requests;
      vi.advanceTimersByTime(0);
      expect(requests()).toBe(1);
      for (const [k, waitMs] of [500, 1000, 2000].entries()) {
        await until(() => p.errors.length === k + 1, `error ${k + 1}`);
        vi.advanceTimersByTime(waitMs - 1);
        expect(requests(), `a request before the ${waitMs} ms backoff passed`).toBe(k + 1);
        vi.advanceTimersByTime(1);
        expect(requests()).toBe(k + 2);
      }
      await until(() => p.got.length >= 1, 'recovery');
      expect(p.errors).toEqual(Array(3).fill(`HTTP 500 Internal Server Error from ${base}/flaky`));
      // After recovery it polls at its interval again.
      vi.advanceTimersByTime(49);
      expect(requests()).toBe(4);
      vi.advanceTimersByTime(1);
      expect(requests()).toBe(5);
    } finally {
      vi.useRealTimers();
    }
  });

  it('backs off 1 s doubling with jitter, capped at 30 s, and starts over after any answer (fake timer)', async () => {
    let fail = true;
    routes.set('/outage', (_q, res) => (fail ? res.writeHead(503).end('down') : res.writeHead(304).end()));
    const delays: number[] = [];
    let fire: (() => void) | undefined;
    const timer = ((fn: () => void, ms: number) => {
      delays.push(ms / 1000);
      fire = fn;
      return setTimeout(() => undefined, 0);
    }) as PollTimer;
    const errors: string[] = [];
    const up: string[] = [];
    const spec = parseSourceUri(`${base}/outage#$.v&interval=600s`) as Extract<SourceSpec, { kind: 'http' }>;
    // The top of each jitter range: the longest waits the backoff may choose.
    const src = new HttpSource(spec, { records: () => {}, error: (e) => errors.push((e as Error).message), connecting: () => {}, connected: () => up.push('up'), disconnected: () => up.push('down') }, () => 0.999999, timer);
    sources.push(src);
    src.start();
    /** Fires the pending poll and waits for it to set the next timer. */
    const step = async () => {
      const n = delays.length;
      fire!();
      await until(() => delays.length > n, 'the next poll to be scheduled');
      return delays[delays.length - 1]!;
    };
    expect(delays).toEqual([0]);
    const outage: number[] = [];
    for (let i = 0; i < 9; i++) outage.push(await step());
    expect(outage.map((d) => Math.round(d))).toEqual([1, 2, 4, 8, 16, 30, 30, 30, 30]);
    expect(Math.max(...outage)).toBeLessThanOrEqual(30);
    fail = false;
    expect(await step()).toBe(600); // a 304 is an answer: back to the interval
    fail = true;
    expect(Math.round(await step())).toBe(1); // the next outage starts over
    expect(Math.round(await step())).toBe(2);
    expect(errors).toHaveLength(11);
    expect(up.slice(-4)).toEqual(['down', 'up', 'down', 'down']);
  });

  it('gives up on a request after its timeout (slow headers and slow body), and keeps polling', async () => {
    routes.set('/slow', () => undefined); // never answers
    routes.set('/trickle', (_q, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"v": ');
      // the rest never comes
    });
    const a = poll(`${base}/slow#$.v&timeout=0.2s&interval=0.05s`);
    const b = poll(`${base}/trickle#$.v&timeout=0.2s&interval=0.05s`);
    await until(() => a.errors.length >= 2 && b.errors.length >= 2, 'two timeouts each');
    expect(a.errors[0]).toBe('no answer within 0.2 s');
    expect(b.errors[0]).toBe('no answer within 0.2 s');
    expect(a.got.length + b.got.length).toBe(0);
  });

  it('reports truncated bodies, invalid JSON and oversized responses as errors', async () => {
    routes.set('/truncated', (_q, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' });
      res.write('{"v": 1');
      setTimeout(() => res.destroy(), 10);
    });
    routes.set('/invalid', (_q, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"v": 1,,}'));
    routes.set('/huge-declared', (_q, res) => res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(10_000_000) }).end());
    routes.set('/huge-chunked', (_q, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      const chunk = '1'.repeat(64 * 1024);
      let sent = 0;
      const more = () => {
        while (sent < 100 && res.write(chunk)) sent++;
        if (sent < 100) res.once('drain', more);
        else res.end();
      };
      more();
    });
    const t = poll(`${base}/truncated#$.v&interval=10s`);
    const i = poll(`${base}/invalid#$.v&interval=10s`);
    const h1 = poll(`${base}/huge-declared#$.v&interval=10s&maxBytes=100000`);
    const h2 = poll(`${base}/huge-chunked#$.v&interval=10s&maxBytes=100000`);
    await until(() => [t, i, h1, h2].every((p) => p.errors.length >= 1), 'an error from each');
    expect(t.errors[0]).toMatch(/terminated|aborted|closed|socket/i);
    expect(i.errors[0]).toMatch(new RegExp(`^invalid JSON from ${base}/invalid`));
    expect(h1.errors[0]).toBe('response of 10000000 bytes is over the 100000-byte limit');
    expect(h2.errors[0]).toBe('response over the 100000-byte limit');
    expect([t, i, h1, h2].every((p) => p.got.length === 0)).toBe(true);
  });

  it('stop() cancels a request in flight and leaves no timer', async () => {
    routes.set('/slow2', () => undefined);
    const before = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const p = poll(`${base}/slow2#$.v&timeout=30s`);
    await until(() => (hits.get('/slow2')?.length ?? 0) === 1, 'the request');
    await p.src.stop();
    sources.length = 0;
    await new Promise((r) => setTimeout(r, 50));
    expect(process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length).toBeLessThanOrEqual(before);
    expect(p.errors).toEqual([]);
  });
});
