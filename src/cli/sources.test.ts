/**
 * `ecosym record`, `ecosym sources` and live `--data` URIs, run as a user runs
 * them (a child process), against real servers on loopback: mosquitto, an
 * HTTP server serving USGS-shaped GeoJSON, a WebSocket server.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import mqtt from 'mqtt';
import { WebSocketServer } from 'ws';
import { PROJECT_ROOT } from '../engine/node/files.ts';
import { parseRecording } from '../engine/core/sources/records.ts';
import { Broker, MOSQUITTO, NEEDS_MOSQUITTO } from '../../tests/support/mosquitto.ts';
import { USGS_SAMPLE } from '../../tests/support/fixtures.ts';
import { formatStatusTable, streamNameFor } from './sources.ts';
import { parseSourceUri } from '../engine/core/sources/uri.ts';

const BIN = resolve(PROJECT_ROOT, 'bin/ecosym.mjs');
const tmp = () => mkdtempSync(join(tmpdir(), 'ecosym-src-'));

function ecosym(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(process.execPath, [BIN, ...args], { cwd: PROJECT_ROOT, timeout: 120_000, env: { ...process.env, ECOSYM_CACHE_DIR: tmp(), ...env } }, (err, stdout, stderr) =>
      done({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
    );
  });
}

let broker: Broker;
let http: Server;
let httpBase = '';
let wss: WebSocketServer;
let wsTimer: NodeJS.Timeout;

beforeAll(async () => {
  if (MOSQUITTO) broker = await Broker.start();
  http = createServer((req, res) => {
    if (req.url === '/quakes.geojson') res.writeHead(200, { 'content-type': 'application/geo+json' }).end(JSON.stringify(USGS_SAMPLE));
    else res.writeHead(500).end();
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  httpBase = `http://127.0.0.1:${(http.address() as { port: number }).port}`;
  wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((r) => wss.once('listening', () => r()));
  // A live CO2 feed: a reading every 50 ms, rising.
  let n = 0;
  wsTimer = setInterval(() => {
    n++;
    for (const c of wss.clients) c.send(JSON.stringify({ co2: 400 + (n % 50) }));
  }, 50);
});

afterAll(async () => {
  clearInterval(wsTimer);
  await broker?.down();
  await new Promise<void>((r) => http.close(() => r()));
  await new Promise<void>((r) => wss.close(() => r()));
});

const wsUrl = () => `ws://127.0.0.1:${(wss.address() as { port: number }).port}/#$.co2`;

describe('ecosym record', () => {
  it.skipIf(!MOSQUITTO)(`captures an MQTT feed as time,stream,value,data CSV, bad payloads left out, and the file replays${NEEDS_MOSQUITTO}`, async () => {
    const dir = tmp();
    const out = join(dir, 'feed.csv');
    const rec = ecosym(['record', `${broker.url}/lake/+/level`, '--out', out, '--for', '8s']);
    let recEnded = false;
    void rec.then(() => (recEnded = true));
    const pub = await mqtt.connectAsync(broker.url);
    // Until the recorder is subscribed, nothing reaches it: send a probe until one lands in its .part file.
    // Its start-up takes seconds on a loaded machine: no deadline but its own end.
    while (!(existsSync(`${out}.part`) && readFileSync(`${out}.part`, 'utf8').includes(',level,0,'))) {
      if (recEnded) throw new Error(`the recorder ended before it received the probe: ${JSON.stringify(await rec)}`);
      await pub.publishAsync('lake/probe/level', '0', { qos: 1 });
      await new Promise((r) => setTimeout(r, 300));
    }
    for (const v of ['1.25', 'NaN', '1.5', 'oops', '1.75']) {
      await pub.publishAsync(`lake/north/level`, v, { qos: 1 });
      await new Promise((r) => setTimeout(r, 20));
    }
    await pub.endAsync();
    const r = await rec;
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Wrote .*feed\.csv: \d+ rows, rejected: non-finite 1\n/);
    const rows = parseRecording(readFileSync(out, 'utf8')).rows.filter((x) => x.data?.topic === 'lake/north/level');
    expect(rows.map((x) => [x.stream, x.value, x.data?.topic])).toEqual([
      ['level', 1.25, 'lake/north/level'],
      ['level', 1.5, 'lake/north/level'],
      ['level', 'oops', 'lake/north/level'],
      ['level', 1.75, 'lake/north/level'],
    ]);
    expect(existsSync(`${out}.part`)).toBe(false);
    // The recording is a source as it is.
    const wav = join(dir, 'x.wav');
    const render = await ecosym(['render', 'carbon-pulse', '--duration', '2s', '--out', wav, '--data', `co2=${out}`]);
    expect(render.stderr).toBe('');
    expect(render.stdout).toMatch(/co2 ← .*feed\.csv \(\d+ records; \d+ values, 1 rejected \(not-a-number 1\)\)/);
  });

  it('captures GeoJSON events with their properties in the data column', async () => {
    const out = join(tmp(), 'quakes.csv');
    const r = await ecosym(['record', `${httpBase}/quakes.geojson#&interval=0.2s`, '--out', out, '--for', '1.5s', '--stream', 'quakes']);
    expect(r.code).toBe(0);
    const rows = parseRecording(readFileSync(out, 'utf8')).rows;
    expect(rows.map((x) => [x.stream, x.value, new Date(x.dataTime * 1000).toISOString()])).toEqual([
      ['quakes', 1.1, '2025-11-26T06:36:40.000Z'],
      ['quakes', 2.4, '2025-11-26T06:45:00.000Z'],
    ]);
    expect(rows[1]!.data).toMatchObject({ place: '10 km N of Somewhere, CA', lat: 35.7, lon: -117.5, depth: 8.2 });
  });
});

describe('ecosym sources', () => {
  it('shows each stream live, failed or stale, as JSON for scripts', async () => {
    const r = await ecosym(['sources', 'carbon-pulse', '--json', '--for', '2s', '--data', `co2=${wsUrl()}`]);
    expect(r.code).toBe(0);
    const st = JSON.parse(r.stdout) as Array<{ stream: string; state: string; accepted: number; lastValue: number; rate: number }>;
    const co2 = st.find((s) => s.stream === 'co2')!;
    expect(co2.state).toBe('live');
    expect(co2.accepted).toBeGreaterThan(10);
    expect(co2.lastValue).toBeGreaterThanOrEqual(400);
    expect(co2.rate).toBeGreaterThan(1);
    const dead = await ecosym(['sources', 'carbon-pulse', '--json', '--for', '1s', '--data', `co2=${httpBase}/missing#$.v`]);
    const d = (JSON.parse(dead.stdout) as Array<{ stream: string; state: string; lastError: string }>).find((s) => s.stream === 'co2')!;
    expect(d.state).toBe('failed');
    expect(d.lastError).toBe(`HTTP 500 Internal Server Error from ${httpBase}/missing`);
  });

  it('a bad URI is a usage error naming the problem', async () => {
    const r = await ecosym(['sources', 'carbon-pulse', '--data', 'co2=mqtt://h/t#$.v&qos=7']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--data co2=mqtt:\/\/h\/t#\$\.v&qos=7: source ".*": qos=7: expected a number ≥ 0 and ≤ 2/);
  });

  it('formats a readable table', () => {
    const t = formatStatusTable(
      [{ stream: 'co2', uri: 'x', state: 'stale', since: 0, lastValue: 412.3456, lastTime: 90, rate: 0, received: 5, accepted: 4, rejected: { spike: 1 }, errors: 2, lastError: 'HTTP 500' }],
      100,
    );
    expect(t.split('\n')[1]).toMatch(/^co2\s+stale\s+–\s+412\.35\s+10\.0s ago\s+0\.0\/s\s+4\s+spike 1\s+2\s+HTTP 500$/);
    const down = formatStatusTable([{ stream: 'river', uri: 'mqtt://b/x', state: 'live', since: 0, connection: 'disconnected', connectionSince: 95, lastValue: 2, lastTime: 90, rate: 0, received: 1, accepted: 1, rejected: {}, errors: 1 }], 100);
    expect(down.split('\n')[1]).toMatch(/^river\s+live\s+down 5\.0s\s+2\s+10\.0s ago/);
  });

  it('names recorded streams after the feed', () => {
    expect(['mqtt://h/lake/+/level', 'osc://:9000/sensor/temp', 'data/co2-monthly.csv', 'http://h/x#$.current.temp_c', 'ws://h/#$[0]', 'sim:sine'].map((u) => streamNameFor(parseSourceUri(u)))).toEqual([
      'level',
      'temp',
      'co2-monthly',
      'temp_c',
      'value',
      'sine',
    ]);
  });
});

describe('live --data in render and play', () => {
  it('render captures a WebSocket feed for the duration, then renders it', async () => {
    const out = join(tmp(), 'ws.wav');
    const r = await ecosym(['render', 'carbon-pulse', '--duration', '2s', '--out', out, '--data', `co2=${wsUrl()}`]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Capturing co2 live from ws:\/\/.* for 2\.0s before rendering/);
    const n = Number(/co2 ← .* \(captured live\) \((\d+) values/.exec(r.stdout)?.[1]);
    expect(n).toBeGreaterThan(20);
    expect(existsSync(out)).toBe(true);
  });

  it.skipIf(!MOSQUITTO)(`play --sink none feeds MQTT values to the engine as they arrive${NEEDS_MOSQUITTO}`, async () => {
    let done = false;
    const p = ecosym(['play', 'carbon-pulse', '--sink', 'none', '--duration', '5s', '--data', `co2=${broker.url}/site/co2`]).finally(() => (done = true));
    const pub = await mqtt.connectAsync(broker.url);
    // Published all along (as a sensor would): on a loaded machine the player
    // took over 3 s to start and subscribe, and values sent before that are gone.
    while (!done) {
      await pub.publishAsync('site/co2', String(415.5), { qos: 1 });
      await new Promise((r) => setTimeout(r, 100));
    }
    await pub.endAsync();
    const r = await p;
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/source co2: connecting → live/);
    expect(r.stdout).toMatch(/co2=415\.50/);
  });
});
