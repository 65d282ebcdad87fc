/**
 * Files and simulations paced on a timer: speed, looping, once. The sources'
 * timers and clocks run on vitest's fake clock, so pacing is checked exactly
 * (which records are out after how many seconds) however busy the machine is.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileSource, SimSource } from './paced.ts';
import { parseSourceUri, type SourceSpec } from '../../core/sources/uri.ts';
import type { FeedRecord } from '../../core/sources/records.ts';
import { Clock } from '../../core/clock.ts';

const stops: Array<() => Promise<void>> = [];
beforeEach(() => {
  // FileSource reads performance.now, SimSource Date.now; both re-arm with setTimeout.
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance', 'Date'], now: Date.UTC(2025, 0, 1) });
});
afterEach(async () => {
  for (const s of stops.splice(0)) await s();
  vi.useRealTimers();
});

/** The clock service on vitest's fake performance.now, Date and timers (made once they are faked). */
function fakeClock(): Clock {
  return new Clock({
    wallMs: () => performance.now(),
    epochOriginMs: Date.now() - performance.now(),
    setTimer: (fn, ms) => setTimeout(fn, ms),
    clearTimer: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
  });
}

/** Moves the fake clock on by `seconds`, running the timers due on the way. */
const advance = (seconds: number) => vi.advanceTimersByTime(Math.round(seconds * 1000));

/** A file source started on a fake clock, once it has read its file. */
async function file(text: string, name: string, fragment: string, spread?: number) {
  const { got, errors } = await fileSource(text, name, fragment, spread);
  return { got, errors };
}

/** {@link file}, with the source itself (its transport). */
async function fileSource(text: string, name: string, fragment: string, spread?: number) {
  const dir = mkdtempSync(join(tmpdir(), 'ecosym-paced-'));
  const path = join(dir, name);
  writeFileSync(path, text);
  const got: Array<FeedRecord & { at: number }> = [];
  const errors: string[] = [];
  const t0 = performance.now();
  const src = new FileSource(parseSourceUri(path + fragment) as Extract<SourceSpec, { kind: 'file' }>, path, {
    records: (rs) => got.push(...rs.map((r) => ({ ...r, at: (performance.now() - t0) / 1000 }))),
    error: (e) => errors.push((e as Error).message),
    connecting: () => {},
  }, spread, fakeClock());
  src.start();
  stops.push(() => src.stop());
  await src.ready;
  return { got, errors, src };
}

describe('FileSource', () => {
  it('plays at a speed: 1 data-hour per 0.1 s here', async () => {
    const csv = 'time,v\n' + [0, 1, 2, 3].map((h) => `${h * 3600},${h}`).join('\n');
    const f = await file(csv, 'a.csv', '#v&speed=36000&loop=false');
    // Checked half a timer step (20 ms) either side of each record's due time.
    const counts = [0, 0.05, 0.15, 0.25, 0.35].map((t, i, ts) => (advance(t - (ts[i - 1] ?? 0)), f.got.length));
    expect(counts).toEqual([1, 1, 2, 3, 4]);
    expect(f.got.map((r) => r.value)).toEqual([0, 1, 2, 3]);
    expect(f.got.map((r) => r.at)).toEqual([0, 0.1, 0.2, 0.3]);
    advance(10);
    expect(f.got.length).toBe(4); // loop=false: played once
  });

  it('loops, moving data times on by the series span each time round', async () => {
    const f = await file('[{"time":10,"value":1},{"time":11,"value":2}]', 'a.json', '#&speed=20');
    advance(0.3);
    expect(f.got.slice(0, 6).map((r) => [r.value, r.dataTime])).toEqual([
      [1, 10],
      [2, 11],
      [1, 12],
      [2, 13],
      [1, 14],
      [2, 15],
    ]);
  });

  it('without a speed, spreads the file over the spread time', async () => {
    const f = await file('time,v\n0,1\n1000,2\n2000,3\n', 'b.csv', '#v&loop=false', 0.3);
    advance(1);
    // Three records over a span of 3000 data-seconds (with one step) played in 0.3 s: 0.1 s apart.
    expect(f.got.map((r) => r.at)).toEqual([0, 0.1, 0.2]);
  });

  it('reports a file with nothing usable as an error', async () => {
    const f = await file('{"type":"FeatureCollection","features":[]}', 'e.geojson', '');
    expect(f.errors).toHaveLength(1);
    expect(f.errors[0]).toMatch(/e\.geojson: no timed records/);
  });
});

