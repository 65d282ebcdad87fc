/**
 * The Author screen's "Data → signals" previews of iowa-power in headless
 * Chromium against a real session (sink none): each stream of the one
 * long-format file is previewed as the patch reads it (its `where:` picks one
 * source: 17 years, not the 51 rows of all three), and each plot is drawn.
 * Screenshot in test-artifacts/ui/author-preview-iowa-1280x800.png.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ARTIFACTS, startShow, type Show } from './support.ts';

const userDir = mkdtempSync(join(tmpdir(), 'ecosym-ui-preview-'));
let show: Show;
beforeAll(async () => {
  show = await startShow('iowa-power', { patchesDir: userDir });
}, 120_000);
afterAll(async () => {
  await show?.close();
  rmSync(userDir, { recursive: true, force: true });
});

describe('UI: Author stream preview', () => {
  it("iowa-power: each stream's preview is its own source's 17 years, plotted", async () => {
    const { page, problems } = await show.page();
    await page.goto(`${show.server.baseUrl}?token=${show.server.token}#/Author`);
    await page.getByRole('status', { name: 'Connection' }).getByText('connected').waitFor();
    const previews = page.locator('.preview');
    for (const stream of ['fossil', 'nuclear', 'renewables']) {
      const panel = previews.filter({ has: page.getByRole('heading', { name: stream, exact: true }) });
      await panel.getByRole('img', { name: `Preview of ${stream}` }).waitFor({ timeout: 60_000 });
      // What render plays: one source's years, not every source's rows mixed.
      await expect(panel.getByText(/; 17 values/).count()).resolves.toBe(1);
      // The plot is drawn: non-background pixels across most of its width.
      const columns = await panel.locator('canvas').evaluate((c) => {
        const cv = c as HTMLCanvasElement;
        const d = cv.getContext('2d')!.getImageData(0, 0, cv.width, cv.height).data;
        const bg = [d[0], d[1], d[2]];
        const cols = new Set<number>();
        for (let i = 0; i < d.length; i += 4) if (Math.abs(d[i]! - bg[0]!) + Math.abs(d[i + 1]! - bg[1]!) + Math.abs(d[i + 2]! - bg[2]!) > 60) cols.add((i / 4) % cv.width);
        return cols.size / cv.width;
      });
      expect(columns).toBeGreaterThan(0.5);
    }
    await page.screenshot({ path: join(ARTIFACTS, 'author-preview-iowa-1280x800.png'), fullPage: false });
    expect(problems).toEqual([]);
  }, 180_000);
});
