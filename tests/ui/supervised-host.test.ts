/**
 * The UI in front of a supervised host, as `ecosym run` and the desktop app
 * serve it: the server stays up while the session child is SIGKILLed. The page
 * shows the host restarting (screenshot: test-artifacts/ui/host-restarting.png),
 * a command made meanwhile fails at once and is not replayed, and once the
 * supervisor has the child back the page shows connected, with the patch that
 * was playing before the kill (restored by the supervisor, read from the new
 * child after a reload).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { startServer, type RunningServer } from '../../src/engine/node/server/server.ts';
import { SupervisedSession } from '../../src/engine/node/session/supervised.ts';
import type { HostStatus, Snapshot } from '../../src/shared/protocol.ts';
import { ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, ensureUiBuilt, UI_DIR } from './support.ts';

let host: SupervisedSession;
let server: RunningServer;
let browser: Browser;
const statuses: HostStatus['state'][] = [];

beforeAll(async () => {
  ensureUiBuilt();
  host = new SupervisedSession({
    session: { patch: { id: 'carbon-pulse' }, sink: 'none', cacheDir: false, midi: false },
    // No spare process (two cores shared), and a first restart 8 s after the fault: the
    // restarting state lasts long enough for the page to be looked at, however fast the child starts.
    standby: false,
    policy: { initial: 8 },
  });
  host.onStatus((s) => statuses.push(s.state));
  await host.start();
  server = await startServer({ link: host, port: 0, staticDir: UI_DIR });
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
}, 120_000);
afterAll(async () => {
  await browser?.close().catch(() => undefined);
  await server?.close();
  await host?.stop();
});

describe('UI: the supervised host is killed and restarted', () => {
  it('shows the host restarting, refuses commands at once, and is connected again on the same patch', async () => {
    // A patch other than the one the host started with: the restart must bring back this one.
    const loaded = await host.handle({ type: 'load', patch: { id: 'warming-stripes' }, crossfade: 0.05 });
    expect(loaded.ok, JSON.stringify(loaded)).toBe(true);

    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    await page.goto(`${server.baseUrl}?token=${server.token}#/Perform`);
    const conn = page.getByRole('status', { name: 'Connection' });
    await conn.getByText(/^connected$/).waitFor({ timeout: 30_000 });

    const killed = host.pid!;
    process.kill(killed, 'SIGKILL');
    await conn.getByText(/^audio host restarting…/).waitFor({ timeout: 30_000 });
    // The server refuses too, at once, for another client: the supervisor answers while no child plays.
    const rest = await fetch(`${server.baseUrl}api/panic`, { method: 'POST', headers: { Authorization: `Bearer ${server.token}`, 'Content-Type': 'application/json' }, body: '{}' });
    const restBody = (await rest.json()) as { ok: boolean; error?: string };
    expect(restBody.ok).toBe(false);
    expect(restBody.error).toMatch(/restarting/);
    // Why, as the supervisor saw it, beside the state.
    expect(await conn.textContent()).toMatch(/SIGKILL/);
    await page.screenshot({ path: join(ARTIFACTS, 'host-restarting.png') });
    // Buttons are disabled; the panic shortcut still tries and fails at once, naming the restart.
    expect(await page.getByRole('button', { name: 'Panic' }).isDisabled()).toBe(true);
    await page.keyboard.press('Escape');
    await page.getByRole('alert').getByText(/panic: not sent: the session is restarting/).waitFor({ timeout: 5_000 });

    await conn.getByText(/^connected$/).waitFor({ timeout: 90_000 });
    expect(host.pid).not.toBe(killed);
    expect(host.restarts).toBe(1);
    expect(statuses.slice(statuses.indexOf('restarting'))).toContain('playing');
    expect(await page.getByRole('button', { name: 'Panic' }).isDisabled()).toBe(false);
    // The panic made during the restart never reached the new child.
    const snap = await host.handle({ type: 'snapshot' });
    expect(snap.ok && (snap.data as Snapshot).muted).toBe(false);
    expect(snap.ok && (snap.data as Snapshot).patch?.name).toBe('Warming Stripes');

    // A fresh page reads its snapshot from the new child: the same patch.
    await page.goto(`${server.baseUrl}?token=${server.token}#/Library`);
    await page.getByRole('heading', { name: 'Playing now: Warming Stripes' }).waitFor({ timeout: 30_000 });
    await conn.getByText(/^connected$/).waitFor({ timeout: 30_000 });
    expect(problems).toEqual([]);
    await context.close();
  }, 240_000);
});
