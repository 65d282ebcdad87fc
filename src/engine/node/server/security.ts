/**
 * The checks every request to `ecosym serve` passes before it reaches a
 * session: the token (constant-time compare), the `Host` header (a page on
 * another site that resolves its own name to this machine, DNS rebinding, is
 * refused), the `Origin` of a browser request (a page on another site may not
 * open the show's WebSocket: cross-site WebSocket hijacking), and a rate limit
 * per connection.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { hostname, networkInterfaces } from 'node:os';
import { isLoopbackHost } from '../../core/osc/allow.ts';

/** A new random token: 24 bytes, base64url (32 characters). */
export function generateToken(): string {
  return randomBytes(24).toString('base64url');
}

/** Compares two secrets in time that does not depend on where they differ (nor on the given one's length). */
export function safeEqual(given: string, secret: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(secret).digest();
  return timingSafeEqual(a, b);
}

/** The name of the cookie that keeps a browser's token, per port (cookies ignore ports). */
export function cookieName(port: number): string {
  return `ecosym_token_${port}`;
}

/** Where a request's token came from, and the token. */
export interface GivenToken {
  token: string;
  via: 'header' | 'query' | 'cookie';
}

/** The token a request carries: `Authorization: Bearer T`, then `?token=T`, then the cookie. */
export function tokenOf(req: IncomingMessage, url: URL, port: number): GivenToken | undefined {
  const auth = req.headers.authorization;
  if (typeof auth === 'string') {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(auth);
    if (m) return { token: m[1]!, via: 'header' };
  }
  const q = url.searchParams.get('token');
  if (q) return { token: q, via: 'query' };
  const cookie = req.headers.cookie;
  if (typeof cookie === 'string') {
    const name = cookieName(port);
    for (const part of cookie.split(';')) {
      const eq = part.indexOf('=');
      if (eq > 0 && part.slice(0, eq).trim() === name) return { token: decodeURIComponent(part.slice(eq + 1).trim()), via: 'cookie' };
    }
  }
  return undefined;
}

/** Who a token makes a client: one that may drive the show, one that may only watch, or nobody. */
export type Access = 'control' | 'view' | 'none';

/** Checks a token against the control token and the view token (both compared, in constant time). */
export function accessOf(given: string | undefined, token: string, viewToken: string | undefined): Access {
  if (given === undefined) return 'none';
  const control = safeEqual(given, token);
  const view = viewToken !== undefined && safeEqual(given, viewToken);
  return control ? 'control' : view ? 'view' : 'none';
}

/** The host name of a `Host` header or an origin's authority (`[::1]:8080` → `::1`), lower-case. */
export function hostnameOf(authority: string): string {
  const a = authority.trim().toLowerCase();
  if (a.startsWith('[')) return a.slice(1, a.indexOf(']') > 0 ? a.indexOf(']') : undefined);
  const colon = a.lastIndexOf(':');
  // One colon: host:port. More: a bare IPv6 address (not valid in a Host header, but not ours to serve either).
  return colon >= 0 && a.indexOf(':') === colon ? a.slice(0, colon) : a;
}

/**
 * The host names a server bound to `address` answers to: the address itself;
 * for loopback also `localhost` and the other loopback spelling; for a
 * wildcard (0.0.0.0, ::) every address of this machine's interfaces and its
 * host name; plus any names given (a reverse proxy's, a DNS name for the LAN).
 */
export function servedHostnames(address: string, extra: readonly string[] = []): Set<string> {
  const names = new Set<string>([address.toLowerCase()]);
  const wildcard = address === '0.0.0.0' || address === '::';
  if (isLoopbackHost(address) || wildcard) for (const n of ['localhost', '127.0.0.1', '::1']) names.add(n);
  if (wildcard) {
    for (const list of Object.values(networkInterfaces())) for (const i of list ?? []) names.add(i.address.toLowerCase().replace(/%.*$/, ''));
    const h = hostname().toLowerCase();
    names.add(h);
    names.add(`${h}.local`);
  }
  for (const n of extra) names.add(hostnameOf(n));
  return names;
}

/** Whether a request's `Host` header names an address this server serves (false when missing). */
export function hostAllowed(host: string | undefined, served: ReadonlySet<string>): boolean {
  return typeof host === 'string' && host.length > 0 && served.has(hostnameOf(host));
}

/**
 * Whether a request's `Origin` may talk to this server: no Origin (curl, a
 * script, a supervisor) is fine; a browser's must be this server's own origin
 * (same host and port as the `Host` it asked for, served by us). `null` (a
 * sandboxed frame, a file:// page) is refused.
 */
export function originAllowed(origin: string | undefined, host: string | undefined, served: ReadonlySet<string>): boolean {
  if (origin === undefined) return true;
  let u: URL;
  try {
    u = new URL(origin);
  } catch {
    return false;
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return false;
  if (!served.has(hostnameOf(u.host))) return false;
  return host !== undefined && u.host.toLowerCase() === host.trim().toLowerCase();
}

/** A token bucket: `rate` a second, bursts of `burst`. */
export class RateLimiter {
  private tokens: number;
  private last: number;

  constructor(
    private readonly rate: number,
    private readonly burst: number,
    private readonly now: () => number = () => performance.now() / 1000,
  ) {
    this.tokens = burst;
    this.last = now();
  }

  /** Takes one token; false when the bucket is empty. */
  take(): boolean {
    const t = this.now();
    this.tokens = Math.min(this.burst, this.tokens + (t - this.last) * this.rate);
    this.last = t;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
