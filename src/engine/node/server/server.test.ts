/**
 * The `ecosym serve` server over real HTTP and WebSocket on loopback, in front
 * of a real session playing with no audio device: the token, Host and Origin
 * checks, the REST API changing what `GET /api/state` says, `/health`, a
 * read-only client, limits, and telemetry that flows only while a client listens.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { loadPatchFile } from '../files.ts';
import { Session } from '../session/Session.ts';
import type { SessionLink } from '../session/link.ts';
import { ServerMessage, Snapshot, type Reply, type SessionEvent, type TelemetryFrame } from '../../../shared/protocol.ts';
import { CSP } from '../../../shared/csp.ts';
import { startServer, type RunningServer } from './server.ts';
import { until } from '../../../../tests/support/wait.ts';
import { heldChordPatch } from '../../../../tests/support/fixtures.ts';

const dir = mkdtempSync(join(tmpdir(), 'ecosym-server-'));
const patchFile = join(dir, 'a.yaml');
writeFileSync(patchFile, heldChordPatch('alpha'));

let session: Session;
let server: RunningServer;

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  json: () => unknown;
}

/** One HTTP request with exactly the headers given (a browser's Host and Origin can be forged here). */
function http(method: string, path: string, o: { headers?: Record<string, string>; body?: string; port?: number } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: o.port ?? server.port, method, path, headers: o.headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body, json: () => JSON.parse(body) as unknown }));
    });
    req.on('error', reject);
    req.end(o.body);
  });
}

const auth = () => ({ Authorization: `Bearer ${server.token}` });
const post = (path: string, body: unknown, headers: Record<string, string> = auth()) => http('POST', path, { headers: { 'Content-Type': 'application/json', ...headers }, body: JSON.stringify(body) });
const state = async () => Snapshot.parse((await http('GET', '/api/state', { headers: auth() })).json());

/** A WebSocket client that keeps every message, or the HTTP status its upgrade was refused with. */
function connect(path: string, headers: Record<string, string> = {}): Promise<{ ws: WebSocket; messages: ServerMessage[] } | { refused: number }> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}${path}`, { headers });
    const messages: ServerMessage[] = [];
    ws.on('message', (d) => messages.push(ServerMessage.parse(JSON.parse(d.toString()))));
    ws.on('open', () => resolve({ ws, messages }));
    ws.on('unexpected-response', (_req, res) => {
      resolve({ refused: res.statusCode! });
      ws.terminate();
    });
    ws.on('error', () => undefined);
  });
}

async function client(path = `/api/ws?token=${server?.token}`, headers: Record<string, string> = {}) {
  const c = await connect(path, headers);
  if ('refused' in c) throw new Error(`upgrade refused: ${c.refused}`);
  await until(() => c.messages.some((m) => m.type === 'hello'), 'the hello');
  let next = 1;
  return {
    ...c,
    /** Sends a command with an id and waits for its reply. */
    async call(cmd: Record<string, unknown>): Promise<Reply> {
      const id = next++;
      c.ws.send(JSON.stringify({ ...cmd, id }));
      let reply: Reply | undefined;
      await until(() => (reply = c.messages.find((m): m is Reply => m.type === 'reply' && m.id === id)) !== undefined, `the reply to ${cmd.type as string}`);
      return reply!;
    },
    close: () => new Promise<void>((r) => (c.ws.readyState === WebSocket.CLOSED ? r() : (c.ws.once('close', () => r()), c.ws.close()))),
  };
}

beforeAll(async () => {
  session = await Session.open({ patch: loadPatchFile(patchFile), sink: 'none', cacheDir: false, midi: false, patchesDir: dir });
  await session.start();
  server = await startServer({ link: session, port: 0, viewToken: 'audience-view-token', limits: { messagesPerSecond: 1000, messageBurst: 1000 } });
  await until(() => (session.snapshot().rmsDb ?? -Infinity) > -40, 'the pad to sound', 30_000);
}, 60_000);
afterAll(async () => {
  await server?.close();
  await session?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('token', () => {
  it('is generated (long and random) when not given, and printed in the URL', () => {
    expect(server.token).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(server.url).toBe(`http://127.0.0.1:${server.port}/?token=${server.token}`);
  });

  it('without it, the API answers 401 and the WebSocket upgrade is refused and closed', async () => {
    expect((await http('GET', '/api/state')).status).toBe(401);
    expect((await http('GET', '/api/state', { headers: { Authorization: 'Bearer nope' } })).status).toBe(401);
    expect((await http('GET', '/api/state?token=nope')).status).toBe(401);
    expect((await post('/api/panic', {}, {})).status).toBe(401);
    expect((await http('GET', '/')).status).toBe(401);
    expect(await connect('/api/ws')).toEqual({ refused: 401 });
    expect(await connect('/api/ws?token=wrong')).toEqual({ refused: 401 });
    expect(await connect('/api/ws', { Authorization: `Bearer ${server.token}x` })).toEqual({ refused: 401 });
    expect(session.snapshot().muted).toBe(false);
  });

  it('is taken as a Bearer header, a ?token= query, or the cookie a ?token= visit sets (then gone from the address)', async () => {
    expect((await http('GET', '/api/state', { headers: auth() })).status).toBe(200);
    expect((await http('GET', `/api/state?token=${server.token}`)).status).toBe(200);
    const visit = await http('GET', `/?token=${server.token}`);
    expect(visit.status).toBe(303);
    expect(visit.headers.location).toBe('/');
    const cookie = String(visit.headers['set-cookie']);
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    const page = await http('GET', '/', { headers: { Cookie: cookie.split(';')[0]! } });
    expect(page.status).toBe(200);
    expect(page.body).toMatch(/UI is not built/);
    expect(page.headers['content-security-policy']).toBe(CSP);
    const c = await client('/api/ws', { Cookie: cookie.split(';')[0]! });
    await c.close();
  });
});