describe('FileSource transport (the Live timeline)', () => {
  // 100 values a data second apart: value i at time 1000 + i, played at 1 data second per second.
  const csv = 'time,v\n' + Array.from({ length: 100 }, (_, i) => `${1000 + i},${i}`).join('\n');

  it('seek hands over the series value at that time at once, and plays on from there', async () => {
    const { got, src } = await fileSource(csv, 's.csv', '#v&speed=1&loop=false');
    advance(3);
    expect(got.at(-1)!.value).toBe(3);
    const t = src.seek(1070.5);
    expect(got.at(-1)!.value).toBe(70);
    expect(t).toMatchObject({ index: 70, time: 1070.5, count: 100, first: 1000, last: 1099, loop: null, speed: 1 });
    advance(2);
    expect(got.at(-1)!.value).toBe(72);
    // Back to the start: the value jumps back, and data times still only grow (the hub's gate refuses going back).
    src.seek(1000);
    expect(got.at(-1)!.value).toBe(0);
    for (let i = 1; i < got.length; i++) expect(got[i]!.dataTime).toBeGreaterThan(got[i - 1]!.dataTime);
    expect(() => src.seek(NaN)).toThrow(/finite/);
  });

  it('a file played once that had ended plays again from where it is sought', async () => {
    const { got, src } = await fileSource(csv, 's.csv', '#v&speed=50&loop=false');
    advance(5);
    expect(src.transport()!.playing).toBe(false);
    src.seek(1010);
    expect(got.at(-1)!.value).toBe(10);
    // 0.2 s at 50 data s/s: about 10 data seconds on (the timer's 20 ms steps).
    advance(0.2);
    expect(src.transport()!.playing).toBe(true);
    expect(got.at(-1)!.value).toBeGreaterThanOrEqual(18);
    expect(got.at(-1)!.value).toBe(Math.floor(src.transport()!.time - 1000));
  });

  it('a loop region wraps within it: only its values play, over and over', async () => {
    const { got, src } = await fileSource(csv, 's.csv', '#v&speed=1');
    advance(1);
    expect(() => src.setLoop([1020, 1010])).toThrow(/before/);
    expect(() => src.setLoop([2000, 3000])).toThrow(/outside the data/);
    const t = src.setLoop([1020, 1025]);
    expect(t.loop).toEqual([1020, 1025]);
    // The head was outside: it moved to the region's start.
    expect(got.at(-1)!.value).toBe(20);
    const from = got.length;
    advance(12.5);
    const values = got.slice(from).map((r) => r.value);
    expect(values).toEqual([21, 22, 23, 24, 20, 21, 22, 23, 24, 20, 21, 22]);
    for (let i = 1; i < got.length; i++) expect(got[i]!.dataTime).toBeGreaterThan(got[i - 1]!.dataTime);
    expect(src.transport()!.time).toBeCloseTo(1022.5, 6);
    src.setLoop(null);
    advance(5);
    expect(got.at(-1)!.value).toBe(27);
  });

  it('speed 2 advances twice as far in the same (fake) time; speed 0.5 half as far', async () => {
    const a = await fileSource(csv, 'a.csv', '#v&speed=1&loop=false');
    const b = await fileSource(csv, 'b.csv', '#v&speed=1&loop=false');
    const c = await fileSource(csv, 'c.csv', '#v&speed=1&loop=false');
    expect(b.src.setSpeed(2)).toMatchObject({ speed: 2, dataSpeed: 2 });
    c.src.setSpeed(0.5);
    advance(10);
    expect(a.src.transport()!.time - 1000).toBeCloseTo(10, 6);
    expect(b.src.transport()!.time - 1000).toBeCloseTo(20, 6);
    expect(c.src.transport()!.time - 1000).toBeCloseTo(5, 6);
    expect([a.got.at(-1)!.value, b.got.at(-1)!.value, c.got.at(-1)!.value]).toEqual([10, 20, 5]);
    expect(() => b.src.setSpeed(0)).toThrow(/factor/);
    expect(() => b.src.setSpeed(1000)).toThrow(/factor/);
  });

  it('series: the file downsampled for drawing, its extremes kept', async () => {
    const { src } = await fileSource(csv, 's.csv', '#v&speed=1');
    const s = src.series(10)!;
    expect(s).toMatchObject({ first: 1000, last: 1099, count: 100 });
    expect(s.points.length).toBeLessThanOrEqual(20);
    expect(s.points[0]).toEqual([1000, 0]);
    expect(s.points.at(-1)).toEqual([1099, 99]);
  });
});

