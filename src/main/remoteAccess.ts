/**
 * Remote access of the desktop app: the switch in Settings starts or stops
 * the HTTP/WebSocket server of `ecosym serve` on the app's session, so a
 * tablet on the network opens the same screens (with the token). Off by
 * default: nothing listens until the user switches it on. The token is made
 * once per run, so the address and QR code stay the same across off and on.
 * The switch and the address (host and port, checked) are remembered across
 * runs through `onChange` (main.ts saves them in the app's settings file,
 * appSettings.ts).
 *
 * No Electron here (main.ts wires it to IPC): tested in Node with a real
 * server on loopback.
 */
import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import type { RemoteAccessAddress, RemoteAccessState } from '../shared/ipc.ts';
import { generateToken } from '../engine/node/server/security.ts';
import { startServer, type RunningServer, type ServerOptions } from '../engine/node/server/server.ts';
import type { SessionLink } from '../engine/node/session/link.ts';

export interface RemoteAccessOptions {
  link: SessionLink;
  /** The UI's built files (dist/renderer). */
  staticDir: string;
  /** Address to listen on (default 0.0.0.0: every network interface). */
  host?: string;
  /** Port (default 8080; 0: any free one, for tests). */
  port?: number;
  /** The user switched it or changed its address (to remember it; not called when the app quits). */
  onChange?: (s: RemoteAccessAddress & { on: boolean }) => void;
  log?: (line: string) => void;
}

export const DEFAULT_REMOTE_ADDRESS: Readonly<RemoteAccessAddress> = { host: '0.0.0.0', port: 8080 };

/**
 * What is wrong with an address to listen on, or undefined: the host is an IP
 * address (0.0.0.0 or :: for every interface, 127.0.0.1 for this machine
 * only) or `localhost`; the port 1024…65535 (lower ones need administrator
 * rights).
 */
export function remoteAddressProblem(a: { host: unknown; port: unknown }): string | undefined {
  const { host, port } = a;
  if (typeof host !== 'string' || (host !== 'localhost' && isIP(host) === 0))
    return `host must be an IP address of this machine (0.0.0.0: every network interface; 127.0.0.1: this machine only), not "${String(host).slice(0, 60)}"`;
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1024 || port > 65535) return `port must be a whole number from 1024 to 65535, not ${String(port).slice(0, 20)}`;
  return undefined;
}

/** A listen error in words. */
function listenError(e: unknown): string {
  const code = (e as NodeJS.ErrnoException)?.code;
  const why =
    code === 'EADDRINUSE'
      ? 'the port is in use by another program (choose another port)'
      : code === 'EADDRNOTAVAIL'
        ? 'no network interface of this machine has that address'
        : code === 'EACCES'
          ? 'not allowed to listen there'
          : ((e as Error)?.message ?? String(e));
  return `${code ? `(${code}): ` : ': '}${why}`;
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

  private host: string;
  private port: number;
  /** Switched on by the user (stays true while a start failed, so it is tried again next run). */
  private wanted = false;

  constructor(private readonly o: RemoteAccessOptions) {
    this.host = o.host ?? DEFAULT_REMOTE_ADDRESS.host;
    this.port = o.port ?? DEFAULT_REMOTE_ADDRESS.port;
  }

  /** On or off now, with the address, token and audience address while on, or why it could not start. */
  get state(): RemoteAccessState {
    const s = this.server;
    if (!s) return { on: false, host: this.host, port: this.port, ...(this.error ? { error: this.error } : {}) };
    const host = s.host === '0.0.0.0' || s.host === '::' ? (lanAddresses()[0] ?? '127.0.0.1') : s.host;
    const origin = `http://${host.includes(':') ? `[${host}]` : host}:${s.port}/`;
    return { on: true, host: this.host, port: this.port, url: `${origin}?token=${encodeURIComponent(s.token)}`, token: s.token, viewUrl: `${origin}audience?token=${encodeURIComponent(this.viewToken)}`, bound: s.host, ...(this.error ? { error: this.error } : {}) };
  }

  /** Starts or stops the server; resolves with the state after. A port in use is an error in the state, never a throw. */
  set(on: boolean): Promise<RemoteAccessState> {
    return this.run(async () => {
      this.wanted = on;
      this.changed();
      await (on ? this.start() : this.stop());
    });
  }

  /**
   * Sets the address to listen on. A wrong one is refused (the state's error
   * says why; nothing changes); while on, the server moves there (or stays off
   * with the reason, if it cannot listen there).
   */
  setAddress(a: RemoteAccessAddress): Promise<RemoteAccessState> {
    return this.run(async () => {
      const problem = remoteAddressProblem(a);
      if (problem) {
        this.error = problem;
        return;
      }
      this.host = a.host;
      this.port = a.port;
      this.error = undefined;
      this.changed();
      if (this.server) {
        await this.stop();
        await this.start();
      }
    });
  }

  private run(fn: () => Promise<void>): Promise<RemoteAccessState> {
    const run = this.queue.then(fn).then(() => this.state);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private changed(): void {
    try {
      this.o.onChange?.({ on: this.wanted, host: this.host, port: this.port });
    } catch (e) {
      this.o.log?.(`remote access: could not remember the setting: ${(e as Error)?.message ?? String(e)}`);
    }
  }

  private async start(): Promise<void> {
    if (this.server) return;
    const { host, port } = this;
    const opts: ServerOptions = { link: this.o.link, host, port, token: this.token, viewToken: this.viewToken, staticDir: this.o.staticDir };
    try {
      this.server = await startServer(opts);
      this.error = undefined;
      this.o.log?.(`remote access on: ${this.server.baseUrl}`);
    } catch (e) {
      this.error = `cannot listen on ${host.includes(':') ? `[${host}]` : host}:${port} ${listenError(e)}`;
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
    // not a choice of the user's: remembered as it was
    return this.run(() => this.stop());
  }
}
