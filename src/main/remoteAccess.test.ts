/**
 * The desktop app's remote access switch: a real session behind the real
 * server, switched on and off, reached over loopback HTTP.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { get } from 'node:http';
import { createServer, type Server } from 'node:net';
import { loadPatchFile, resolvePatchPath } from '../engine/node/files.ts';
import { Session } from '../engine/node/session/Session.ts';
import { RemoteAccess, remoteAddressProblem } from './remoteAccess.ts';

let session: Session;

beforeAll(async () => {
  session = await Session.open({ patch: loadPatchFile(resolvePatchPath('carbon-pulse')), sink: 'none', cacheDir: false, midi: false });
  await session.start();
}, 60_000);
afterAll(async () => {
  await session?.stop();
});

/** GET /api/state at the state's address, with its token, on a new connection: the status, or the network error's code. */
function getState(url: string, token: string): Promise<number | string> {
  return new Promise((resolve) => {
    const req = get(new URL('api/state', url), { agent: false, headers: { Authorization: `Bearer ${token}` } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
  });
}

describe('remote access (desktop)', () => {
  it('is off until switched on; on serves the session with its token; off stops listening; on again keeps the token', async () => {
    const remote = new RemoteAccess({ link: session, staticDir: '/nonexistent', host: '127.0.0.1', port: 0 });
    expect(remote.state).toEqual({ on: false, host: '127.0.0.1', port: 0 });
    const on = await remote.set(true);
    expect(on).toMatchObject({ on: true, bound: '127.0.0.1' });
    expect(on.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?token=/);
    expect(on.viewUrl).toMatch(/\/audience\?token=/);
    expect(await getState(on.url!, on.token!)).toBe(200);
    expect(await getState(on.url!, 'wrong-token-0123456789')).toBe(401);

    const off = await remote.set(false);
    expect(off).toEqual({ on: false, host: '127.0.0.1', port: 0 });
    expect(await getState(on.url!, on.token!)).toBe('ECONNREFUSED');

    // Two switches at once start one server; the token is the run's, so the QR code stays valid.
    const [a, b] = await Promise.all([remote.set(true), remote.set(true)]);
    expect(a.url).toBe(b.url);
    expect(a.token).toBe(on.token);
    expect(await getState(a.url!, a.token!)).toBe(200);
    await remote.close();
    expect(await getState(a.url!, a.token!)).toBe('ECONNREFUSED');
  }, 30_000);

  it('checks an address before taking it', () => {
    expect(remoteAddressProblem({ host: '0.0.0.0', port: 8080 })).toBeUndefined();
    expect(remoteAddressProblem({ host: '::', port: 65535 })).toBeUndefined();
    expect(remoteAddressProblem({ host: 'localhost', port: 1024 })).toBeUndefined();
    expect(remoteAddressProblem({ host: 'my laptop', port: 8080 })).toMatch(/host must be an IP address of this machine .*not "my laptop"/);
    expect(remoteAddressProblem({ host: '192.168.1.300', port: 8080 })).toMatch(/host must be an IP address/);
    for (const port of [80, 0, 65536, 8080.5, NaN]) expect(remoteAddressProblem({ host: '127.0.0.1', port })).toMatch(/port must be a whole number from 1024 to 65535/);
  });

  it('a new address: refused when wrong (nothing changes), moves the server while on, and is remembered with the switch', async () => {
    const changes: unknown[] = [];
    const free = async () => {
      const s = createServer();
      await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
      const p = (s.address() as { port: number }).port;
      await new Promise((r) => s.close(r));
      return p;
    };
    const [p1, p2] = [await free(), await free()];
    const remote = new RemoteAccess({ link: session, staticDir: '/nonexistent', host: '127.0.0.1', port: p1, onChange: (c) => changes.push(c) });
    try {
      const on = await remote.set(true);
      expect(on).toMatchObject({ on: true, host: '127.0.0.1', port: p1 });
      expect(await getState(on.url!, on.token!)).toBe(200);
      const bad = await remote.setAddress({ host: '127.0.0.1', port: 80 });
      expect(bad).toMatchObject({ on: true, port: p1, error: expect.stringMatching(/port must be a whole number/) as unknown });
      const moved = await remote.setAddress({ host: '127.0.0.1', port: p2 });
      expect(moved).toMatchObject({ on: true, port: p2 });
      expect(moved.error).toBeUndefined();
      expect(new URL(moved.url!).port).toBe(String(p2));
      expect(await getState(moved.url!, moved.token!)).toBe(200);
      expect(await getState(on.url!, on.token!)).toBe('ECONNREFUSED');
      await remote.set(false);
      // off: a new address is only remembered
      expect(await remote.setAddress({ host: '127.0.0.1', port: p1 })).toEqual({ on: false, host: '127.0.0.1', port: p1 });
      expect(changes).toEqual([
        { on: true, host: '127.0.0.1', port: p1 },
        { on: true, host: '127.0.0.1', port: p2 },
        { on: false, host: '127.0.0.1', port: p2 },
        { on: false, host: '127.0.0.1', port: p1 },
      ]);
      // quitting is not a choice of the user's: not remembered as off
      await remote.set(true);
      await remote.close();
      expect(changes.at(-1)).toEqual({ on: true, host: '127.0.0.1', port: p1 });
    } finally {
      await remote.close();
    }
  }, 30_000);

  it('a port in use leaves it off with the reason, and never throws', async () => {
    const blocker: Server = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as { port: number }).port;
    try {
      const remote = new RemoteAccess({ link: session, staticDir: '/nonexistent', host: '127.0.0.1', port });
      const s = await remote.set(true);
      expect(s.on).toBe(false);
      expect(s.error).toMatch(new RegExp(`cannot listen on 127\\.0\\.0\\.1:${port} \\(EADDRINUSE\\): the port is in use by another program \\(choose another port\\)`));
      // switched off, the error goes
      expect(await remote.set(false)).toEqual({ on: false, host: '127.0.0.1', port });
    } finally {
      await new Promise((r) => blocker.close(r));
    }
  }, 30_000);
});
