/**
 * The show's HTTP server (`ecosym serve`): the UI's static files, the session
 * protocol over a WebSocket at `/api/ws`, a small REST API for automation and
 * curl, and `GET /health` for a supervisor or a load balancer.
 *
 * It depends on a {@link SessionLink} only, never on a Session: the same server
 * fronts a session in this process or one in a supervised child. Every REST
 * call becomes a protocol command and goes through `link.handle`, so there is
 * one validation path.
 *
 * Security (see security.ts): a token on everything but `/health`; `Host` and
 * `Origin` checked; limits on message size, rate and connections. A slow
 * client first loses telemetry frames, then is disconnected: nothing queues up
 * in the audio process. Telemetry is asked of the session only while a client
 * listens, and each frame is serialized once for all clients.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import sirv from 'sirv';
import { WebSocketServer, WebSocket, type RawData } from 'ws';
import { randomBytes } from 'node:crypto';
import type { SessionLink } from '../session/link.ts';
import { CSP } from '../../../shared/csp.ts';
import { BOUNCE_SUBDIR, confineBounce, sendWav } from './bounceFile.ts';
import { errorReply, parseCommand, PROTOCOL_VERSION, stampClient, READ_ONLY_COMMANDS, type Command, type HostStatus, type Reply, type Snapshot } from '../../../shared/protocol.ts';
import { accessOf, cookieName, generateToken, hostAllowed, originAllowed, RateLimiter, servedHostnames, tokenOf, type Access } from './security.ts';

/** Limits of one server; every one has a default. */
export interface ServerLimits {
  /** Largest WebSocket message, bytes (a larger one closes the connection, code 1009). */
  maxMessageBytes: number;
  /** Largest REST body, bytes (413 beyond). */
  maxBodyBytes: number;
  /** Commands a second per WebSocket client, and the burst allowed. */
  messagesPerSecond: number;
  messageBurst: number;
  /** Refused messages in a row (over the rate) after which a client is disconnected. */
  maxRefusedInARow: number;
  /** WebSocket clients at once (503 beyond). */
  maxConnections: number;
  /** A client with more than this queued (bytes) gets no telemetry frames until it catches up. */
  telemetryBufferBytes: number;
  /** A client with more than this queued (bytes) is disconnected. */
  maxBufferedBytes: number;
  /** Seconds between pings; a client that has not answered the last one is disconnected. */
  pingSeconds: number;
}

export const DEFAULT_LIMITS: ServerLimits = {
  maxMessageBytes: 256 * 1024,
  maxBodyBytes: 256 * 1024,
  messagesPerSecond: 50,
  messageBurst: 200,
  maxRefusedInARow: 500,
  maxConnections: 32,
  telemetryBufferBytes: 256 * 1024,
  maxBufferedBytes: 4 * 1024 * 1024,
  pingSeconds: 30,
};

/** What `/health` answers (200 when `ok`, else 503). */
export interface HealthReport {
  ok: boolean;
  [key: string]: unknown;
}

/** An extra REST route (authenticated like the others), e.g. a supervisor's restart. */
export interface ServerRoute {
  method: 'GET' | 'POST';
  /** Exact path, e.g. `/api/restart`. */
  path: string;
  /** True when a read-only (view) token may call it. */
  readOnly?: boolean;
  handle(body: unknown): Promise<{ status: number; body: unknown }> | { status: number; body: unknown };
}