describe('Host and Origin', () => {
  it('refuses a request whose Host is not an address served (DNS rebinding), even with the token', async () => {
    const r = await http('GET', '/api/state', { headers: { ...auth(), Host: `evil.example:${server.port}` } });
    expect(r.status).toBe(403);
    expect(r.body).toMatch(/evil\.example/);
    expect((await http('GET', '/health', { headers: { Host: 'rebound.example' } })).status).toBe(403);
    expect(await connect(`/api/ws?token=${server.token}`, { Host: `evil.example:${server.port}` })).toEqual({ refused: 403 });
    // The names of this address are fine.
    expect((await http('GET', '/api/state', { headers: { ...auth(), Host: `localhost:${server.port}` } })).status).toBe(200);
  });

  it('refuses a WebSocket upgrade or a request from a foreign Origin (cross-site WebSocket hijacking)', async () => {
    expect(await connect(`/api/ws?token=${server.token}`, { Origin: 'https://evil.example' })).toEqual({ refused: 403 });
    expect(await connect(`/api/ws?token=${server.token}`, { Origin: 'null' })).toEqual({ refused: 403 });
    // Same host, another port: another origin.
    expect(await connect(`/api/ws?token=${server.token}`, { Origin: `http://127.0.0.1:${server.port + 1}` })).toEqual({ refused: 403 });
    expect((await post('/api/mute', { on: true }, { ...auth(), Origin: 'https://evil.example' })).status).toBe(403);
    expect(session.snapshot().muted).toBe(false);
    // The page's own origin may.
    const c = await client(`/api/ws?token=${server.token}`, { Origin: `http://127.0.0.1:${server.port}` });
    await c.close();
  });
});

