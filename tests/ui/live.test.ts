/**
 * The UI in headless Chromium against a real session and server: getting in
 * with and without a token, the Live screen's values and canvases, the
 * Perform screen's controls checked through GET /api/state, and screenshots of
 * every screen at 1280×800 and 1024×768 (test-artifacts/ui/).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import type { TelemetryFrame } from '../../src/shared/protocol.ts';
import { until } from '../support/wait.ts';
import { ARTIFACTS, startShow, type Show } from './support.ts';

let show: Show;
beforeAll(async () => {
  show = await startShow('carbon-pulse');
}, 120_000);
afterAll(async () => {
  await show?.close();
});

async function openWithToken(viewport?: { width: number; height: number }, hash = '#/Live'): Promise<{ page: Page; problems: string[] }> {
  const p = await show.page(viewport);
  await p.page.goto(`${show.server.baseUrl}${hash}`.replace(/\/#/, `/?token=${show.server.token}#`));
  await p.page.getByRole('status', { name: 'Connection' }).getByText('connected').waitFor();
  return p;
}

/** The pixels of the canvas inside the element with role img and this name, as a data URL. */
function canvasPixels(page: Page, name: string): Promise<string> {
  return page.getByRole('img', { name }).locator('canvas').evaluate((c) => (c as HTMLCanvasElement).toDataURL());
}

describe('UI: getting in', () => {
  it('without a token the page says how to get in, and nothing else', async () => {
    const { page, problems } = await show.page();
    const r = await page.goto(show.server.baseUrl);
    expect(r?.status()).toBe(401);
    await page.getByText('This page needs an access token').waitFor();
    expect(await page.getByText('ecosym serve').count()).toBeGreaterThan(0);
    await page.goto(`${show.server.baseUrl}?token=not-the-token`);
    await page.getByText('not this session').waitFor();
    expect(await page.getByRole('button', { name: 'Panic' }).count()).toBe(0);
    expect(problems.filter((p) => /Content Security Policy/.test(p))).toEqual([]);
    await page.context().close();
  }, 60_000);

  it('with the token it connects, and the token leaves the address bar', async () => {
    const { page, problems } = await openWithToken();
    expect(page.url()).not.toContain('token');
    expect(await page.getByRole('navigation', { name: 'Screens' }).getByRole('link').allTextContents()).toEqual(['Library', 'Live', 'Perform', 'Author', 'Settings']);
    expect(problems).toEqual([]);
    await page.context().close();
  }, 60_000);
});

describe('UI: Live', () => {
  it('shows the stream value changing and the meter canvas changing between frames', async () => {
    const { page, problems } = await openWithToken();
    const raw = page.getByTestId('raw-co2');
    await raw.filter({ hasText: /\d/ }).waitFor({ timeout: 30_000 });
    const first = await raw.textContent();
    await page.waitForFunction((t) => document.querySelector('[data-testid="raw-co2"]')?.textContent !== t, first, { timeout: 30_000 });

    const a = await canvasPixels(page, 'Output meters');
    let b = a;
    for (let i = 0; i < 100 && b === a; i++) {
      await page.waitForTimeout(50);
      b = await canvasPixels(page, 'Output meters');
    }
    expect(b).not.toBe(a);
    // Not blank: the meters show the sound (some lit pixels).
    const lit = await page.getByRole('img', { name: 'Output meters' }).locator('canvas').evaluate((c) => {
      const cv = c as HTMLCanvasElement;
      const d = cv.getContext('2d')!.getImageData(0, 0, cv.width, cv.height).data;
      let n = 0;
      for (let i = 3; i < d.length; i += 4) if (d[i]! > 0) n++;
      return n;
    });
    expect(lit).toBeGreaterThan(50);
    expect(problems).toEqual([]);
    await page.context().close();
  }, 90_000);
});

