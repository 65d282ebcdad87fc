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
import { startEcosym } from '../../tests/support/cli.ts';
import { realSleep, until } from '../../tests/support/wait.ts';

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
/** Requests the HTTP server has seen, by URL. */
const httpHits = new Map<string, number>();
let wss: WebSocketServer;
let wsTimer: NodeJS.Timeout;
/** Readings the WebSocket feed has sent (to any client). */
let wsSent = 0;

beforeAll(async () => {
  if (MOSQUITTO) broker = await Broker.start();
  http = createServer((req, res) => {
    httpHits.set(req.url ?? '', (httpHits.get(req.url ?? '') ?? 0) + 1);
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
    for (const c of wss.clients) {
      c.send(JSON.stringify({ co2: 400 + (n % 50) }));
      wsSent++;
    }
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
  // Recorders run until stopped (SIGTERM, as Ctrl-C), once the test has seen what it sent
  // arrive in the .part file: a fixed --for was a wall-clock window that a slow start used up.
  it.skipIf(!MOSQUITTO)(`captures an MQTT feed as time,stream,value,data CSV, bad payloads left out, and the file replays${NEEDS_MOSQUITTO}`, { timeout: 300_000 }, async () => {
    const dir = tmp();
    const out = join(dir, 'feed.csv');
    const rec = startEcosym(['record', `${broker.url}/lake/+/level`, '--out', out]);
    const part = () => (existsSync(`${out}.part`) ? readFileSync(`${out}.part`, 'utf8') : '');
    const pub = await mqtt.connectAsync(broker.url);
    try {
      // Until the recorder is subscribed, nothing reaches it: send a probe until one lands in its .part file.
      const deadline = performance.now() + 120_000; // a failure detector, as in until()
      while (!part().includes(',level,0,')) {
        if (performance.now() > deadline || rec.exited()) throw new Error(`the recorder never received the probe; it printed ${JSON.stringify(rec.stdout() + rec.stderr())}`);
        await pub.publishAsync('lake/probe/level', '0', { qos: 1 });
        await until(() => part().includes(',level,0,'), 'the probe', 300).catch(() => undefined);
      }
      // The recorder stamps a live value with its arrival time, to the millisecond, and the
      // gate rejects a time equal to the last as a duplicate: two values read in one turn of a
      // stalled recorder's event loop collide. So each value goes once the one before is in the
      // file (rows are written each second), starting when the probes have stopped coming.
      const probes = () => part().split(',level,0,').length;
      for (let n = -1; n !== probes(); ) {
        n = probes();
        await realSleep(1500);
      }
      for (const [values, row] of [
        [['1.25'], ',level,1.25,'],
        [['NaN', '1.5'], ',level,1.5,'], // NaN is rejected, not written: it cannot collide
        [['oops'], 'oops'], // text goes in the data column
        [['1.75'], ',level,1.75,'],
      ] as const) {
        for (const v of values) await pub.publishAsync('lake/north/level', v, { qos: 1 });
        await until(() => part().includes(row), `${row} in the recording`);
      }
    } finally {
      await pub.endAsync();
    }
    const r = await rec.stop();
    expect(r.stderr).toBe('');
    expect(r.code).toBe(143);
    // (Probes sent while the recorder was stalled may collide: duplicates among them are fine.)
    expect(r.stdout).toMatch(/Wrote .*feed\.csv: \d+ rows, rejected: non-finite 1(, duplicate \d+)?\n/);
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

  it('captures GeoJSON events with their properties in the data column', { timeout: 300_000 }, async () => {
    const out = join(tmp(), 'quakes.csv');
    const rec = startEcosym(['record', `${httpBase}/quakes.geojson#&interval=0.2s`, '--out', out, '--stream', 'quakes']);
    // Polled again after the quakes are in the file: a later poll must not add them twice.
    const polls = () => httpHits.get('/quakes.geojson') ?? 0;
    await until(() => existsSync(`${out}.part`) && readFileSync(`${out}.part`, 'utf8').includes('Somewhere'), 'the quakes in the recording');
    const seen = polls();
    await until(() => polls() >= seen + 2, 'two more polls');
    const r = await rec.stop();
    expect(r.stderr).toBe('');
    expect(r.code).toBe(143);
    const rows = parseRecording(readFileSync(out, 'utf8')).rows;
    expect(rows.map((x) => [x.stream, x.value, new Date(x.dataTime * 1000).toISOString()])).toEqual([
      ['quakes', 1.1, '2025-11-26T06:36:40.000Z'],
      ['quakes', 2.4, '2025-11-26T06:45:00.000Z'],
    ]);
    expect(rows[1]!.data).toMatchObject({ place: '10 km N of Somewhere, CA', lat: 35.7, lon: -117.5, depth: 8.2 });
  });
});

describe('ecosym sources', () => {
  it('shows each stream live, failed or stale, as JSON for scripts', { timeout: 300_000 }, async () => {
    // --json prints once, when stopped: stopped (SIGTERM) after the feed has sent 40 readings
    // since the child connected, rather than after a fixed 2 s that a slow start used up.
    const clients = wss.clients.size;
    const live = startEcosym(['sources', 'carbon-pulse', '--json', '--for', '600s', '--data', `co2=${wsUrl()}`]);
    await until(() => wss.clients.size > clients || live.exited(), 'the connection');
    const sentBefore = wsSent;
    await until(() => wsSent >= sentBefore + 40 || live.exited(), '40 readings sent');
    const r = await live.stop();
    expect(r.code).toBe(143);
    const st = JSON.parse(r.stdout) as Array<{ stream: string; state: string; accepted: number; lastValue: number; rate: number }>;
    const co2 = st.find((s) => s.stream === 'co2')!;
    expect(co2.state).toBe('live');
    expect(co2.accepted).toBeGreaterThan(10);
    expect(co2.lastValue).toBeGreaterThanOrEqual(400);
    expect(co2.rate).toBeGreaterThan(0);
    // A failing feed: stopped once it has asked twice, as the second request comes only
    // after the first one's error was handled (a backoff later).
    const hits = httpHits.get('/missing') ?? 0;
    const failing = startEcosym(['sources', 'carbon-pulse', '--json', '--for', '600s', '--data', `co2=${httpBase}/missing#$.v`]);
    await until(() => (httpHits.get('/missing') ?? 0) >= hits + 2 || failing.exited(), 'two requests');
    const dead = await failing.stop();
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
  it('render captures a WebSocket feed for the duration, then renders it', { timeout: 300_000 }, async () => {
    const out = join(tmp(), 'ws.wav');
    // The capture is a wall-clock window (the render's length): what it holds depends on
    // how fast the child connects, so only "some readings, and they are the feed's" is asserted.
    const r = await ecosym(['render', 'carbon-pulse', '--duration', '4s', '--out', out, '--data', `co2=${wsUrl()}`]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Capturing co2 live from ws:\/\/.* for 4\.0s before rendering/);
    const n = Number(/co2 ← .* \(captured live\) \((\d+) values/.exec(r.stdout)?.[1]);
    expect(n).toBeGreaterThan(0);
    expect(existsSync(out)).toBe(true);
  });

  it.skipIf(!MOSQUITTO)(`play --sink none feeds MQTT values to the engine as they arrive${NEEDS_MOSQUITTO}`, { timeout: 300_000 }, async () => {
    const play = startEcosym(['play', 'carbon-pulse', '--sink', 'none', '--data', `co2=${broker.url}/site/co2`]);
    const pub = await mqtt.connectAsync(broker.url);
    try {
      // Published all along (as a sensor would) until the status line shows it: on a loaded
      // machine the player took over 3 s to start and subscribe, and values sent before that are gone.
      const shown = () => /co2=415\.50/.test(play.stdout());
      const deadline = performance.now() + 120_000; // a failure detector, as in until()
      while (!shown() && !play.exited()) {
        if (performance.now() > deadline) throw new Error(`the player never showed co2=415.50; it printed ${JSON.stringify(play.stdout())}`);
        await pub.publishAsync('site/co2', String(415.5), { qos: 1 });
        await until(shown, 'the value in the status line', 100).catch(() => undefined);
      }
    } finally {
      await pub.endAsync();
    }
    const r = await play.stop();
    expect(r.stderr).toBe('');
    expect(r.code).toBe(143);
    expect(r.stdout).toMatch(/source co2: connecting → live/);
    expect(r.stdout).toMatch(/co2=415\.50/);
  });
});
