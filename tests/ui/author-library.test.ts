/**
 * The Library and Author screens in headless Chromium against a real session
 * (sink none) and server, with the user's patch folder in a temporary
 * directory: loading a built-in patch from Library; binding a data file to a
 * stream; in Author, an unknown key typed → an error at its line while the old
 * patch plays on (GET /api/state), fixed → saved and hot-swapped; the stream
 * preview drawn. Screenshots in test-artifacts/ui/.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { PROJECT_ROOT } from '../../src/engine/node/files.ts';
import type { Snapshot } from '../../src/shared/protocol.ts';
import { until } from '../support/wait.ts';
import { ARTIFACTS, startShow, type Show } from './support.ts';

const root = mkdtempSync(join(tmpdir(), 'ecosym-ui-author-'));
const userDir = join(root, 'patches');
mkdirSync(userDir);
const patchFile = join(userDir, 'alpha.yaml');
const CO2 = join(PROJECT_ROOT, 'samples/data/co2-concentration.csv');
const ALPHA = `name: alpha
tempo: 90
streams:
  co2: { unit: ppm, default: 400, valid: [0, 2000], source: "${CO2}#CO2@Date" }
signals:
  level: { from: co2, range: [315, 415], smooth: 0.5s }
  high: { from: co2, range: [315, 415], threshold: { above: 0.85, hysteresis: 0.03 } }
voices:
  pad:
    synth: synth
    oscillator: sine
    volume: -6
    envelope: { attack: 0.3, release: 1 }
    notes: { mode: chord, octave: 3 }
    rhythm: { hold: true }
`;
writeFileSync(patchFile, ALPHA);

let show: Show;
beforeAll(async () => {
  show = await startShow(patchFile, { patchesDir: userDir, loopSeconds: 60 });
  await until(() => (show.session.snapshot().rmsDb ?? -Infinity) > -40, 'the pad to sound', 30_000);
}, 120_000);
afterAll(async () => {
  await show?.close();
  rmSync(root, { recursive: true, force: true });
});

/** Waits for an asynchronous condition (the deadline detects a failure; it is no speed check). */
async function eventually(check: () => Promise<boolean>, what: string, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const snapshot = async () => (await show.state()) as unknown as Snapshot;

async function open(hash: string, viewport?: { width: number; height: number }): Promise<{ page: Page; problems: string[] }> {
  const p = await show.page(viewport);
  await p.page.goto(`${show.server.baseUrl}?token=${show.server.token}${hash}`);
  await p.page.getByRole('status', { name: 'Connection' }).getByText('connected').waitFor();
  return p;
}

describe('UI: Library', () => {
  it('lists built-in and own patches, searches, and opens a built-in one (the session loads it)', async () => {
    const { page, problems } = await open('#/Library');
    const patches = page.getByRole('list', { name: 'Patches' });
    await patches.getByRole('listitem', { name: 'Carbon Pulse' }).waitFor();
    expect(await patches.getByRole('listitem', { name: 'alpha' }).getByText('yours').count()).toBe(1);
    await page.getByRole('searchbox', { name: 'Search patches' }).fill('Sonification first');
    await eventually(async () => (await patches.locator(':scope > li.patch').count()) === 1, 'the search to leave one patch');
    expect(await patches.getByRole('listitem', { name: 'Warming Stripes' }).count()).toBe(1);
    await page.getByRole('searchbox', { name: 'Search patches' }).fill('');
    await page.screenshot({ path: join(ARTIFACTS, 'library-1280x800.png'), fullPage: true });

    await page.getByRole('button', { name: 'Open Carbon Pulse' }).click();
    await eventually(async () => (await snapshot()).patch?.name === 'Carbon Pulse', 'the session to load Carbon Pulse');
    await page.getByRole('status').filter({ hasText: 'Opened Carbon Pulse' }).waitFor();
    // Back to the patch the Author test edits.
    await page.getByRole('button', { name: 'Open alpha' }).click();
    await eventually(async () => (await snapshot()).patch?.name === 'alpha', 'the session to load alpha again');
    expect(problems).toEqual([]);
    await page.context().close();
  }, 90_000);

  it('a data file given to a stream is copied into the user folder and the stream plays it', async () => {
    const { page, problems } = await open('#/Library', { width: 1024, height: 768 });
    const csv = 'year,co2\n' + Array.from({ length: 40 }, (_, i) => `${1990 + i},${600 + (i % 2)}`).join('\n') + '\n';
    await page.getByLabel('Data file for co2').setInputFiles({ name: 'my readings.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
    await page.getByRole('status').filter({ hasText: 'co2 now plays my-readings.csv' }).waitFor();
    // The picker reads whole at 1024×768: its label and the file given (Chromium's own label was clipped to "No …osen").
    const card = page.getByRole('group', { name: 'Stream co2: drop a data file' });
    await card.getByText('my readings.csv', { exact: true }).waitFor();
    const pick = card.locator('label', { hasText: 'Choose a data file…' });
    expect(await pick.evaluate((el) => el.scrollWidth <= el.clientWidth && el.getBoundingClientRect().width > 0 && getComputedStyle(el).textOverflow !== 'ellipsis')).toBe(true);
    await eventually(async () => [600, 601].includes((await snapshot()).streams.co2?.raw as number), 'a value of the file to reach the session');
    expect((await snapshot()).streams.co2?.uri).toBe(`${join(userDir, 'data', 'my-readings.csv')}#co2`);
    expect(readFileSync(join(userDir, 'data', 'my-readings.csv'), 'utf8')).toBe(csv);
    await page.screenshot({ path: join(ARTIFACTS, 'library-1024x768.png'), fullPage: true });
    expect(problems).toEqual([]);
    // The patch's own source again, for the previews below.
    await show.session.handle({ type: 'rebind', stream: 'co2', uri: `${CO2}#CO2@Date` });
    await page.context().close();
  }, 90_000);
});

describe('UI: Author', () => {
  it('an unknown key shows at its line and the old patch plays on; fixed and saved, the session swaps to it', async () => {
    const { page, problems } = await open('#/Author');
    const content = page.locator('.cm-content');
    await content.filter({ hasText: 'name: alpha' }).waitFor();
    // The preview of the file stream: raw data and both signals, drawn.
    const plot = page.getByRole('img', { name: 'Preview of co2' });
    await plot.waitFor({ timeout: 30_000 });
    const lit = await plot.locator('canvas').evaluate((c) => {
      const cv = c as HTMLCanvasElement;
      const d = cv.getContext('2d')!.getImageData(0, 0, cv.width, cv.height).data;
      let n = 0;
      for (let i = 0; i < d.length; i += 4) if (d[i]! + d[i + 1]! + d[i + 2]! > 200) n++;
      return n;
    });
    expect(lit).toBeGreaterThan(200);
    expect(await page.getByText(/high: 315…415, lin, threshold above 0\.85 \([1-9]\d* crossings\)/).count()).toBe(1);

    const loads = (await snapshot()).engine.loads;
    await content.click();
    // The text ends with a newline: its end is the start of an empty last line.
    await page.keyboard.press('Control+End');
    await page.keyboard.type('wobble: 3');
    await page.keyboard.press('Escape');
    const line = ALPHA.split('\n').length; // that last line
    const problem = page.getByRole('list', { name: 'Problems' }).getByRole('listitem');
    await problem.filter({ hasText: `line ${line}:1: unknown key "wobble"` }).waitFor({ timeout: 30_000 });
    // Marked in the editor too, on that line.
    await page.locator('.cm-lintRange-error').filter({ hasText: 'wobble' }).waitFor();

    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('status').filter({ hasText: 'Not saved: 1 problem; the playing patch plays on' }).waitFor();
    expect(readFileSync(patchFile, 'utf8')).toBe(ALPHA);
    const during = await snapshot();
    expect(during.patch?.name).toBe('alpha');
    expect(during.engine.loads).toBe(loads);
    expect(during.rmsDb!).toBeGreaterThan(-40);
    await page.screenshot({ path: join(ARTIFACTS, 'author-error-1280x800.png'), fullPage: true });

    // Fix: the line becomes a valid key.
    // (Deleted key by key: Chromium's native replacement of a selection in a contenteditable
    // briefly writes a style attribute, which the CSP refuses; CodeMirror redraws the line anyway.)
    await page.locator('.cm-line').filter({ hasText: 'wobble' }).click();
    await page.keyboard.press('End');
    for (let i = 0; i < 'wobble: 3'.length; i++) await page.keyboard.press('Backspace');
    await page.keyboard.type('description: fixed in the Author screen');
    await page.keyboard.press('Escape');
    await eventually(async () => (await problem.count()) === 0, 'the error to clear');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('status').filter({ hasText: 'Saved alpha.yaml: now playing alpha' }).waitFor();
    expect(readFileSync(patchFile, 'utf8')).toBe(`${ALPHA}description: fixed in the Author screen`);
    const after = await snapshot();
    expect(after.engine.loads).toBe(loads + 1);
    await eventually(async () => ((await snapshot()).rmsDb ?? -Infinity) > -40, 'the swapped patch to sound');
    await page.screenshot({ path: join(ARTIFACTS, 'author-1280x800.png'), fullPage: true });
    await page.setViewportSize({ width: 1024, height: 768 });
    await page.screenshot({ path: join(ARTIFACTS, 'author-1024x768.png'), fullPage: true });
    // No CSP violation: CodeMirror's styles went into adopted stylesheets.
    expect(problems).toEqual([]);
    await page.context().close();
  }, 120_000);
});