describe('UI: Perform', () => {
  it('a scene button switches the session scene; Master volume sets the session value; Panic silences within 100 ms', async () => {
    const { page, problems } = await openWithToken(undefined, '#/Perform');
    const before = (await show.state()).scene;
    const target = before === 'tipping' ? 'baseline' : 'tipping';
    await page.getByRole('button', { name: target }).click();
    let scene = before;
    for (let i = 0; i < 200 && scene !== target; i++) {
      await page.waitForTimeout(50);
      scene = (await show.state()).scene;
    }
    expect(scene).toBe(target);
    await page.getByRole('button', { name: target }).and(page.locator('[aria-pressed="true"]')).waitFor();

    await page.getByRole('slider', { name: 'Master volume' }).fill('-23');
    let vol: number | undefined;
    for (let i = 0; i < 200 && (vol === undefined || Math.abs(vol + 23) > 0.25); i++) {
      await page.waitForTimeout(50);
      vol = (await show.state()).params?.['master.volume'];
    }
    expect(vol).toBeCloseTo(-23, 0);

    // Panic: the first telemetry frame 100 ms (session time) after the panic is below −90 dBFS.
    const frames: TelemetryFrame[] = [];
    // Copied: the session may reuse a frame's buffers for the next one.
    const off = show.session.onTelemetry((f) => frames.push({ ...f, peak: [...f.peak] }));
    let panicAt: number | undefined;
    const offEvent = show.session.onEvent((e) => {
      if (e.type === 'mute' && e.panic) panicAt = show.session.snapshot().engine.time;
    });
    try {
      await until(() => frames.some((f) => Math.max(...f.peak) > 10 ** (-60 / 20)), 'sound before the panic', 30_000);
      await page.getByRole('button', { name: 'Panic' }).click();
      await until(() => panicAt !== undefined && frames.some((f) => f.time >= panicAt! + 0.1), 'a frame 100 ms after the panic', 30_000);
      const after = frames.find((f) => f.time >= panicAt! + 0.1)!;
      const peakDb = 20 * Math.log10(Math.max(...after.peak, 1e-12));
      expect(peakDb).toBeLessThan(-90);
      expect((await show.state()).muted).toBe(true);
      await page.getByRole('button', { name: 'Mute' }).and(page.locator('[aria-pressed="true"]')).waitFor();
    } finally {
      off();
      offEvent();
    }
    // Mute toggles the sound back.
    await page.getByRole('button', { name: 'Mute' }).click();
    let muted = true;
    for (let i = 0; i < 200 && muted; i++) {
      await page.waitForTimeout(50);
      muted = (await show.state()).muted;
    }
    expect(muted).toBe(false);
    expect(problems).toEqual([]);
    await page.context().close();
  }, 120_000);
});

describe('UI: Perform, streams', () => {
  it('Hold freezes a stream at its value (the feed no longer moves it); a manual value is refused while held and says why', async () => {
    const { page, problems } = await openWithToken(undefined, '#/Perform');
    await page.getByRole('button', { name: 'Hold co2' }).click();
    let held = await show.state();
    for (let i = 0; i < 200 && !held.streams.co2?.frozen; i++) {
      await page.waitForTimeout(50);
      held = await show.state();
    }
    expect(held.streams.co2?.frozen).toBe(true);
    const value = held.streams.co2?.raw;
    // The file feed moves co2 several times a second (see the Live test); held, it stays.
    await page.waitForTimeout(2000);
    expect((await show.state()).streams.co2?.raw).toBe(value);
    await page.getByRole('textbox', { name: 'Manual value for co2' }).fill('351');
    await page.getByRole('button', { name: 'Send co2' }).click();
    await page.getByRole('alert').getByText(/inject: .*frozen/).waitFor();
    expect((await show.state()).streams.co2?.raw).toBe(value);
    await page.getByRole('button', { name: 'Hold co2' }).click();
    let frozen = true;
    for (let i = 0; i < 200 && frozen; i++) {
      await page.waitForTimeout(50);
      frozen = (await show.state()).streams.co2?.frozen ?? true;
    }
    expect(frozen).toBe(false);
    expect(problems).toEqual([]);
    await page.context().close();
  }, 90_000);
});