describe('SimSource', () => {
  it('emits at its rate in real time, stamped with wall-clock data times', async () => {
    const got: FeedRecord[] = [];
    const src = new SimSource(parseSourceUri('sim:noise?rate=50') as Extract<SourceSpec, { kind: 'sim' }>, { records: (r) => got.push(...r), error: () => {}, connecting: () => {} }, fakeClock());
    const t0 = Date.now() / 1000;
    src.start();
    stops.push(() => src.stop());
    advance(0.5);
    // 50 a second: samples at 0, 0.02, …, 0.5 s, each stamped with the clock's time (epoch
    // seconds near 1.7e9 carry about 2e-7 s of rounding, hence 5 digits).
    expect(got.length).toBe(26);
    expect(got.map((r) => r.dataTime - t0)).toEqual(Array.from({ length: 26 }, (_, i) => expect.closeTo(i / 50, 5)));
  });
});

describe('one pace for play and render (core/pace.ts)', () => {
  const ROOT = new URL('../../../../', import.meta.url).pathname;
  const GLOBAL = join(ROOT, 'samples/data/global-temp.csv');

  it('a yearly file spread over 20 s: play hands each year out when render places it', async () => {
    const { readFileSync } = await import('node:fs');
    const { collectFeed } = await import('./collect.ts');
    vi.useRealTimers();
    const rendered = await collectFeed('temp', `${GLOBAL}#temp@year&loop=false`, {} as never, { duration: 20, baseDir: ROOT });
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance', 'Date'], now: Date.UTC(2025, 0, 1) });
    expect(rendered.pace).toBe('temp: 1880–2023 over 20 s, 1 year = 0.14 s');
    const played = await file(readFileSync(GLOBAL, 'utf8'), 'g.csv', '#temp@year&loop=false', 20);
    advance(21);
    expect(played.got).toHaveLength(144);
    expect(rendered.feed.points).toHaveLength(144);
    // Each value is out within one timer step (20 ms) after its place in the render.
    played.got.forEach((r, i) => {
      const p = rendered.feed.points[i]!;
      expect(r.dataTime).toBe(p.dataTime);
      expect(r.at).toBeGreaterThanOrEqual(p.time - 1e-9);
      expect(r.at - p.time).toBeLessThanOrEqual(0.021);
    });
    expect(rendered.feed.points[143]!.time).toBeCloseTo((20 * 143) / 144, 9);
  });

  it('with a speed both play at that speed', async () => {
    const { collectFeed } = await import('./collect.ts');
    vi.useRealTimers();
    const rendered = await collectFeed('temp', `${GLOBAL}#temp@year&speed=31557600`, {} as never, { duration: 10.5, baseDir: ROOT });
    expect(rendered.pace).toBe('temp: 1880–2023 at speed 31557600, 1 year = 1.0 s, a loop is 2 min 24 s');
    expect(rendered.feed.points.map((p) => Math.round(p.time))).toStrictEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });
});

