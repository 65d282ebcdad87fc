/**
 * `ecosym serve`: plays a patch like `play` and serves the show over HTTP: the
 * UI, the session protocol over a WebSocket, a REST API and `/health`
 * (src/engine/node/server/server.ts). Prints the URL with its token once, and
 * as a QR code on a terminal, for a tablet on stage.
 */
import { networkInterfaces } from 'node:os';
import { resolve } from 'node:path';
import QRCode from 'qrcode';
import { PROJECT_ROOT, resolvePatchPath } from '../engine/node/files.ts';
import { isLoopbackHost } from '../engine/core/osc/allow.ts';
import { startServer, type RunningServer } from '../engine/node/server/server.ts';
import { durationArg, UsageError } from './common.ts';
import { openPlaySession, type PlayArgs } from './play.ts';
import { waitForStop } from './stop.ts';

/** Where the built UI is served from. */
export const UI_DIR = resolve(PROJECT_ROOT, 'dist/renderer');

export interface ServeArgs extends Omit<PlayArgs, 'patch'> {
  /** The patch to start with (default: the demo's). */
  patch?: string;
  port?: string;
  host?: string;
  /** The control token (else ECOSYM_TOKEN, else a random one). */
  token?: string;
  /** A read-only token for audience views (else ECOSYM_VIEW_TOKEN). */
  viewToken?: string;
  /** The folder of the UI's files (default dist/renderer). */
  ui?: string;
}

/**
 * Whether serve hot-reloads: a patch named as a file is being authored, so it
 * is watched (its saves swap in); a built-in name is not, unless --watch.
 */
export function serveWatches(patch: string | undefined, watch: boolean | undefined): boolean {
  if (watch === true) return true;
  if (patch === undefined) return false;
  return /\.(ya?ml|json)$/i.test(patch) || patch.includes('/') || resolvePatchPath(patch) === patch;
}

/** The patch `serve` starts with when none is named. */
export const SERVE_DEFAULT_PATCH = 'seattle-drift';

function portArg(text: string | undefined): number {
  if (text === undefined) return 8080;
  const n = Number(text);
  if (!/^\d{1,5}$/.test(text.trim()) || !(n >= 0 && n < 65536)) throw new UsageError(`--port "${text}": expected a port number, 0…65535 (0: any free port)`);
  return n;
}

/** Tokens go in URLs and headers: printable, no spaces, not trivially short. */
function tokenArg(text: string | undefined, flag: string): string | undefined {
  if (text === undefined || text === '') return undefined;
  if (!/^[\x21-\x7e]{8,200}$/.test(text)) throw new UsageError(`${flag}: expected 8 to 200 printable characters without spaces`);
  return text;
}

/** Addresses a tablet on the network can reach a server bound to a wildcard at (IPv4, not internal). */
function lanAddresses(): string[] {
  const out: string[] = [];
  for (const list of Object.values(networkInterfaces())) for (const i of list ?? []) if (i.family === 'IPv4' && !i.internal) out.push(i.address);
  return out;
}

/** The URLs to print: the server's own, or for a wildcard bind one per LAN address (loopback first). */
export function urlsOf(server: RunningServer): string[] {
  const q = `?token=${encodeURIComponent(server.token)}`;
  if (server.host !== '0.0.0.0' && server.host !== '::') return [server.url];
  return [server.url, ...lanAddresses().map((a) => `http://${a}:${server.port}/${q}`)];
}

/** Serves until Ctrl-C / SIGTERM (or --duration). */
export async function serveCommand(a: ServeArgs, log: (s: string) => void = console.log): Promise<void> {
  const port = portArg(a.port);
  const host = a.host ?? '127.0.0.1';
  const token = tokenArg(a.token, '--token') ?? tokenArg(process.env.ECOSYM_TOKEN, 'ECOSYM_TOKEN');
  const viewToken = tokenArg(a.viewToken, '--view-token') ?? tokenArg(process.env.ECOSYM_VIEW_TOKEN, 'ECOSYM_VIEW_TOKEN');
  if (token !== undefined && token === viewToken) throw new UsageError('--view-token must differ from --token');
  const duration = a.duration === undefined ? Infinity : durationArg(a.duration, 0);
  const { session, silent, sink, changes, policy } = await openPlaySession({ ...a, patch: a.patch ?? SERVE_DEFAULT_PATCH, watch: serveWatches(a.patch, a.watch) }, log, { silent: true, verb: 'Serving' });
  let server: RunningServer;
  try {
    server = await startServer({
      link: session,
      host,
      port,
      token,
      viewToken,
      staticDir: a.ui === undefined ? UI_DIR : resolve(a.ui),
      status: { type: 'status', state: 'playing', silent: silent || sink === 'none' },
    });
  } catch (e) {
    await session.stop();
    policy.dispose();
    const code = (e as NodeJS.ErrnoException)?.code;
    if (code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL')
      throw new UsageError(`cannot listen on ${host}:${port} (${code}): ${code === 'EADDRINUSE' ? 'the port is in use; pick another with --port' : (e as Error).message}`);
    throw e;
  }
  const urls = urlsOf(server);
  log(`Open ${urls[0]}`);
  for (const u of urls.slice(1)) log(`  or ${u}`);
  if (viewToken) log(`  audience view (read-only): ${server.baseUrl}?token=${encodeURIComponent(viewToken)}`);
  log(`  API: curl -H "Authorization: Bearer ${server.token}" ${server.baseUrl}api/state   (health: ${server.baseUrl}health)`);
  if (!isLoopbackHost(server.host)) {
    const line = '!'.repeat(72);
    log(line);
    log(`!! WARNING: serving on ${server.host}, open to the network. Anyone who can reach this`);
    log('!! machine and has the token can change the show; the traffic is not encrypted (HTTP).');
    log('!! Use it on a network you trust, or keep the default --host 127.0.0.1.');
    log(line);
  }
  if (process.stdout.isTTY) {
    // For a tablet on stage: the LAN URL when there is one.
    const qr = await QRCode.toString(urls[urls.length - 1]!, { type: 'terminal', small: true, errorCorrectionLevel: 'L' }).catch(() => undefined);
    if (qr) log(qr);
  }
  try {
    await waitForStop(duration, [{ ms: 1000, run: () => changes.flush(Date.now() / 1000) }]);
  } finally {
    await server.close();
    changes.flush(Date.now() / 1000, true);
    await session.stop();
    policy.dispose();
  }
  log(`Stopped: ${server.stats.connections} clients served, ${session.counts.commands} commands, ${policy.count} uncaught errors survived.`);
}
