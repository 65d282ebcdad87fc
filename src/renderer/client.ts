/**
 * The UI's client of a running session: the protocol of src/shared/protocol.ts
 * over a WebSocket (a browser or tablet through `ecosym serve`) or over the
 * Electron app's MessagePort (`window.ecosym.openSessionPort()`, when the
 * preload offers it).
 *
 * - The token comes from `?token=` in the page's URL: it is moved to
 *   sessionStorage and removed from the address bar (history.replaceState), so
 *   it does not end up in bookmarks, screenshots or the history. (`ecosym
 *   serve` itself trades `?token=` for an HttpOnly cookie before the page
 *   loads; the WebSocket then carries the cookie, and the page needs no token.)
 *   When the server refuses the page, it says how to get in.
 * - A dropped connection is retried with a growing delay (0.25 s … 5 s) and
 *   shown as `disconnected` (or `restarting` when the host said so).
 * - Commands never wait for a connection: made while disconnected they fail at
 *   once, and nothing is replayed later (a stale `panic` or scene change must
 *   not fire minutes after the performer gave up on it).
 */
import {
  PROTOCOL_VERSION,
  type Command,
  type HostStatus,
  type Reply,
  type SessionEvent,
  type Snapshot,
  type TelemetryFrame,
} from '../shared/protocol.ts';

/** Where the connection is. `no-token`: the page was opened without a token and cannot connect. */
export type ConnectionState = 'no-token' | 'connecting' | 'open' | 'disconnected' | 'restarting' | 'denied';

/** What the app's preload may add to `window.ecosym` (the Electron transport). */
interface PortBridge {
  openSessionPort?: () => Promise<MessagePort> | MessagePort;
}

/** A command without the protocol's envelope (the client adds `v` and `id`). */
export type CommandBody = Command extends infer C ? (C extends Command ? Omit<C, 'v' | 'id'> : never) : never;

export interface ClientHandlers {
  onState?(state: ConnectionState, detail?: string): void;
  onHello?(snapshot: Snapshot, readOnly: boolean): void;
  onEvent?(event: SessionEvent): void;
  onTelemetry?(frame: TelemetryFrame): void;
  onHostStatus?(status: HostStatus): void;
}

const TOKEN_KEY = 'ecosym.token';
/** How long a command waits for its reply before failing. */
const REPLY_TIMEOUT_MS = 10_000;
const BACKOFF_MIN_MS = 250;
const BACKOFF_MAX_MS = 5_000;

/**
 * Takes `?token=` off the page's URL into sessionStorage and returns the token
 * to use (the URL's, else the stored one), or undefined.
 */
export function takeToken(loc: Location = location, storage: Storage = sessionStorage): string | undefined {
  const url = new URL(loc.href);
  const fromUrl = url.searchParams.get('token');
  if (fromUrl !== null) {
    url.searchParams.delete('token');
    history.replaceState(history.state, '', url.pathname + url.search + url.hash);
    if (fromUrl) {
      try {
        storage.setItem(TOKEN_KEY, fromUrl);
      } catch {
        // Storage may be disabled (a private window): the token still works for this page.
      }
      return fromUrl;
    }
  }
  try {
    return storage.getItem(TOKEN_KEY) ?? undefined;
  } catch {
    return undefined;
  }
}