describe('one time axis for the dated file streams of a patch (core/pace.ts, sharedPaces)', () => {
  const ROOT = new URL('../../../../', import.meta.url).pathname;
  const GLOBAL = join(ROOT, 'samples/data/global-temp.csv');
  const YEAR = 365.25 * 86400;

  /** The data time a stream plays at render time `t`: linear between its points (what its pace maps t to). */
  function dataTimeAt(points: Array<{ time: number; dataTime?: number }>, t: number): number {
    let i = points.findIndex((p) => p.time > t);
    if (i <= 0) i = i === 0 ? 1 : points.length - 1;
    const a = points[i - 1]!;
    const b = points[i]!;
    return a.dataTime! + ((t - a.time) / (b.time - a.time)) * (b.dataTime! - a.dataTime!);
  }

  it('four-chapters rendered: the 5-year means and the yearly series play the same year at the same moment', async () => {
    vi.useRealTimers();
    const { loadPatchFile } = await import('../files.ts');
    const { collectFeeds } = await import('./collect.ts');
    const pf = loadPatchFile(join(ROOT, 'patches/four-chapters.yaml'));
    const got = await collectFeeds(pf.patch, pf.dir, new Map(), { duration: 60 });
    const anomaly = got.find((c) => c.feed.stream === 'anomaly')!;
    const decade = got.find((c) => c.feed.stream === 'decade')!;
    expect(decade.feed.points.length).toBeLessThan(anomaly.feed.points.length / 4);
    // At each 5-year point, the yearly stream is at the same data time (not a year or more apart).
    const checked = [1, 5, 10, 15, 20, decade.feed.points.length - 1].map((i) => decade.feed.points[i]!);
    for (const p of checked) expect(Math.abs(dataTimeAt(anomaly.feed.points, p.time) - p.dataTime!) / YEAR).toBeLessThan(0.01);
    // The last years: 2023 of the yearly series comes after the last 5-year mean (2020), on the same clock.
    expect(anomaly.feed.points.at(-1)!.time).toBeGreaterThan(decade.feed.points.at(-1)!.time);
    // The pace lines state the shared span.
    expect(decade.pace).toMatch(/^decade: 1880–2023 over 1 min, .*one time axis with anomaly$/);
    expect(anomaly.pace).toMatch(/, one time axis with decade$/);
  });

  it('played: two file sources on one TimeAxis hand out the same year when the render places it', async () => {
    const { collectStreams } = await import('./collect.ts');
    const { TimeAxis } = await import('./paced.ts');
    vi.useRealTimers();
    const uris = { anomaly: `${GLOBAL}#temp@year&loop=false`, decade: `${GLOBAL}#temp@year&resample=5y&loop=false` };
    const patch = { streams: { anomaly: { source: uris.anomaly }, decade: { source: uris.decade } }, signals: {} } as never;
    const rendered = await collectStreams(patch, ROOT, new Map(), { duration: 20 });
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance', 'Date'], now: Date.UTC(2025, 0, 1) });
    const clock = fakeClock();
    const axis = new TimeAxis({ over: 20 }, clock);
    const t0 = performance.now();
    const played: Record<string, Array<FeedRecord & { at: number }>> = { anomaly: [], decade: [] };
    const sources = Object.entries(uris).map(([name, uri]) => {
      const src = new FileSource(parseSourceUri(uri) as Extract<SourceSpec, { kind: 'file' }>, GLOBAL, {
        records: (rs) => played[name]!.push(...rs.map((r) => ({ ...r, at: (performance.now() - t0) / 1000 }))),
        error: (e) => { throw e; },
        connecting: () => {},
      }, 20, clock, undefined, {}, axis, name);
      src.start();
      stops.push(() => src.stop());
      return src;
    });
    await Promise.all(sources.map((s) => s.ready));
    advance(10);
    // One transport: the play heads are at the same data time.
    expect(sources[0]!.transport()!.time).toBe(sources[1]!.transport()!.time);
    advance(11);
    for (const name of ['anomaly', 'decade'] as const) {
      const points = (rendered.get(name) as { feed: { points: Array<{ time: number; dataTime?: number }> } }).feed.points;
      expect(played[name]).toHaveLength(points.length);
      // Each value is out within one timer step (20 ms) after its place in the render.
      played[name]!.forEach((r, i) => {
        expect(r.dataTime).toBe(points[i]!.dataTime);
        expect(r.at - points[i]!.time).toBeGreaterThanOrEqual(-1e-9);
        expect(r.at - points[i]!.time).toBeLessThanOrEqual(0.021);
      });
    }
    expect(sources[0]!.loaded).toMatch(/1880–2023 over 20 s, .*, one time axis with decade$/);
  });
});
