/**
 * The hub end to end: sources of every kind feed a recorder standing in for
 * the engine. Whatever arrives, only finite, time-ordered values are
 * delivered; bad values are counted per source; a silent feed goes stale and
 * follows its policy; a restart continues from the disk cache.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocketServer } from 'ws';
import { PatchSchema, type PatchInput } from '../../core/patchSchema.ts';
import type { Transition } from '../../core/sources/status.ts';
import { SourceHub } from './hub.ts';
import { until } from '../../../../tests/support/wait.ts';

const hubs: SourceHub[] = [];
afterEach(async () => {
  await Promise.all(hubs.splice(0).map((h) => h.stop()));
});

function patchWith(streams: PatchInput['streams']) {
  return PatchSchema.parse({ name: 't', streams, voices: { v: { synth: 'synth', rhythm: { euclid: [1, 4] } } } });
}

function start(streams: PatchInput['streams'], extra: { cacheDir?: string | false; overrides?: Map<string, string> } = {}) {
  const delivered: Array<{ stream: string; value: number | string; dataTime: number }> = [];
  const transitions: Array<[string, Transition]> = [];
  const hub = new SourceHub({
    patch: patchWith(streams),
    baseDir: process.cwd(),
    cacheDir: extra.cacheDir ?? false,
    overrides: extra.overrides,
    deliver: (stream, value, dataTime) => delivered.push({ stream, value, dataTime }),
    onTransition: (s, t) => transitions.push([s, t]),
    tickSeconds: 0.02,
  });
  hubs.push(hub);
  hub.start();
  return { hub, delivered, transitions };
}

function assertClean(delivered: Array<{ stream: string; value: number | string; dataTime: number }>) {
  const last = new Map<string, number>();
  for (const d of delivered) {
    expect(typeof d.value === 'number' && Number.isFinite(d.value), `${d.stream} got ${String(d.value)}`).toBe(true);
    expect(Number.isFinite(d.dataTime)).toBe(true);
    expect(d.dataTime).toBeGreaterThan(last.get(d.stream) ?? -Infinity);
    last.set(d.stream, d.dataTime);
  }
}

describe('SourceHub', () => {
  it('a simulated feed full of faults delivers only good values, and counts each bad kind', async () => {
    const { hub, delivered } = start({
      temp: { source: 'sim:sine?min=0&max=10&rate=50&faults=nan@0.1s,inf@0.15s,null@0.2s,string@0.25s,spike@0.3s,duplicate@0.35s,backwards@0.4s', valid: [-20, 50] },
    });
    await until(() => hub.statuses()[0]!.received >= 30, '30 samples');
    assertClean(delivered);
    const st = hub.statuses()[0]!;
    expect(st.rejected).toEqual({ 'non-finite': 2, null: 1, 'not-a-number': 1, 'out-of-range': 1, duplicate: 1, 'out-of-order': 1 });
    expect(st.state).toBe('live');
    expect(st.accepted).toBe(delivered.length);
  });

  it('a spike filter on the stream rejects jumps faster than maxRate', async () => {
    const { hub, delivered } = start({ level: { source: 'sim:sine?min=0&max=1&rate=50&period=10s&faults=spike@0.2s', maxRate: 5 } });
    await until(() => hub.statuses()[0]!.received >= 20, '20 samples');
    expect(hub.statuses()[0]!.rejected).toEqual({ spike: 1 });
    expect(Math.max(...delivered.map((d) => d.value as number))).toBeLessThanOrEqual(1);
  });

  it('goes stale after a silence, glides to the default, and glides back when data returns', () => {
    // On vitest's fake clock (the simulator runs on the clock service's performance.now,
    // the hub reads Date.now; both re-arm with setTimeout): in real time, a loaded machine that stalled the process for 0.3 s made
    // the feed look stale where it was not, and the transitions came out different.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date', 'performance'], now: Date.UTC(2025, 0, 1) });
    try {
      const { delivered, transitions } = start({
        co2: { source: 'sim:steps?min=400&max=420&rate=20&period=1000s&faults=silence@0.3s+1s', default: 0, stale: { after: 0.3, then: 'default', glide: 0.2 } },
      });
      const states = () => transitions.map(([, t]) => `${t.from}>${t.to}`);
      vi.advanceTimersByTime(500); // silent from 0.3 s: stale from 0.6 s, not before
      expect(states()).toEqual(['connecting>live']);
      vi.advanceTimersByTime(300);
      expect(states()).toEqual(['connecting>live', 'live>stale']);
      expect(delivered.some((d) => d.value === 0)).toBe(true); // glided to the default (0.2 s)
      vi.advanceTimersByTime(2000); // data again from 1.3 s
      expect(states()).toEqual(['connecting>live', 'live>stale', 'stale>live']);
      // From the default back to the live level there are intermediate values: no jump.
      const zero = delivered.findIndex((d) => d.value === 0);
      const back = delivered.slice(zero + 1);
      const firstLive = back.findIndex((d) => (d.value as number) >= 400);
      expect(firstLive).toBeGreaterThan(2);
      assertClean(delivered);
    } finally {
      vi.useRealTimers();
    }
  });

  it('replays the cached feed when it dies, and a restarted hub continues from the cache', async () => {
    const cacheDir = mkdtempSync(join(tmpdir(), 'ecosym-cache-'));
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise<void>((r) => wss.once('listening', () => r()));
    const port = (wss.address() as { port: number }).port;
    const uri = `ws://127.0.0.1:${port}/#$.v`;
    const stream = { source: uri, stale: { after: 0.3, then: 'replay' as const, glide: 0 } };
    const a = start({ river: stream }, { cacheDir });
    await until(() => wss.clients.size === 1, 'a connection');
    const client = [...wss.clients][0]!;
    for (let i = 0; i < 5; i++) {
      client.send(JSON.stringify({ v: 10 + i, time: 1_700_000_000 + i * 0.1 }));
      await new Promise((r) => setTimeout(r, 20));
    }
    await until(() => a.delivered.length === 5, 'five live values');
    // The feed dies (server gone): after 0.3 s the hub replays what it recorded.
    for (const c of wss.clients) c.terminate();
    await new Promise<void>((r) => wss.close(() => r()));
    await until(() => a.hub.statuses()[0]!.state === 'fallback', 'fallback');
    await until(() => a.delivered.length >= 12, 'replayed values');
    const replayed = a.delivered.slice(5).map((d) => d.value);
    expect(new Set(replayed)).toEqual(new Set([10, 11, 12, 13, 14]));
    assertClean(a.delivered);
    await a.hub.stop();
    hubs.length = 0;
    const cached = readFileSync(join(cacheDir, readdirSync(cacheDir)[0]!), 'utf8').trim().split('\n');
    expect(cached[0]).toBe('time,stream,value,data');
    expect(cached).toHaveLength(6);
    // A new hub (a restart) sends the last cached value at once, before the feed is back.
    const b = start({ river: stream }, { cacheDir });
    expect(b.delivered.map((d) => d.value)).toEqual([14]);
    expect(b.hub.statuses()[0]!.state).toBe('connecting');
  });

  it('reads a GeoJSON file of events and a CSV file from the command line overrides', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ecosym-files-'));
    writeFileSync(join(dir, 'q.geojson'), JSON.stringify({ type: 'FeatureCollection', features: [1, 2, 3].map((m) => ({ type: 'Feature', id: `e${m}`, properties: { mag: m, time: m * 1000 }, geometry: null })) }));
    writeFileSync(join(dir, 'l.csv'), 'time,level\n1,0.5\n2,NaN\n3,0.75\n');
    const { hub, delivered } = start(
      { quakes: {}, level: {} },
      { overrides: new Map([['quakes', join(dir, 'q.geojson') + '#&speed=10000&loop=false'], ['level', join(dir, 'l.csv') + '#level&speed=10000&loop=false']]) },
    );
    await until(() => delivered.length === 5, 'five values');
    expect(delivered.filter((d) => d.stream === 'quakes').map((d) => d.value)).toEqual([1, 2, 3]);
    expect(delivered.filter((d) => d.stream === 'level').map((d) => d.value)).toEqual([0.5, 0.75]);
    expect(hub.streams).toEqual(['quakes', 'level']);
  });

  it('a source that cannot start is a failed status, not a crash', async () => {
    const { hub } = start({ gone: { source: '/nonexistent/file.csv' } });
    await until(() => hub.statuses()[0]!.state === 'failed', 'failed');
    expect(hub.statuses()[0]!.lastError).toMatch(/cannot read data file \/nonexistent\/file\.csv: ENOENT/);
  });
});