describe('REST', () => {
  it('commands change what GET /api/state says', async () => {
    expect((await state()).scene).not.toBe('storm');
    let r = await post('/api/scene', { name: 'storm' });
    expect(r.status).toBe(200);
    expect((await state()).scene).toBe('storm');

    r = await post('/api/mute', { on: true });
    expect(r.json()).toMatchObject({ ok: true });
    expect((await state()).muted).toBe(true);
    await post('/api/mute', { on: false });
    expect((await state()).muted).toBe(false);

    r = await post('/api/param', { target: 'master.volume', value: -99 });
    expect(r.status).toBe(200);
    // Clamped to the one table's range, and really set.
    expect(r.json()).toMatchObject({ ok: true, data: { target: 'master.volume', value: -60 } });
    await until(() => Math.abs(session.engine.parameterValue('master.volume')! + 60) < 0.5, 'master.volume to reach -60');
    await post('/api/param', { target: 'master.volume', value: 0 });

    r = await post('/api/tempo', { bpm: 120 });
    expect((await state()).tempoFixed).toBe(120);
    await post('/api/tempo', { bpm: null });

    r = await post('/api/panic', {});
    expect(r.status).toBe(200);
    expect((await state()).muted).toBe(true);
    await post('/api/mute', { on: false });
  });

  it('loads a patch by built-in name or by path', async () => {
    let r = await post('/api/load', { patch: 'carbon-pulse', crossfade: 0.1 });
    expect(r.status).toBe(200);
    expect((await state()).patch?.id).toBe('carbon-pulse');
    r = await post('/api/load', { patch: patchFile, crossfade: 0.1 });
    expect(r.status).toBe(200);
    expect((await state()).patch?.name).toBe('alpha');
  });

  it('answers a bad call with 400 and what was wrong, through the protocol validation', async () => {
    await post('/api/scene', { name: 'storm' });
    let r = await post('/api/param', { target: 'master.volume', value: 'loud' });
    expect(r.status).toBe(400);
    expect(r.json()).toMatchObject({ ok: false, error: expect.stringMatching(/param\.value/) });
    r = await post('/api/scene', { name: 'nowhere' });
    expect(r.status).toBe(400);
    expect((r.json() as { error: string }).error).toMatch(/no scene "nowhere"/);
    r = await post('/api/load', { patch: 'no-such-patch' });
    expect(r.status).toBe(400);
    r = await http('POST', '/api/mute', { headers: auth(), body: '{"on": tr' });
    expect(r.status).toBe(400);
    expect(r.body).toMatch(/not JSON/);
    r = await http('POST', '/api/mute', { headers: auth(), body: 'x'.repeat(300 * 1024) });
    expect(r.status).toBe(413);
    expect((await http('GET', '/api/nothing', { headers: auth() })).status).toBe(404);
    expect((await state()).scene).toBe('storm');
  });

  it('lists the built-in patches', async () => {
    const r = await http('GET', '/api/patches', { headers: auth() });
    expect(r.status).toBe(200);
    expect((r.json() as Array<{ id: string }>).map((p) => p.id)).toContain('carbon-pulse');
  });
});

describe('/health', () => {
  it('answers without a token: playing, the patch, the level', async () => {
    const r = await http('GET', '/health');
    expect(r.status).toBe(200);
    expect(r.json()).toMatchObject({ ok: true, playing: true, patch: 'alpha', sink: 'none', silent: true });
    expect((r.json() as { rmsDb: number }).rmsDb).toBeGreaterThan(-60);
  });

  it('answers 503 when the session does not answer or the host is not playing', async () => {
    const dead: SessionLink = {
      handle: () => Promise.resolve({ v: 1, type: 'reply', ok: false, error: 'the session has stopped' }),
      onEvent: () => () => undefined,
      onTelemetry: () => () => undefined,
    };
    const s = await startServer({ link: dead, port: 0 });
    try {
      const r = await http('GET', '/health', { port: s.port });
      expect(r.status).toBe(503);
      expect(r.json()).toMatchObject({ ok: false, playing: false });
    } finally {
      await s.close();
    }
    const restarting = await startServer({ link: session, port: 0, status: { type: 'status', state: 'restarting' } });
    try {
      expect((await http('GET', '/health', { port: restarting.port })).status).toBe(503);
    } finally {
      await restarting.close();
    }
  });
});