/** The WebSocket URL of the session behind this page (the token, if any, else the server's cookie). */
export function socketUrl(token: string | undefined, loc: Location = location): string {
  const scheme = loc.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${loc.host}/api/ws${token ? `?token=${encodeURIComponent(token)}` : ''}`;
}

/** Asks the server whether this page may come in: 'ok', 'refused' (401/403) or 'unreachable'. */
async function probeAccess(token: string | undefined): Promise<'ok' | 'refused' | 'unreachable'> {
  try {
    const r = await fetch('/api/state', { credentials: 'same-origin', cache: 'no-store', ...(token ? { headers: { Authorization: `Bearer ${token}` } } : {}) });
    return r.status === 401 || r.status === 403 ? 'refused' : 'ok';
  } catch {
    return 'unreachable';
  }
}

interface Pending {
  resolve(reply: Reply): void;
  timer: ReturnType<typeof setTimeout>;
}

/** A transport: something that sends text and reports messages and closing. */
interface Link {
  send(text: string): void;
  close(): void;
}

export class SessionClient {
  state: ConnectionState = 'connecting';
  readOnly = true;
  private link: Link | undefined;
  private pending = new Map<number, Pending>();
  private nextId = 1;
  private backoff = BACKOFF_MIN_MS;
  private retry: ReturnType<typeof setTimeout> | undefined;
  private closed = false;
  private hostRestarting = false;

  constructor(
    private readonly handlers: ClientHandlers,
    private readonly token: string | undefined = takeToken(),
  ) {}

  /** Connects (and keeps reconnecting until {@link close}). */
  start(): void {
    const bridge = (window as unknown as { ecosym?: PortBridge }).ecosym;
    if (typeof bridge?.openSessionPort === 'function') {
      void this.connectPort(bridge.openSessionPort.bind(bridge));
      return;
    }
    this.connectSocket(this.token);
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.retry);
    this.link?.close();
    this.link = undefined;
    this.failPending('the page closed the connection');
  }

  /**
   * Sends one command and resolves with the session's reply. Never rejects:
   * when disconnected (or read-only and the command changes something) the
   * reply is an immediate error, and the command is dropped, not queued.
   */
  request(body: CommandBody): Promise<Reply> {
    if (this.state !== 'open' || this.link === undefined)
      return Promise.resolve(this.fail(`not sent: the session is ${this.state === 'restarting' ? 'restarting' : 'not connected'} (commands are not replayed)`));
    const id = this.nextId++;
    return new Promise<Reply>((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        resolve(this.fail(`no reply to ${body.type} within ${REPLY_TIMEOUT_MS / 1000} s`, id));
      }, REPLY_TIMEOUT_MS);
      this.pending.set(id, { resolve, timer });
      try {
        this.link!.send(JSON.stringify({ ...body, v: PROTOCOL_VERSION, id }));
      } catch (e) {
        clearTimeout(timer);
        this.pending.delete(id);
        resolve(this.fail(`not sent: ${(e as Error)?.message ?? String(e)}`, id));
      }
    });
  }

  private fail(error: string, id?: number): Reply {
    return { v: PROTOCOL_VERSION, type: 'reply', ...(id === undefined ? {} : { id }), ok: false, error };
  }

  private setState(state: ConnectionState, detail?: string): void {
    this.state = state;
    this.handlers.onState?.(state, detail);
  }

  private failPending(why: string): void {
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      p.resolve(this.fail(`no reply: ${why}`, id));
    }
    this.pending.clear();
  }

  private connectSocket(token: string | undefined): void {
    if (this.closed) return;
    this.setState(this.hostRestarting ? 'restarting' : this.state === 'open' ? 'disconnected' : this.state === 'disconnected' ? 'disconnected' : 'connecting');
    let ws: WebSocket;
    try {
      ws = new WebSocket(socketUrl(token));
    } catch (e) {
      this.setState('disconnected', (e as Error)?.message);
      this.scheduleRetry(() => this.connectSocket(token));
      return;
    }
    let opened = false;
    ws.addEventListener('open', () => {
      opened = true;
      this.link = { send: (t) => ws.send(t), close: () => ws.close() };
    });
    ws.addEventListener('message', (m) => {
      if (typeof m.data === 'string') this.receive(m.data);
    });
    ws.addEventListener('close', (ev) => {
      if (this.link && opened) this.link = undefined;
      this.failPending('the connection closed');
      if (this.closed) return;
      const retry = () => {
        this.setState(this.hostRestarting ? 'restarting' : 'disconnected', ev.reason || undefined);
        this.scheduleRetry(() => this.connectSocket(token));
      };
      if (opened) return retry();
      // Refused before opening: a wrong or missing token (retrying will not help), or the server is down.
      void probeAccess(token).then((access) => {
        if (this.closed) return;
        if (access === 'refused') this.setState(token ? 'denied' : 'no-token', token ? 'the token was refused' : undefined);
        else retry();
      });
    });
  }

  private async connectPort(open: () => Promise<MessagePort> | MessagePort): Promise<void> {
    if (this.closed) return;
    try {
      const port = await open();
      // contextBridge copies objects: use addEventListener, never onmessage assignment on a proxy.
      port.addEventListener('message', (m: MessageEvent) => {
        const data: unknown = m.data;
        this.receive(typeof data === 'string' ? data : JSON.stringify(data));
      });
      port.addEventListener('messageerror', () => this.setState('disconnected', 'a message could not be read'));
      port.start();
      this.link = { send: (t) => port.postMessage(t), close: () => port.close() };
    } catch (e) {
      this.setState('disconnected', (e as Error)?.message);
      this.scheduleRetry(() => void this.connectPort(open));
    }
  }

  private scheduleRetry(fn: () => void): void {
    clearTimeout(this.retry);
    const delay = this.backoff;
    this.backoff = Math.min(BACKOFF_MAX_MS, this.backoff * 2);
    this.retry = setTimeout(fn, delay);
  }

  private receive(text: string): void {
    let msg: Record<string, unknown>;
    try {
      msg = JSON.parse(text) as Record<string, unknown>;
    } catch {
      return;
    }
    switch (msg.type) {
      case 'hello':
        this.backoff = BACKOFF_MIN_MS;
        this.hostRestarting = false;
        this.readOnly = msg.readOnly === true;
        this.setState('open');
        this.handlers.onHello?.(msg.snapshot as Snapshot, this.readOnly);
        return;
      case 'reply': {
        const id = typeof msg.id === 'number' ? msg.id : undefined;
        const p = id === undefined ? undefined : this.pending.get(id);
        if (p && id !== undefined) {
          clearTimeout(p.timer);
          this.pending.delete(id);
          p.resolve(msg as unknown as Reply);
        }
        return;
      }
      case 'event':
        this.handlers.onEvent?.(msg.event as SessionEvent);
        return;
      case 'telemetry':
        this.handlers.onTelemetry?.(msg as unknown as TelemetryFrame);
        return;
      case 'status': {
        const s = msg as unknown as HostStatus;
        this.handlers.onHostStatus?.(s);
        if (s.state === 'restarting') {
          this.hostRestarting = true;
          this.failPending('the audio host is restarting');
          this.setState('restarting', s.reason);
        } else if (s.state === 'playing' && this.hostRestarting) {
          this.hostRestarting = false;
          if (this.link) this.setState('open');
        }
        return;
      }
    }
  }
}
