/**
 * The Live screen's speaker layout in headless Chromium against a real session
 * playing the ring-of-eight example: the eight speakers and where each voice and
 * bus is (the canvas's description, from telemetry), moving as the drone orbits.
 * Screenshot: test-artifacts/ui/live-speaker-layout.png.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { ARTIFACTS, startShow, type Show } from './support.ts';

let show: Show;
beforeAll(async () => {
  show = await startShow('patches/examples/ring-of-eight.yaml');
}, 120_000);
afterAll(async () => {
  await show?.close();
});

describe('UI: speaker layout', () => {
  it('shows the ring of eight speakers and each voice and bus where it is, the orbiting drone moving', async () => {
    const { page, problems } = await show.page({ width: 1280, height: 1100 });
    await page.goto(`${show.server.baseUrl}?token=${show.server.token}#/Live`.replace(/\/\?/, '/?'));
    await page.getByRole('status', { name: 'Connection' }).getByText('connected').waitFor();
    const layout = page.getByRole('img', { name: 'Speaker layout' });
    await layout.scrollIntoViewIfNeeded();
    const described = () => layout.getAttribute('aria-description');
    await page.waitForFunction(() => /^ring of 8 speakers/.test(document.querySelector('[aria-label="Speaker layout"]')?.getAttribute('aria-description') ?? ''), null, { timeout: 30_000 });
    const first = (await described())!;
    // Every voice and bus has a place; the hall's is fixed at 180° (behind).
    for (const name of ['drone', 'wind', 'bells', 'hall']) expect(first).toMatch(new RegExp(`${name} at -?\\d+°`));
    expect(first).toContain('hall at 180°');
    const droneAt = (text: string) => Number(/drone at (-?\d+)°/.exec(text)![1]);
    // The drone orbits once a minute (6° a second): within a few seconds it has moved.
    await page.waitForFunction(
      (a) => {
        const t = document.querySelector('[aria-label="Speaker layout"]')?.getAttribute('aria-description') ?? '';
        const m = /drone at (-?\d+)°/.exec(t);
        return m !== null && Number(m[1]) !== a;
      },
      droneAt(first),
      { timeout: 30_000 },
    );
    // Drawn: the speakers and dots light pixels of the canvas.
    const lit = await layout.locator('canvas').evaluate((c) => {
      const cv = c as HTMLCanvasElement;
      const d = cv.getContext('2d')!.getImageData(0, 0, cv.width, cv.height).data;
      let n = 0;
      for (let i = 3; i < d.length; i += 4) if (d[i]! > 0) n++;
      return n;
    });
    expect(lit).toBeGreaterThan(500);
    await layout.screenshot({ path: join(ARTIFACTS, 'live-speaker-layout.png') });
    expect(problems).toEqual([]);
    await page.context().close();
  }, 120_000);
});
