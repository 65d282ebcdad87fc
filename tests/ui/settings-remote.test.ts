/**
 * Settings' "Remote access" switch. In a browser (the page served by the
 * session) it shows the server's state and cannot change it, and says where
 * it is set. In the desktop app it starts and stops the server for tablets:
 * Electron cannot run here, so the page gets a `window.ecosym` whose two
 * remote-access functions call a real RemoteAccess (src/main/remoteAccess.ts)
 * in the test process, as the preload's IPC would in the app; its address is
 * remembered in a real settings file (src/main/appSettings.ts). Screenshots at
 * 1280×800 and 1024×768 in test-artifacts/ui/.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { get } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppSettings } from '../../src/main/appSettings.ts';
import { RemoteAccess } from '../../src/main/remoteAccess.ts';
import { ARTIFACTS, UI_DIR, startShow, type Show } from './support.ts';

let show: Show;
beforeAll(async () => {
  show = await startShow('carbon-pulse');
}, 120_000);
afterAll(async () => {
  await show?.close();
});

/** GET /api/state on a new connection: the status, or the network error's code. */
function getState(url: string, token: string): Promise<number | string> {
  return new Promise((resolve) => {
    const req = get(new URL('api/state', url), { agent: false, headers: { Authorization: `Bearer ${token}` } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
  });
}

describe('UI: Settings remote access', () => {
  for (const viewport of [
    { width: 1280, height: 800 },
    { width: 1024, height: 768 },
  ])
    it(`in a browser the switch shows the server's state, read-only, and says where it is set (${viewport.width}×${viewport.height})`, async () => {
      const { page, problems } = await show.page(viewport);
      await page.goto(`${show.server.baseUrl}?token=${show.server.token}#/Settings`);
      await page.getByRole('status', { name: 'Connection' }).getByText('connected').waitFor();
      const sw = page.getByRole('switch', { name: 'Remote access' });
      await page.getByText(/^Off: the server answers on 127\.0\.0\.1 only/).waitFor();
      expect(await sw.isChecked()).toBe(false);
      expect(await sw.isDisabled()).toBe(true);
      expect(await sw.getAttribute('aria-describedby')).toBe('remote-why');
      await expect(page.locator('#remote-why').textContent()).resolves.toMatch(/served by the session: remote access is set where it runs/);
      await page.screenshot({ path: join(ARTIFACTS, `settings-${viewport.width}x${viewport.height}.png`), fullPage: true });
      expect(problems).toEqual([]);
      await page.context().close();
    }, 120_000);

  it('in the desktop app the switch starts and stops the server for tablets', async () => {
    const remote = new RemoteAccess({ link: show.session, staticDir: UI_DIR, host: '127.0.0.1', port: 0 });
    const { page, problems } = await show.page();
    await page.exposeFunction('remoteGet', () => remote.state);
    await page.exposeFunction('remoteSet', (on: boolean) => remote.set(on));
    await page.addInitScript(() => {
      const w = window as unknown as { remoteGet: () => Promise<unknown>; remoteSet: (on: boolean) => Promise<unknown> };
      Object.defineProperty(window, 'ecosym', { value: { remoteAccess: () => w.remoteGet(), setRemoteAccess: (on: boolean) => w.remoteSet(on) } });
    });
    try {
      await page.goto(`${show.server.baseUrl}?token=${show.server.token}#/Settings`);
      await page.getByRole('status', { name: 'Connection' }).getByText('connected').waitFor();
      const sw = page.getByRole('switch', { name: 'Remote access' });
      await page.getByText(/^Off: no other machine can reach the session/).waitFor();
      expect(await sw.isChecked()).toBe(false);
      expect(await sw.isDisabled()).toBe(false);

      await sw.click();
      await page.getByText('Remote access on').waitFor();
      const s = remote.state;
      expect(s.on).toBe(true);
      await page.getByText(new URL(s.url!).origin + '/', { exact: true }).waitFor();
      await page.getByRole('img', { name: 'QR code of the address with its token' }).waitFor();
      expect(await getState(s.url!, s.token!)).toBe(200);

      await sw.click();
      await page.getByText('Remote access off').waitFor();
      expect(remote.state.on).toBe(false);
      expect(await getState(s.url!, s.token!)).toBe('ECONNREFUSED');
      expect(problems).toEqual([]);
    } finally {
      await remote.close();
      await page.context().close();
    }
  }, 120_000);

  it('in the desktop app the address is set there: a wrong one is refused with the reason, a good one moves the server, and both are remembered', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ecosym-ui-settings-'));
    const file = join(dir, 'settings.json');
    const settings = new AppSettings(file);
    const free = async () => {
      const s = createServer();
      await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
      const p = (s.address() as { port: number }).port;
      await new Promise((r) => s.close(r));
      return p;
    };
    const [p1, p2] = [await free(), await free()];
    settings.setRemote({ on: false, host: '127.0.0.1', port: p1 });
    const remote = new RemoteAccess({ link: show.session, staticDir: UI_DIR, host: settings.remote.host, port: settings.remote.port, onChange: (c) => settings.setRemote(c) });
    const blocker = createServer();
    const { page, problems } = await show.page();
    await page.exposeFunction('remoteGet', () => remote.state);
    await page.exposeFunction('remoteSet', (on: boolean) => remote.set(on));
    await page.exposeFunction('remoteAddress', (a: { host: string; port: number }) => remote.setAddress(a));
    await page.addInitScript(() => {
      const w = window as unknown as { remoteGet: () => Promise<unknown>; remoteSet: (on: boolean) => Promise<unknown>; remoteAddress: (a: unknown) => Promise<unknown> };
      Object.defineProperty(window, 'ecosym', { value: { remoteAccess: () => w.remoteGet(), setRemoteAccess: (on: boolean) => w.remoteSet(on), setRemoteAddress: (a: unknown) => w.remoteAddress(a) } });
    });
    try {
      await page.goto(`${show.server.baseUrl}?token=${show.server.token}#/Settings`);
      await page.getByRole('status', { name: 'Connection' }).getByText('connected').waitFor();
      const host = page.getByRole('textbox', { name: 'Remote access host' });
      const port = page.getByRole('textbox', { name: 'Remote access port' });
      // the remembered address is shown
      await expect.poll(() => port.inputValue()).toBe(String(p1));
      expect(await host.inputValue()).toBe('127.0.0.1');

      await page.getByRole('switch', { name: 'Remote access' }).click();
      await page.getByText('Remote access on').waitFor();
      expect(await getState(remote.state.url!, remote.state.token!)).toBe(200);

      // a wrong port: refused, said why, the server stays where it was
      await port.fill('80');
      await page.getByRole('button', { name: 'Apply address' }).click();
      await page.getByRole('alert').getByText(/port must be a whole number from 1024 to 65535, not 80/).waitFor();
      expect(await port.inputValue()).toBe('80');
      expect(remote.state).toMatchObject({ on: true, port: p1 });

      // a port in use: the reason in words
      await new Promise<void>((r) => blocker.listen(p2, '127.0.0.1', r));
      await port.fill(String(p2));
      await page.getByRole('button', { name: 'Apply address' }).click();
      await page.getByRole('alert').getByText(new RegExp(`cannot listen on 127\\.0\\.0\\.1:${p2} \\(EADDRINUSE\\): the port is in use by another program`)).waitFor();
      await page.getByText('Remote access off').waitFor();
      await new Promise((r) => blocker.close(r));

      // freed: applied again, it listens there
      await page.getByRole('button', { name: 'Apply address' }).click();
      await page.getByRole('status').getByText(`Address set to 127.0.0.1:${p2}`).waitFor();
      await page.getByRole('switch', { name: 'Remote access' }).click();
      await page.getByText('Remote access on').waitFor();
      const s = remote.state;
      expect(new URL(s.url!).port).toBe(String(p2));
      expect(await getState(s.url!, s.token!)).toBe(200);
      await page.screenshot({ path: join(ARTIFACTS, 'settings-remote-address.png'), fullPage: true });
      expect(problems).toEqual([]);
      // the next run starts as this one was left
      await remote.close();
      expect(new AppSettings(file).remote).toEqual({ on: true, host: '127.0.0.1', port: p2 });
    } finally {
      await remote.close();
      if (blocker.listening) await new Promise((r) => blocker.close(r));
      await page.context().close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