export interface ServerOptions {
  link: SessionLink;
  /** Address to bind (default 127.0.0.1). */
  host?: string;
  /** Port (0: any free one; default 8080). */
  port?: number;
  /** The control token; generated when not given. */
  token?: string;
  /** A token for read-only clients (an audience view): snapshot and list only. */
  viewToken?: string;
  /** The UI's built files (index.html and assets); until they exist `/` says so. */
  staticDir?: string;
  /** Overrides what `/health` reports (default: from the session's snapshot and status). */
  health?: () => HealthReport | Promise<HealthReport>;
  routes?: ServerRoute[];
  /** `GET /metrics` (with a token, read-only allowed): e.g. Prometheus text from a supervisor. */
  metrics?: () => Promise<{ contentType: string; body: string }>;
  limits?: Partial<ServerLimits>;
  /** More host names the server answers to (a DNS name, a reverse proxy's). */
  allowedHosts?: string[];
  /** The host's status to start from (e.g. `playing`, silent with no audio device). */
  status?: HostStatus;
  /** The folder `GET /api/bounce.wav` serves from (default: `out` in the session's user patch folder, asked with `library`). */
  bounceDir?: string;
}

/** Counters, for tests and benchmarks. */
export interface ServerStats {
  connections: number;
  rejectedUpgrades: number;
  messages: number;
  refusedRate: number;
  telemetrySent: number;
  telemetryDropped: number;
  slowDisconnects: number;
}

export interface RunningServer {
  /** The URL to open, with the control token (`http://127.0.0.1:8080/?token=…`). */
  url: string;
  /** The URL without the token. */
  baseUrl: string;
  port: number;
  host: string;
  token: string;
  viewToken?: string;
  stats: ServerStats;
  /** Clients connected now. */
  clients(): number;
  close(): Promise<void>;
}

interface Client {
  ws: WebSocket;
  access: Exclude<Access, 'none'>;
  limiter: RateLimiter;
  refusedInARow: number;
  alive: boolean;
  ready: boolean;
  /** The name the session knows this connection by (its page MIDI ports' notes are let go when it closes). */
  name: string;
  /** It sent MIDI (midiIn): closing it lets go of what its controllers hold. */
  midi: boolean;
}

/** Security headers on every answer. */
const BASE_HEADERS = {
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cache-Control': 'no-store',
};

