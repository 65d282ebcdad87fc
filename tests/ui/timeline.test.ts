/**
 * The Live screen's timeline of file data in headless Chromium against a real
 * session and server (carbon-pulse: a CSV of monthly CO2), every action checked
 * through GET /api/state: a click at 75 % moves the play head there, the Speed
 * select sets the factor, a shift-drag loops a region, the keyboard seeks and
 * clears the loop. Screenshots at 1280×800 and 1024×768 (test-artifacts/ui/).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import type { FileTransport } from '../../src/shared/protocol.ts';
import { realSleep } from '../support/wait.ts';
import { ARTIFACTS, startShow, type Show } from './support.ts';

let show: Show;
beforeAll(async () => {
  show = await startShow('carbon-pulse');
}, 120_000);
afterAll(async () => {
  await show?.close();
});

async function open(viewport?: { width: number; height: number }): Promise<{ page: Page; problems: string[] }> {
  const p = await show.page(viewport);
  await p.page.goto(`${show.server.baseUrl}?token=${show.server.token}#/Live`);
  await p.page.getByRole('status', { name: 'Connection' }).getByText('connected').waitFor();
  return p;
}

/** Polls GET /api/state until `check` holds of co2's transport (or fails after `ms`, saying what never happened). */
async function until(check: (f: FileTransport) => boolean, what: string, ms = 30_000): Promise<FileTransport> {
  const deadline = Date.now() + ms;
  for (;;) {
    const f = await transport();
    if (check(f)) return f;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(f)}`);
    await realSleep(50);
  }
}

async function transport(): Promise<FileTransport> {
  const s = (await show.state()) as unknown as { streams: Record<string, { file?: FileTransport }> };
  return s.streams.co2!.file!;
}
/** Where a data time falls in the file's span (its loop: one step past the last value), 0…1. */
function fraction(f: FileTransport, t: number): number {
  const end = f.first + ((f.last - f.first) * f.count) / (f.count - 1);
  return (t - f.first) / (end - f.first);
}

describe('UI: Live timeline', () => {
  it('click at 75 % seeks there; Speed sets the factor; shift-drag loops a region; keys seek and clear', async () => {
    const { page, problems } = await open();
    const track = page.getByRole('slider', { name: 'Timeline' });
    await track.waitFor();
    // The series has been drawn (more than the "reading the data" text): many lit pixels.
    await page.waitForFunction(() => {
      const c = document.querySelector('[aria-label="Timeline"] canvas') as HTMLCanvasElement | null;
      if (!c || c.width === 0) return false;
      const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let i = 0; i < d.length; i += 4) if (d[i + 1]! > 150 && d[i]! < 200) n++;
      return n > 200;
    }, undefined, { timeout: 30_000 });
    const box = (await track.boundingBox())!;
    const y = box.y + box.height / 2;

    await page.mouse.click(box.x + box.width * 0.75, y);
    await until((f) => Math.abs(fraction(f, f.time) - 0.75) < 0.05, 'the play head near 75 %');
    // The value playing is the file's at the play head: the row index moved with it.
    const f1 = await transport();
    expect(f1.index / f1.count).toBeGreaterThan(0.73);
    expect(f1.index / f1.count).toBeLessThan(0.8);

    await page.getByRole('combobox', { name: 'Speed' }).selectOption('2');
    await until((f) => f.speed === 2, 'speed 2 in the state');

    await page.keyboard.down('Shift');
    await page.mouse.move(box.x + box.width * 0.25, y);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.4, y, { steps: 4 });
    await page.mouse.move(box.x + box.width * 0.5, y, { steps: 4 });
    await page.mouse.up();
    await page.keyboard.up('Shift');
    const f2 = await until((f) => f.loop !== null, 'a loop region in the state');
    expect(fraction(f2, f2.loop![0])).toBeCloseTo(0.25, 2);
    expect(fraction(f2, f2.loop![1])).toBeCloseTo(0.5, 2);
    // The play head (it was at 75 %) moved into the region.
    expect(fraction(f2, f2.time)).toBeGreaterThanOrEqual(0.25);
    expect(fraction(f2, f2.time)).toBeLessThan(0.5);
    await page.getByTestId('loop-region').filter({ hasText: /–/ }).waitFor();
    await page.screenshot({ path: join(ARTIFACTS, 'live-timeline-1280x800.png'), fullPage: true });

    await track.focus();
    await page.keyboard.press('Escape');
    await until((f) => f.loop === null, 'the loop cleared');
    await page.keyboard.press('Home');
    await until((f) => f.index < 5, 'the play head at the start');
    expect(problems).toEqual([]);
    await page.context().close();
  }, 120_000);

  it('fits at 1024×768; the series is asked for once, not with every snapshot', async () => {
    const p = await show.page({ width: 1024, height: 768 });
    const { page, problems } = p;
    let seriesAsked = 0;
    let snapshots = 0;
    page.on('websocket', (ws) =>
      ws.on('framesent', (f) => {
        const text = String(f.payload);
        if (text.includes('"fileSeries"')) seriesAsked++;
        if (text.includes('"snapshot"')) snapshots++;
      }),
    );
    await page.goto(`${show.server.baseUrl}?token=${show.server.token}#/Live`);
    const track = page.getByRole('slider', { name: 'Timeline' });
    await track.waitFor();
    const box = (await track.boundingBox())!;
    expect(box.width).toBeGreaterThan(600);
    expect(box.x + box.width).toBeLessThanOrEqual(1024);
    // The UI refreshes its snapshot every second: after three of them, still one request for the series.
    while (snapshots < 3) await page.waitForTimeout(200);
    expect(seriesAsked).toBe(1);
    await page.screenshot({ path: join(ARTIFACTS, 'live-timeline-1024x768.png'), fullPage: true });
    expect(problems).toEqual([]);
    await page.context().close();
  }, 60_000);

  it('the same over REST: POST /api/seek, /api/loop, /api/speed; bad input is a 400 saying what', async () => {
    const post = async (path: string, body: unknown) => {
      const r = await fetch(`${show.server.baseUrl}api/${path}`, { method: 'POST', headers: { Authorization: `Bearer ${show.server.token}`, 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
      return { status: r.status, body: (await r.json()) as { ok: boolean; error?: string } };
    };
    expect((await post('speed', { factor: 0.5 })).status).toBe(200);
    expect((await transport()).speed).toBe(0.5);
    expect((await post('seek', { fraction: 0.5 })).status).toBe(200);
    const f = await transport();
    expect(fraction(f, f.time)).toBeGreaterThanOrEqual(0.5);
    expect(fraction(f, f.time)).toBeLessThan(0.55);
    const region = [f.first + (f.last - f.first) * 0.1, f.first + (f.last - f.first) * 0.2];
    expect((await post('loop', { region })).status).toBe(200);
    expect((await transport()).loop).toEqual(region);
    expect((await post('loop', { region: null })).status).toBe(200);
    const bad = await post('seek', { fraction: 2 });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatch(/seek\.fraction/);
    expect((await post('speed', { factor: 100 })).body.error).toMatch(/speed\.factor/);
  }, 60_000);
});