describe('WebSocket', () => {
  it('says hello with the snapshot, answers commands, and sends events and telemetry', async () => {
    const c = await client();
    const hello = c.messages.find((m) => m.type === 'hello')!;
    expect(hello).toMatchObject({ readOnly: false, snapshot: { patch: { name: 'alpha' } } });
    const scene = (await state()).scene === 'calm' ? 'storm' : 'calm';
    const r = await c.call({ type: 'scene', name: scene });
    expect(r.ok).toBe(true);
    await until(() => c.messages.some((m) => m.type === 'event' && m.event.type === 'scene' && m.event.scene === scene), 'the scene event');
    await until(() => c.messages.some((m) => m.type === 'telemetry'), 'a telemetry frame');
    const f = c.messages.find((m): m is TelemetryFrame => m.type === 'telemetry')!;
    expect(f.spectrum.length).toBeGreaterThan(8);
    expect(Math.max(...f.rms)).toBeGreaterThan(0.001);
    expect((await c.call({ type: 'nonsense' })).ok).toBe(false);
    expect((await state()).scene).toBe(scene);
    await c.close();
  });

  it('a read-only client (view token) may watch but is refused every write', async () => {
    const c = await client('/api/ws?token=audience-view-token');
    expect(c.messages.find((m) => m.type === 'hello')).toMatchObject({ readOnly: true });
    const before = (await state()).muted;
    for (const cmd of [{ type: 'mute', on: !before }, { type: 'panic' }, { type: 'load', patch: { id: 'carbon-pulse' } }, { type: 'param', target: 'master.volume', value: -30 }]) {
      const r = await c.call(cmd);
      expect(r.ok).toBe(false);
      expect(r.ok === false && r.error).toMatch(/read-only/);
    }
    expect((await c.call({ type: 'snapshot' })).ok).toBe(true);
    expect((await state()).muted).toBe(before);
    expect((await state()).patch?.name).toBe('alpha');
    // The same over REST.
    const h = { Authorization: 'Bearer audience-view-token' };
    expect((await http('GET', '/api/state', { headers: h })).status).toBe(200);
    expect((await post('/api/mute', { on: true }, h)).status).toBe(403);
    expect((await state()).muted).toBe(before);
    await c.close();
  });

  it('computes telemetry only while a client listens', async () => {
    await until(() => server.clients() === 0, 'the clients to leave');
    const frames = () => (session as unknown as { telemetry: { frames: number } }).telemetry.frames;
    const idle = frames();
    await new Promise((r) => setTimeout(r, 300));
    expect(frames()).toBe(idle);
    const c = await client();
    await until(() => frames() > idle + 2, 'frames while a client listens');
    await c.close();
    await until(() => server.clients() === 0, 'the client to leave');
    const after = frames();
    await new Promise((r) => setTimeout(r, 300));
    expect(frames()).toBe(after);
  });

  it('closes a connection whose message is over the size limit, and refuses clients over the connection limit', async () => {
    const small = await startServer({ link: session, port: 0, token: 't0ken', limits: { maxMessageBytes: 1024, maxConnections: 2 } });
    try {
      const open = (h: Record<string, string> = {}) =>
        new Promise<{ ws?: WebSocket; status?: number }>((resolve) => {
          const ws = new WebSocket(`ws://127.0.0.1:${small.port}/api/ws?token=t0ken`, { headers: h });
          ws.on('open', () => resolve({ ws }));
          ws.on('unexpected-response', (_q, res) => resolve({ status: res.statusCode }));
          ws.on('error', () => undefined);
        });
      const a = (await open()).ws!;
      const b = (await open()).ws!;
      expect((await open()).status).toBe(503);
      const code = await new Promise<number>((resolve) => {
        a.on('close', (c) => resolve(c));
        a.send(JSON.stringify({ type: 'scene', name: 'x'.repeat(2000) }));
      });
      expect(code).toBe(1009);
      b.close();
    } finally {
      await small.close();
    }
  });

  it('answers a flood over the rate limit with errors, then disconnects the client', async () => {
    const strict = await startServer({ link: session, port: 0, token: 't0ken', limits: { messagesPerSecond: 1, messageBurst: 5, maxRefusedInARow: 50 } });
    try {
      const ws = new WebSocket(`ws://127.0.0.1:${strict.port}/api/ws?token=t0ken`);
      const replies: Reply[] = [];
      ws.on('message', (d) => {
        const m = JSON.parse(d.toString()) as ServerMessage;
        if (m.type === 'reply') replies.push(m);
      });
      await new Promise((r) => ws.once('open', r));
      const closed = new Promise<number>((r) => ws.once('close', (c) => r(c)));
      for (let i = 0; i < 200; i++) ws.send(JSON.stringify({ type: 'snapshot', id: i }));
      expect(await closed).toBe(1008);
      expect(replies.filter((r) => r.ok).length).toBeLessThanOrEqual(10);
      expect(replies.some((r) => !r.ok && /too many messages/.test(r.error))).toBe(true);
      expect(strict.stats.refusedRate).toBeGreaterThan(50);
    } finally {
      await strict.close();
    }
  });

  it('drops telemetry for a client that does not read, then disconnects it, never queueing past the limit', async () => {
    // A link that sends big frames and events fast: the kernel's socket buffers fill in moments.
    const telemetry = new Set<(f: TelemetryFrame) => void>();
    const events = new Set<(e: SessionEvent) => void>();
    const link: SessionLink = {
      handle: (m) => session.handle(m),
      onEvent: (fn) => (events.add(fn), () => events.delete(fn)),
      onTelemetry: (fn) => (telemetry.add(fn), () => telemetry.delete(fn)),
    };
    const big = Array.from({ length: 20_000 }, () => 0.123456);
    const frame: TelemetryFrame = { v: 1, type: 'telemetry', time: 0, peak: [0], rms: [0], spectrum: [], scope: big, streams: {}, signals: {} };
    const slow = await startServer({ link, port: 0, token: 't0ken', limits: { telemetryBufferBytes: 64 * 1024, maxBufferedBytes: 1024 * 1024 } });
    try {
      const ws = new WebSocket(`ws://127.0.0.1:${slow.port}/api/ws?token=t0ken`);
      await new Promise((r) => ws.once('open', r));
      await until(() => telemetry.size === 1, 'the server to subscribe to telemetry');
      // Stop reading: the kernel buffers fill, then the server's own queue grows.
      (ws as unknown as { _socket: { pause(): void } })._socket.pause();
      const pump = async (what: string, done: () => boolean, send: () => void) => {
        for (let i = 0; !done(); i++) {
          send();
          if (i % 10 === 0) await new Promise((r) => setTimeout(r, 1));
          if (i > 100_000) throw new Error(`${what} never happened`);
        }
      };
      await pump('a dropped frame', () => slow.stats.telemetryDropped > 0, () => telemetry.forEach((fn) => fn(frame)));
      expect(slow.stats.slowDisconnects).toBe(0);
      const message = 'x'.repeat(100_000);
      await pump('a disconnect', () => slow.stats.slowDisconnects > 0, () => events.forEach((fn) => fn({ type: 'error', time: 0, where: 'test', message })));
      await until(() => slow.clients() === 0, 'the slow client to be gone');
      // Nobody listens now: the server stopped asking for telemetry.
      expect(telemetry.size).toBe(0);
    } finally {
      await slow.close();
    }
  });
});