/** The page `/` shows until the UI is built. */
const GATE_PAGE = (why: string) => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Eco-Symphony: access token needed</title></head>
<body>
<h1>Eco-Symphony</h1>
<p role="alert">${why}</p>
<p>This page needs an access token. On the machine that plays, <code>ecosym serve PATCH</code> prints the address to open,
with its token (<code>http://HOST:PORT/?token=…</code>); the audience view has its own read-only address (<code>/audience?token=…</code>).
Open that address here.</p>
</body></html>
`;
const NO_TOKEN_PAGE = GATE_PAGE('No access token was given.');
const WRONG_TOKEN_PAGE = GATE_PAGE('The access token given is not this session&#39;s (the session may have restarted with a new one).');

const NO_UI_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Eco-Symphony</title></head>
<body>
<h1>Eco-Symphony is playing</h1>
<p>The web UI is not built yet, so there is nothing to show here. The show runs, and the API answers:</p>
<ul>
<li><a href="/api/state">GET /api/state</a>: the session's state (JSON)</li>
<li><a href="/api/patches">GET /api/patches</a>: the built-in patches</li>
<li>POST /api/load, /api/scene, /api/param, /api/mute, /api/panic, /api/seek, /api/loop, /api/speed; the protocol over a WebSocket at /api/ws</li>
</ul>
</body></html>
`;

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { ...BASE_HEADERS, 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

/** Refuses an upgrade with a status, then closes the socket. */
function refuseUpgrade(socket: Duplex, status: number, reason: string): void {
  if (socket.writable) socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(reason)}\r\n\r\n${reason}`);
  socket.destroy();
}

/** Reads a request body up to `max` bytes; undefined when larger. */
function readBody(req: IncomingMessage, max: number): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > max) over = true;
      else chunks.push(c);
    });
    req.on('end', () => resolve(over ? undefined : Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** A `load` body's patch: a built-in id, a path (has a slash or a patch extension), or {id|path|text}. */
function patchRef(p: unknown): unknown {
  if (typeof p !== 'string') return p;
  return /[/\\]|\.(ya?ml|json)$/i.test(p) ? { path: p } : { id: p };
}

/** The protocol command a REST call stands for, or a sentence saying what is wrong. */
function restCommand(path: string, body: Record<string, unknown>): unknown {
  switch (path) {
    case '/api/load':
      return { type: 'load', patch: patchRef(body.patch), ...(body.crossfade === undefined ? {} : { crossfade: body.crossfade }) };
    case '/api/scene':
      return { type: 'scene', name: body.name };
    case '/api/param':
      return { type: 'param', target: body.target, value: body.value };
    case '/api/mute':
      return { type: 'mute', on: body.on };
    case '/api/panic':
      return { type: 'panic' };
    case '/api/tempo':
      return { type: 'tempo', bpm: body.bpm };
    case '/api/seek':
      return { ...body, type: 'seek' };
    case '/api/loop':
      return { ...body, type: 'loop' };
    case '/api/speed':
      return { ...body, type: 'speed' };
    case '/api/command':
      return body;
    default:
      return undefined;
  }
}

/** Starts the server; resolves once it listens. */
export async function startServer(o: ServerOptions): Promise<RunningServer> {
  const link = o.link;
  const limits: ServerLimits = { ...DEFAULT_LIMITS, ...o.limits };
  const token = o.token ?? generateToken();
  const viewToken = o.viewToken;
  if (viewToken !== undefined && viewToken === token) throw new Error('the view token must differ from the control token');
  const bindHost = o.host ?? '127.0.0.1';
  const stats: ServerStats = { connections: 0, rejectedUpgrades: 0, messages: 0, refusedRate: 0, telemetrySent: 0, telemetryDropped: 0, slowDisconnects: 0 };
  const clients = new Set<Client>();
  /** Names clients get: unique across the servers of one session (the app's and a remote one). */
  const serverName = randomBytes(4).toString('hex');
  let clientCount = 0;
  const routes = new Map((o.routes ?? []).map((r) => [`${r.method} ${r.path}`, r]));
  const hasUi = o.staticDir !== undefined && existsSync(join(o.staticDir, 'index.html'));
  const staticFiles = hasUi
    ? sirv(o.staticDir, {
        dev: false,
        etag: true,
        single: true,
        dotfiles: false,
        setHeaders: (res) => {
          res.setHeader('Content-Security-Policy', CSP);
          res.setHeader('X-Content-Type-Options', 'nosniff');
          res.setHeader('Referrer-Policy', 'no-referrer');
          res.setHeader('X-Frame-Options', 'DENY');
        },
      })
    : undefined;
  let status: HostStatus | undefined = o.status;
  let port = 0;
  let served = new Set<string>();

  const server: Server = createServer((req, res) => {
    void onRequest(req, res).catch((e: unknown) => {
      if (!res.headersSent) json(res, 500, { ok: false, error: (e as Error)?.message ?? String(e) });
      else res.destroy();
    });
  });
  // A slow or stalled HTTP client cannot hold a socket for ever.
  server.requestTimeout = 30_000;
  server.headersTimeout = 15_000;
  const wss = new WebSocketServer({ noServer: true, maxPayload: limits.maxMessageBytes, perMessageDeflate: false, clientTracking: false });

  /** Sends to one client: droppable messages (telemetry) skip a backed-up client; past the hard limit it is cut off. */
  function send(c: Client, data: string | Buffer, droppable: boolean): boolean {
    if (c.ws.readyState !== WebSocket.OPEN) return false;
    const queued = c.ws.bufferedAmount;
    if (queued > limits.maxBufferedBytes) {
      stats.slowDisconnects++;
      c.ws.terminate();
      return false;
    }
    if (droppable && queued > limits.telemetryBufferBytes) {
      stats.telemetryDropped++;
      return false;
    }
    c.ws.send(data, { binary: false });
    return true;
  }

  function broadcast(data: string | Buffer, droppable: boolean): number {
    let sent = 0;
    for (const c of clients) if (c.ready && send(c, data, droppable)) sent++;
    return sent;
  }

  // Session events and status go to every client, serialized once each.
  const unsubscribe: Array<() => void> = [];
  unsubscribe.push(link.onEvent((event) => clients.size && broadcast(JSON.stringify({ type: 'event', event }), false)));
  if (link.onStatus)
    unsubscribe.push(
      link.onStatus((s) => {
        status = s;
        if (clients.size) broadcast(JSON.stringify(s), false);
      }),
    );

  // Telemetry only while someone listens: one subscription for all clients, one serialization per frame.
  let stopTelemetry: (() => void) | undefined;
  function updateTelemetry(): void {
    if (clients.size > 0 && !stopTelemetry)
      stopTelemetry = link.onTelemetry((f) => {
        const data = Buffer.from(JSON.stringify(f));
        stats.telemetrySent += broadcast(data, true);
      });
    else if (clients.size === 0 && stopTelemetry) {
      stopTelemetry();
      stopTelemetry = undefined;
    }
  }

  const ping = setInterval(() => {
    for (const c of clients) {
      if (!c.alive) {
        c.ws.terminate();
        continue;
      }
      c.alive = false;
      c.ws.ping();
    }
  }, limits.pingSeconds * 1000);
  ping.unref();

  async function snapshot(): Promise<Snapshot | string> {
    const r = await link.handle({ type: 'snapshot' });
    return r.ok ? (r.data as Snapshot) : r.error;
  }

  async function onMessage(c: Client, data: RawData, isBinary: boolean): Promise<void> {
    stats.messages++;
    if (!c.limiter.take()) {
      stats.refusedRate++;
      if (++c.refusedInARow > limits.maxRefusedInARow) c.ws.close(1008, 'too many messages');
      else send(c, JSON.stringify(errorReply(undefined, `too many messages: at most ${limits.messagesPerSecond} a second`)), false);
      return;
    }
    c.refusedInARow = 0;
    if (isBinary) {
      send(c, JSON.stringify(errorReply(undefined, 'binary messages are not part of the protocol: send JSON text')), false);
      return;
    }
    const text = Array.isArray(data) ? Buffer.concat(data).toString('utf8') : Buffer.from(data as ArrayBuffer).toString('utf8');
    let reply: Reply;
    if (c.access === 'view') {
      const parsed = parseCommand(text);
      if (!parsed.ok) reply = parsed.reply;
      else if (!READ_ONLY_COMMANDS.includes(parsed.command.type)) reply = errorReply(parsed.command.id, `"${parsed.command.type}": this client may only watch (read-only token); it may send ${READ_ONLY_COMMANDS.join(', ')}`);
      else reply = await link.handle(parsed.command);
    } else {
      // MIDI from this client's controllers carries its name, so that its notes can be let go when it goes.
      const command = stampClient(text, c.name);
      if (command !== text) c.midi = true;
      reply = await link.handle(command);
    }
    send(c, JSON.stringify(reply), false);
  }

  async function onConnection(ws: WebSocket, access: Exclude<Access, 'none'>): Promise<void> {
    const c: Client = { ws, access, limiter: new RateLimiter(limits.messagesPerSecond, limits.messageBurst), refusedInARow: 0, alive: true, ready: false, name: `ws-${serverName}-${++clientCount}`, midi: false };
    clients.add(c);
    stats.connections++;
    // Messages that come before the hello are answered after it, in order.
    let chain = Promise.resolve();
    ws.on('message', (data, isBinary) => {
      chain = chain.then(() => onMessage(c, data, isBinary)).catch(() => undefined);
    });
    ws.on('pong', () => (c.alive = true));
    ws.on('error', () => ws.terminate());
    ws.on('close', () => {
      clients.delete(c);
      updateTelemetry();
      // Closed, dropped or cut off with keys held: the session lets go of its notes (after its messages already queued).
      if (c.midi) chain = chain.then(() => link.handle({ type: 'midiRelease', client: c.name })).then(() => undefined, () => undefined);
    });
    const hello = (async () => {
      const s = await snapshot();
      if (typeof s === 'string') {
        ws.close(1011, 'no session state');
        return;
      }
      send(c, JSON.stringify({ v: PROTOCOL_VERSION, type: 'hello', readOnly: access === 'view', snapshot: s }), false);
      if (status) send(c, JSON.stringify(status), false);
      c.ready = true;
      updateTelemetry();
    })();
    chain = hello.catch(() => ws.close(1011, 'no session state'));
  }

  function checkHostAndOrigin(req: IncomingMessage): string | undefined {
    if (!hostAllowed(req.headers.host, served)) return `Host "${String(req.headers.host ?? '').slice(0, 100)}" is not an address this server serves`;
    const origin = req.headers.origin;
    if (!originAllowed(origin, req.headers.host, served)) return `Origin "${String(origin).slice(0, 100)}" may not use this server`;
    return undefined;
  }

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname !== '/api/ws') {
      stats.rejectedUpgrades++;
      return refuseUpgrade(socket, 404, 'Not Found');
    }
    const bad = checkHostAndOrigin(req);
    if (bad) {
      stats.rejectedUpgrades++;
      return refuseUpgrade(socket, 403, `Forbidden: ${bad}`);
    }
    const access = accessOf(tokenOf(req, url, port)?.token, token, viewToken);
    if (access === 'none') {
      stats.rejectedUpgrades++;
      return refuseUpgrade(socket, 401, 'Unauthorized: a token is required');
    }
    if (clients.size >= limits.maxConnections) {
      stats.rejectedUpgrades++;
      return refuseUpgrade(socket, 503, `Service Unavailable: at most ${limits.maxConnections} clients`);
    }
    wss.handleUpgrade(req, socket, head, (ws) => void onConnection(ws, access));
  });

  async function health(): Promise<HealthReport> {
    if (o.health) return o.health();
    const s = await snapshot();
    if (typeof s === 'string') return { ok: false, playing: false, error: s, ...(status ? { state: status.state } : {}) };
    const state = status?.state ?? 'playing';
    const playing = state === 'playing';
    return {
      ok: playing,
      playing,
      state,
      patch: s.patch?.name ?? null,
      scene: s.scene,
      rmsDb: s.rmsDb,
      peakDb: s.peakDb,
      muted: s.muted,
      sink: s.engine.sink,
      silent: status?.silent ?? s.engine.sink === 'none',
      time: s.engine.time,
      errors: s.engine.errors,
      clients: clients.size,
    };
  }

  async function onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const bad = checkHostAndOrigin(req);
    if (bad) return json(res, 403, { ok: false, error: bad });
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname;
    const method = req.method ?? 'GET';
    if (path === '/health') {
      if (method !== 'GET' && method !== 'HEAD') return json(res, 405, { ok: false, error: 'GET /health' }, { Allow: 'GET' });
      const h = await health().catch((e: unknown) => ({ ok: false, error: (e as Error)?.message ?? String(e) }));
      return json(res, h.ok ? 200 : 503, h);
    }
    const given = tokenOf(req, url, port);
    const access = accessOf(given?.token, token, viewToken);
    // A browser asking for a page without a (valid) token gets a page saying how to get in, not JSON.
    if (access === 'none' && method === 'GET' && !path.startsWith('/api/') && /text\/html/.test(req.headers.accept ?? '')) {
      res.writeHead(401, { ...BASE_HEADERS, 'Content-Type': 'text/html; charset=utf-8', 'Content-Security-Policy': CSP, 'X-Frame-Options': 'DENY', 'WWW-Authenticate': 'Bearer' });
      return void res.end(given ? WRONG_TOKEN_PAGE : NO_TOKEN_PAGE);
    }
    if (access === 'none')
      return json(res, 401, { ok: false, error: given ? 'wrong token' : 'a token is required: Authorization: Bearer TOKEN, or ?token=TOKEN' }, { 'WWW-Authenticate': 'Bearer' });
    if (path === '/metrics' && o.metrics) {
      if (method !== 'GET' && method !== 'HEAD') return json(res, 405, { ok: false, error: 'GET /metrics' }, { Allow: 'GET' });
      const m = await o.metrics().catch((e: unknown) => ({ contentType: 'text/plain; charset=utf-8', body: `# metrics failed: ${(e as Error)?.message ?? String(e)}\n` }));
      res.writeHead(200, { ...BASE_HEADERS, 'Content-Type': m.contentType, 'Content-Length': Buffer.byteLength(m.body) });
      return void res.end(method === 'HEAD' ? undefined : m.body);
    }
    if (path === '/api/ws') return json(res, 426, { ok: false, error: 'WebSocket only' }, { Upgrade: 'websocket' });
    if (path.startsWith('/api/')) return api(req, res, path, method, access);
    if (method !== 'GET' && method !== 'HEAD') return json(res, 405, { ok: false, error: `${method} ${path}: only GET` }, { Allow: 'GET' });
    // A browser that came with ?token= keeps it in a cookie (HttpOnly, this site only) and loses it from its address bar.
    if (given?.via === 'query') {
      url.searchParams.delete('token');
      const cookie = `${cookieName(port)}=${encodeURIComponent(given.token)}; Path=/; HttpOnly; SameSite=Strict`;
      res.writeHead(303, { ...BASE_HEADERS, Location: `${url.pathname}${url.search}`, 'Set-Cookie': cookie, 'Content-Length': 0 });
      return void res.end();
    }
    if (staticFiles) return staticFiles(req, res, () => json(res, 404, { ok: false, error: `no file ${path}` }));
    if (path !== '/' && path !== '/index.html') return json(res, 404, { ok: false, error: `no file ${path} (the UI is not built)` });
    res.writeHead(200, { ...BASE_HEADERS, 'Content-Type': 'text/html; charset=utf-8', 'Content-Security-Policy': CSP, 'X-Frame-Options': 'DENY' });
    res.end(NO_UI_PAGE);
  }

  // The output folder (bounces and recordings): given, or the session's user folder's `out` (asked once; a failure is asked again next time).
  let bounceDirOnce: Promise<string> | undefined;
  function bounceDir(): Promise<string> {
    if (o.bounceDir !== undefined) return Promise.resolve(o.bounceDir);
    bounceDirOnce ??= link.handle({ type: 'library' }).then((r) => {
      const userDir = r.ok ? (r.data as { userDir?: unknown } | undefined)?.userDir : undefined;
      if (typeof userDir === 'string') return join(userDir, BOUNCE_SUBDIR);
      bounceDirOnce = undefined;
      throw new Error(`the session did not say where its patch folder is${r.ok ? '' : `: ${r.error}`}`);
    });
    return bounceDirOnce;
  }

  async function api(req: IncomingMessage, res: ServerResponse, path: string, method: string, access: Exclude<Access, 'none'>): Promise<void> {
    const route = routes.get(`${method} ${path}`);
    // What the Settings screen shows for remote access (the control token: control clients only).
    if (method === 'GET' && path === '/api/access') {
      if (access !== 'control') return json(res, 403, { ok: false, error: `${method} ${path}: this token may only watch` });
      const origin = `http://${req.headers.host ?? `127.0.0.1:${port}`}/`;
      const loopbackOnly = bindHost === '127.0.0.1' || bindHost === '::1' || bindHost === 'localhost';
      return json(res, 200, {
        url: `${origin}?token=${encodeURIComponent(token)}`,
        token,
        ...(viewToken ? { viewUrl: `${origin}audience?token=${encodeURIComponent(viewToken)}` } : {}),
        bound: bindHost,
        remote: !loopbackOnly,
      });
    }
    if ((method === 'GET' || method === 'HEAD') && path === '/api/bounce.wav') {
      if (access !== 'control') return json(res, 403, { ok: false, error: `${method} ${path}: this token may only watch` });
      const dir = await bounceDir().catch((e: unknown) => ({ error: (e as Error)?.message ?? String(e) }));
      if (typeof dir !== 'string') return json(res, 500, { ok: false, error: `bounce.wav: ${dir.error}` });
      const found = confineBounce(dir, new URL(req.url ?? '/', 'http://localhost').searchParams.get('path'));
      if ('error' in found) return json(res, found.status, { ok: false, error: found.error });
      return sendWav(req, res, found.file, found.bytes, BASE_HEADERS);
    }
    if (method === 'GET' && (path === '/api/state' || path === '/api/patches')) {
      const r = await link.handle(path === '/api/state' ? { type: 'snapshot' } : { type: 'list', what: 'patches' });
      return json(res, r.ok ? 200 : 500, r.ok ? r.data : { ok: false, error: r.error });
    }
    const command = method === 'POST' ? restCommand(path, {}) : undefined;
    if (!route && command === undefined) {
      const known = ['GET /api/state', 'GET /api/patches', 'GET /api/access', 'GET /api/bounce.wav?path=', ...['load', 'scene', 'param', 'mute', 'panic', 'tempo', 'command'].map((p) => `POST /api/${p}`), ...routes.keys()];
      return json(res, 404, { ok: false, error: `no ${method} ${path} (the API: ${known.join(', ')})` });
    }
    let body: unknown = {};
    if (method === 'POST') {
      const text = await readBody(req, limits.maxBodyBytes);
      if (text === undefined) return json(res, 413, { ok: false, error: `body larger than ${limits.maxBodyBytes} bytes` });
      if (text.trim()) {
        try {
          body = JSON.parse(text);
        } catch (e) {
          return json(res, 400, { ok: false, error: `body is not JSON: ${(e as Error).message}`.slice(0, 300) });
        }
      }
    }
    if (route) {
      if (access === 'view' && !route.readOnly) return json(res, 403, { ok: false, error: `${method} ${path}: this token may only watch` });
      const r = await route.handle(body);
      return json(res, r.status, r.body);
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) return json(res, 400, { ok: false, error: `${path}: expected a JSON object body` });
    const cmd = restCommand(path, body as Record<string, unknown>);
    if (access === 'view') {
      const type = (cmd as Partial<Command>).type;
      if (!READ_ONLY_COMMANDS.includes(type as Command['type'])) return json(res, 403, { ok: false, error: `${path}: this token may only watch` });
    }
    const r = await link.handle(cmd);
    return json(res, r.ok ? 200 : 400, r);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 8080, bindHost, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  port = addr.port;
  served = servedHostnames(addr.address, o.allowedHosts);
  const urlHost = addr.address === '0.0.0.0' || addr.address === '::' ? '127.0.0.1' : addr.address.includes(':') ? `[${addr.address}]` : addr.address;
  const baseUrl = `http://${urlHost}:${port}/`;
  const sockets = new Set<Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });

  let closed: Promise<void> | undefined;
  return {
    url: `${baseUrl}?token=${encodeURIComponent(token)}`,
    baseUrl,
    port,
    host: addr.address,
    token,
    viewToken,
    stats,
    clients: () => clients.size,
    close() {
      closed ??= (async () => {
        clearInterval(ping);
        for (const u of unsubscribe) u();
        stopTelemetry?.();
        stopTelemetry = undefined;
        for (const c of clients) c.ws.close(1001, 'server stopping');
        const done = new Promise<void>((r) => server.close(() => r()));
        // Clients that do not answer the close in a moment are cut off.
        setTimeout(() => {
          for (const c of clients) c.ws.terminate();
          for (const s of sockets) s.destroy();
        }, 500).unref();
        server.closeIdleConnections();
        await done;
        wss.close();
      })();
      return closed;
    },
  };
}
