/**
 * The UI never blocks on the host: the server goes away (as when the host is
 * killed), the page says so, a command made meanwhile fails at once and is not
 * replayed, and the page reconnects by itself when the server is back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../src/engine/node/server/server.ts';
import { startShow, UI_DIR, type Show } from './support.ts';

let show: Show;
let second: RunningServer | undefined;
beforeAll(async () => {
  show = await startShow('carbon-pulse');
}, 120_000);
afterAll(async () => {
  await second?.close();
  await show?.close();
});

describe('UI: the host goes away and comes back', () => {
  it('shows disconnected, refuses commands at once without replaying them, and reconnects', async () => {
    const { page, problems } = await show.page();
    await page.goto(`${show.server.baseUrl}?token=${show.server.token}#/Perform`);
    const conn = page.getByRole('status', { name: 'Connection' });
    await conn.getByText('connected').waitFor();

    await show.server.close();
    await conn.getByText('disconnected').waitFor({ timeout: 30_000 });
    // Buttons are disabled while disconnected; a keyboard shortcut still tries, and fails at once.
    expect(await page.getByRole('button', { name: 'Panic' }).isDisabled()).toBe(true);
    await page.keyboard.press('Escape');
    await page.getByRole('alert').getByText(/panic: not sent/).waitFor({ timeout: 5_000 });

    second = await startServer({ link: show.session, port: show.server.port, token: show.server.token, staticDir: UI_DIR });
    await conn.getByText(/^connected$/).waitFor({ timeout: 30_000 });
    expect(await page.getByRole('button', { name: 'Panic' }).isDisabled()).toBe(false);
    // The panic made while disconnected never reached the session.
    expect(show.session.snapshot().muted).toBe(false);
    expect(problems.filter((p) => !/WebSocket/.test(p))).toEqual([]);
    await page.context().close();
  }, 120_000);
});