describe('static files', () => {
  it('serves the UI from staticDir with the CSP header, and the SPA index for unknown paths', async () => {
    const ui = join(dir, 'ui');
    mkdirSync(join(ui, 'assets'), { recursive: true });
    writeFileSync(join(ui, 'index.html'), '<!doctype html><title>UI</title><script type="module" src="/assets/app.js"></script>');
    writeFileSync(join(ui, 'assets', 'app.js'), 'console.log(1)');
    const s = await startServer({ link: session, port: 0, token: 't0ken', staticDir: ui });
    try {
      const h = { Authorization: 'Bearer t0ken' };
      const page = await http('GET', '/', { headers: h, port: s.port });
      expect(page.status).toBe(200);
      expect(page.body).toMatch(/<title>UI<\/title>/);
      expect(page.headers['content-security-policy']).toBe(CSP);
      const js = await http('GET', '/assets/app.js', { headers: h, port: s.port });
      expect(js.status).toBe(200);
      expect(js.headers['content-type']).toMatch(/javascript/);
      expect((await http('GET', '/assets/app.js', { port: s.port })).status).toBe(401);
      expect((await http('GET', '/../a.yaml', { headers: h, port: s.port })).body).not.toMatch(/alpha/);
    } finally {
      await s.close();
    }
  });
});

