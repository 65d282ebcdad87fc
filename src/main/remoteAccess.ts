/**
 * Remote access of the desktop app: the switch in Settings starts or stops
 * the HTTP/WebSocket server of `ecosym serve` on the app's session, so a
 * tablet on the network opens the same screens (with the token). Off by
 * default: nothing listens until the user switches it on. The token is made
 * once per run, so the address and QR code stay the same across off and on.
 *
 * No Electron here (main.ts wires it to IPC): tested in Node with a real
 * server on loopback.
 */
import { networkInterfaces } from 'node:os';
import type { RemoteAccessState } from '../shared/ipc.ts';
import { generateToken } from '../engine/node/server/security.ts';
import { startServer, type RunningServer, type ServerOptions } from '../engine/node/server/server.ts';
import type { SessionLink } from '../engine/node/session/link.ts';

export interface RemoteAccessOptions {
  link: SessionLink;
  /** The UI's built files (dist/renderer). */
  staticDir: string;
  /** Address to listen on (default 0.0.0.0: every network interface). */
  host?: string;
  /** Port (default 8080; 0: any free one). */
  port?: number;
  log?: (line: string) => void;
}

/** IPv4 addresses of this machine's network interfaces (not loopback). */
function lanAddresses(): string[] {
  const out: string[] = [];
  for (const list of Object.values(networkInterfaces())) for (const i of list ?? []) if (i.family === 'IPv4' && !i.internal) out.push(i.address);
  return out;
}

export class RemoteAccess {
  private server: RunningServer | undefined;
  private error: string | undefined;
  private readonly token = generateToken();
  private readonly viewToken = generateToken();
  /** Switches run one after another (a double click never starts two servers). */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly o: RemoteAccessOptions) {}

  /** On or off now, with the address, token and audience address while on, or why it could not start. */
  get state(): RemoteAccessState {
    const s = this.server;
    if (!s) return { on: false, ...(this.error ? { error: this.error } : {}) };
    const host = s.host === '0.0.0.0' || s.host === '::' ? (lanAddresses()[0] ?? '127.0.0.1') : s.host;
    const origin = `http://${host.includes(':') ? `[${host}]` : host}:${s.port}/`;
    return { on: true, url: `${origin}?token=${encodeURIComponent(s.token)}`, token: s.token, viewUrl: `${origin}audience?token=${encodeURIComponent(this.viewToken)}`, bound: s.host };
  }

  /** Starts or stops the server; resolves with the state after. A port in use is an error in the state, never a throw. */
  set(on: boolean): Promise<RemoteAccessState> {
    const run = this.queue.then(() => (on ? this.start() : this.stop())).then(() => this.state);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async start(): Promise<void> {
    if (this.server) return;
    const host = this.o.host ?? '0.0.0.0';
    const port = this.o.port ?? 8080;
    const opts: ServerOptions = { link: this.o.link, host, port, token: this.token, viewToken: this.viewToken, staticDir: this.o.staticDir };
    try {
      this.server = await startServer(opts);
      this.error = undefined;
      this.o.log?.(`remote access on: ${this.server.baseUrl}`);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException)?.code;
      this.error = `cannot listen on ${host}:${port}${code ? ` (${code})` : ''}: ${code === 'EADDRINUSE' ? 'the port is in use by another program' : ((e as Error)?.message ?? String(e))}`;
      this.o.log?.(`remote access: ${this.error}`);
    }
  }

  private async stop(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    this.error = undefined;
    if (!s) return;
    await s.close();
    this.o.log?.('remote access off');
  }

  /** Stops the server (the app quits). */
  close(): Promise<RemoteAccessState> {
    return this.set(false);
  }
}
