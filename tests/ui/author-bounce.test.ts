/**
 * The Author screen's Bounce in headless Chromium against a real session
 * (sink none) and server, the user's patch folder in a temporary directory:
 * bounce 2 s → the progress bar reaches done, the page's <audio> plays the WAV
 * through GET /api/bounce.wav (duration > 1.5 s) and the waveform canvas is
 * drawn. The route itself: the token, the content type, byte ranges, and
 * nothing outside the bounce folder. Screenshot in test-artifacts/ui/.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ARTIFACTS, startShow, type Show } from './support.ts';

const root = mkdtempSync(join(tmpdir(), 'ecosym-ui-bounce-'));
const userDir = join(root, 'patches');
mkdirSync(userDir);
const patchFile = join(userDir, 'beta.yaml');
writeFileSync(
  patchFile,
  `name: beta
tempo: 100
streams:
  co2: { unit: ppm, default: 400 }
voices:
  pad:
    synth: synth
    oscillator: sawtooth
    volume: -6
    envelope: { attack: 0.05, release: 0.5 }
    notes: { mode: chord, octave: 3 }
    rhythm: { hold: true }
`,
);

let show: Show;
beforeAll(async () => {
  show = await startShow(patchFile, { patchesDir: userDir });
}, 120_000);
afterAll(async () => {
  await show?.close();
  rmSync(root, { recursive: true, force: true });
});

const wavUrl = (path: string) => `${show.server.baseUrl}api/bounce.wav?path=${encodeURIComponent(path)}`;
const auth = () => ({ Authorization: `Bearer ${show.server.token}` });

describe('UI: Author bounce', () => {
  let bounced = '';

  it('bounces 2 s: the progress bar reaches done, the page plays the WAV and draws its waveform', async () => {
    const { page, problems } = await show.page();
    await page.goto(`${show.server.baseUrl}?token=${show.server.token}#/Author`);
    await page.getByRole('status', { name: 'Connection' }).getByText('connected').waitFor();
    await page.getByText('beta.yaml').waitFor();
    await page.getByRole('spinbutton', { name: 'Bounce seconds' }).fill('2');
    await page.getByRole('button', { name: 'Bounce', exact: true }).click();
    // A render in a child process: generous on a loaded machine (the deadline only catches a hang).
    await page.getByRole('status', { name: 'Bounce status' }).getByText(/^done: beta-.*\.wav/).waitFor({ timeout: 120_000 });
    expect(await page.getByRole('progressbar', { name: 'Bounce progress' }).evaluate((p) => (p as HTMLProgressElement).value)).toBe(1);

    const audio = page.getByLabel('Bounced audio');
    await audio.waitFor();
    await page.waitForFunction(() => {
      const a = document.querySelector('audio');
      return a !== null && a.readyState >= 1 && Number.isFinite(a.duration);
    }, undefined, { timeout: 60_000 });
    const duration = await audio.evaluate((a) => (a as HTMLAudioElement).duration);
    expect(duration).toBeGreaterThan(1.5);
    expect(duration).toBeLessThan(2.5);
    bounced = decodeURIComponent(/path=([^&]+)/.exec((await audio.getAttribute('src'))!)![1]!);
    expect(bounced.startsWith(join(userDir, 'out'))).toBe(true);
    expect(readdirSync(join(userDir, 'out')).filter((f) => f.endsWith('.wav'))).toHaveLength(1);

    // The waveform: pixels in its colour, spread across the width (the pad holds from the start).
    const canvas = page.getByRole('img', { name: 'Waveform of the bounce' }).locator('canvas');
    let lit = { pixels: 0, columns: 0, width: 0 };
    for (let i = 0; i < 600 && lit.columns === 0; i++) {
      lit = await canvas.evaluate((c) => {
        const cv = c as HTMLCanvasElement;
        const d = cv.getContext('2d')!.getImageData(0, 0, cv.width, cv.height).data;
        let pixels = 0;
        const cols = new Set<number>();
        for (let i = 0; i < d.length; i += 4)
          if (d[i + 1]! > 200 && d[i]! > 100 && d[i]! < 160) {
            pixels++;
            cols.add((i / 4) % cv.width);
          }
        return { pixels, columns: cols.size, width: cv.width };
      });
      if (lit.columns === 0) await page.waitForTimeout(100);
    }
    expect(lit.columns).toBeGreaterThan(lit.width * 0.8);
    expect(lit.pixels).toBeGreaterThan(lit.width * 3);
    // A stream with no data file: its preview says so beside the plot, not as an error in the status bar.
    await page.getByText(/has no source: a preview needs a data file/).waitFor();
    expect(await page.getByRole('alert').filter({ hasText: 'streamPreview' }).count()).toBe(0);
    await page.screenshot({ path: join(ARTIFACTS, 'author-bounce-1280x800.png'), fullPage: true });
    expect(problems).toEqual([]);
  }, 240_000);

  it('GET /api/bounce.wav: a WAV with its content type and byte ranges, with the control token only', async () => {
    expect(bounced).not.toBe('');
    const r = await fetch(wavUrl(bounced), { headers: auth() });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('audio/wav');
    const bytes = Buffer.from(await r.arrayBuffer());
    expect(bytes.subarray(0, 4).toString()).toBe('RIFF');
    expect(bytes.subarray(8, 12).toString()).toBe('WAVE');
    const part = await fetch(wavUrl(bounced), { headers: { ...auth(), Range: 'bytes=8-11' } });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe(`bytes 8-11/${bytes.length}`);
    expect(Buffer.from(await part.arrayBuffer()).toString()).toBe('WAVE');
    expect((await fetch(wavUrl(bounced))).status).toBe(401);
    expect((await fetch(wavUrl(bounced), { headers: { Authorization: 'Bearer view-token-for-tests-0123456789' } })).status).toBe(403);
  });

  it('GET /api/bounce.wav serves nothing outside the bounce folder', async () => {
    const outside = join(root, 'secret.wav');
    writeFileSync(outside, 'RIFF not yours');
    symlinkSync(outside, join(userDir, 'out', 'link.wav'));
    const status = async (p: string) => {
      const r = await fetch(wavUrl(p), { headers: auth() });
      return { status: r.status, error: ((await r.json()) as { error: string }).error };
    };
    expect(await status(outside)).toMatchObject({ status: 403, error: expect.stringMatching(/outside the output folder/) });
    expect((await status(join(userDir, 'out', '..', '..', 'secret.wav'))).status).toBe(403);
    expect((await status(join(userDir, 'out', 'link.wav'))).status).toBe(403);
    expect((await status('/etc/passwd')).status).toBe(400);
    expect((await status(join(userDir, 'out', 'missing.wav'))).status).toBe(404);
    expect((await fetch(`${show.server.baseUrl}api/bounce.wav`, { headers: auth() })).status).toBe(400);
  });
});