describe('bounce over the WebSocket', () => {
  it('refuses an output path outside the output folder (absolute or ..) with a clear error, and starts no bounce', async () => {
    const c = await client();
    try {
      const target = join(dir, 'pwned.wav');
      const abs = await c.call({ type: 'bounce', duration: 1, path: target });
      expect(abs.ok).toBe(false);
      expect(!abs.ok && abs.error).toMatch(new RegExp(`bounce\\.path: ${target.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: give a file name inside the output folder .*out, not an absolute path`));
      const up = await c.call({ type: 'bounce', duration: 1, path: '../../pwned.wav' });
      expect(!up.ok && up.error).toMatch(/^bounce\.path: \.\.\/\.\.\/pwned\.wav: "\.\." would leave the output folder /);
      expect(session.snapshot().bounce ?? null).toBeNull();
      expect((await c.call({ type: 'bounce', action: 'cancel' })).ok).toBe(false);
    } finally {
      await c.close();
    }
  });
});

describe('record over the WebSocket', () => {
  it('refuses a recording path outside the output folder (absolute, .. or a symlinked folder) with a clear error, and records nothing', async () => {
    const c = await client();
    try {
      const target = join(dir, 'pwned-take.wav');
      const abs = await c.call({ type: 'record', action: 'start', path: target });
      expect(abs.ok).toBe(false);
      expect(!abs.ok && abs.error).toMatch(new RegExp(`^record\\.path: ${target.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: give a file name inside the output folder .*out, not an absolute path`));
      const up = await c.call({ type: 'record', action: 'start', path: '../../pwned-take.wav' });
      expect(!up.ok && up.error).toMatch(/^record\.path: \.\.\/\.\.\/pwned-take\.wav: "\.\." would leave the output folder /);
      // A folder inside out/ that is a link to elsewhere does not lead the write out either.
      const elsewhere = mkdtempSync(join(tmpdir(), 'ecosym-elsewhere-'));
      try {
        mkdirSync(join(dir, 'out'), { recursive: true });
        symlinkSync(elsewhere, join(dir, 'out', 'escape'));
        const linked = await c.call({ type: 'record', action: 'start', path: 'escape/take.wav' });
        expect(!linked.ok && linked.error).toMatch(/^record\.path: escape\/take\.wav: .*escape is a link leading out of the output folder /);
        expect(readdirSync(elsewhere)).toEqual([]);
      } finally {
        rmSync(join(dir, 'out', 'escape'), { force: true });
        rmSync(elsewhere, { recursive: true, force: true });
      }
      expect(existsSync(target)).toBe(false);
      expect(existsSync(`${target}.part`)).toBe(false);
      expect(session.snapshot().recording ?? null).toBeNull();
      expect((await c.call({ type: 'record', action: 'stop' })).ok).toBe(false);
    } finally {
      await c.close();
    }
  });
});