describe('UI: keyboard shortcuts', () => {
  it('are listed on Perform, and 1…9 pick scenes and M toggles mute', async () => {
    const { page, problems } = await openWithToken(undefined, '#/Perform');
    await page.getByRole('heading', { name: 'Keyboard shortcuts' }).waitFor();
    const want = async (check: (s: Awaited<ReturnType<Show['state']>>) => boolean) => {
      for (let i = 0; i < 200; i++) {
        if (check(await show.state())) return true;
        await page.waitForTimeout(50);
      }
      return false;
    };
    await page.keyboard.press('1');
    expect(await want((s) => s.scene === 'baseline')).toBe(true);
    await page.keyboard.press('2');
    expect(await want((s) => s.scene === 'tipping')).toBe(true);
    const muted = (await show.state()).muted;
    await page.keyboard.press('m');
    expect(await want((s) => s.muted === !muted)).toBe(true);
    await page.keyboard.press('m');
    expect(await want((s) => s.muted === muted)).toBe(true);
    // Twice at once, before any reply: mute then unmute (a toggle read from a stale snapshot muted twice).
    await page.evaluate(() => {
      for (let i = 0; i < 2; i++) window.dispatchEvent(new KeyboardEvent('keydown', { key: 'm', bubbles: true }));
    });
    await page.waitForTimeout(500);
    expect(await want((s) => s.muted === muted)).toBe(true);
    expect(problems).toEqual([]);
    await page.context().close();
  }, 90_000);
});

describe('UI: Settings and the audience view', () => {
  it('Settings shows the sample rate, the bridges and the remote address with a QR code', async () => {
    const { page, problems } = await openWithToken(undefined, '#/Settings');
    await page.getByRole('definition').filter({ hasText: `${show.session.snapshot().engine.sampleRate} Hz` }).waitFor();
    await page.getByRole('button', { name: 'Show token' }).click();
    await page.getByText(show.server.token, { exact: true }).waitFor();
    const qrDark = await page.getByRole('img', { name: /QR code/ }).locator('canvas').evaluate((c) => {
      const cv = c as HTMLCanvasElement;
      const d = cv.getContext('2d')!.getImageData(0, 0, cv.width, cv.height).data;
      let dark = 0;
      for (let i = 0; i < d.length; i += 4) if (d[i]! < 128) dark++;
      return dark / (d.length / 4);
    });
    expect(qrDark).toBeGreaterThan(0.2);
    expect(qrDark).toBeLessThan(0.6);
    expect(problems).toEqual([]);
    await page.context().close();
  }, 60_000);

  it('the audience view connects with the read-only token, shows the streams in large type and cannot command', async () => {
    const { page, problems } = await show.page();
    await page.goto(`${show.server.baseUrl}audience?token=${show.server.viewToken}`);
    await page.getByText('Listening now').waitFor({ timeout: 30_000 });
    expect(page.url()).not.toContain('token');
    await page.getByText('Monthly CO2 at Mauna Loa', { exact: false }).waitFor();
    const value = page.getByLabel('co2 now');
    await value.filter({ hasText: /\d/ }).waitFor({ timeout: 30_000 });
    const size = await value.evaluate((el) => parseFloat(getComputedStyle(el).fontSize));
    expect(size).toBeGreaterThan(48);
    expect(await page.getByRole('button').count()).toBe(0);
    // The read-only token cannot drive the show, even by hand.
    const r = await fetch(`${show.server.baseUrl}api/panic`, { method: 'POST', headers: { Authorization: `Bearer ${show.server.viewToken}` } });
    expect(r.status).toBe(403);
    await page.screenshot({ path: join(ARTIFACTS, 'audience-1280x800.png') });
    expect(problems).toEqual([]);
    await page.context().close();
  }, 60_000);
});

describe('UI: screenshots', () => {
  it('of every screen at 1280×800 and 1024×768', async () => {
    for (const viewport of [
      { width: 1280, height: 800 },
      { width: 1024, height: 768 },
    ]) {
      const { page, problems } = await openWithToken(viewport);
      for (const screen of ['Library', 'Live', 'Perform', 'Author', 'Settings']) {
        await page.getByRole('link', { name: screen }).click();
        await page.getByRole('main', { name: screen }).waitFor();
        await page.waitForTimeout(1500);
        await page.screenshot({ path: join(ARTIFACTS, `${screen.toLowerCase()}-${viewport.width}x${viewport.height}.png`) });
      }
      expect(problems).toEqual([]);
      await page.context().close();
    }
  }, 120_000);
});
