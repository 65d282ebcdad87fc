/**
 * The Perform screen's Record and file-data transport in headless Chromium
 * against a real session (carbon-pulse: a CSV of monthly CO2, sink none) and
 * server, the user's patch folder in a temporary directory. Record → about two
 * seconds of recording (polled in the snapshot) → Record again: the WAV is in
 * `<patches folder>/out`, decodes, and is not silent (RMS measured); the page
 * links to it through GET /api/bounce.wav. `R` toggles it from the keyboard.
 * Speed 4× and Restart data checked through GET /api/state. Screenshots at
 * 1280×800 and 1024×768 (test-artifacts/ui/).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import type { FileTransport } from '../../src/shared/protocol.ts';
import { realSleep } from '../support/wait.ts';
import { ARTIFACTS, startShow, type Show } from './support.ts';

const root = mkdtempSync(join(tmpdir(), 'ecosym-ui-perform-'));
const userDir = join(root, 'patches');
mkdirSync(userDir);
const outDir = join(userDir, 'out');

let show: Show;
beforeAll(async () => {
  show = await startShow('carbon-pulse', { patchesDir: userDir });
}, 120_000);
afterAll(async () => {
  await show?.close();
  rmSync(root, { recursive: true, force: true });
});

type State = { recording: { path: string; seconds: number } | null; streams: Record<string, { file?: FileTransport }> };
const state = async () => (await show.state()) as unknown as State;

/** Polls GET /api/state until `check` holds (the deadline only catches a hang), saying what never happened. */
async function until(check: (s: State) => boolean, what: string, ms = 60_000): Promise<State> {
  const deadline = Date.now() + ms;
  for (;;) {
    const s = await state();
    if (check(s)) return s;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify({ recording: s.recording, co2: s.streams.co2?.file })}`);
    await realSleep(50);
  }
}

/** A WAV's samples, every channel interleaved, walking its chunks (16-bit PCM or 32-bit float). */
function decodeWav(b: Buffer): { channels: number; sampleRate: number; samples: Float32Array } {
  expect(b.toString('ascii', 0, 4)).toBe('RIFF');
  expect(b.toString('ascii', 8, 12)).toBe('WAVE');
  let fmt: { format: number; channels: number; sampleRate: number; bits: number } | undefined;
  for (let at = 12; at + 8 <= b.length; ) {
    const id = b.toString('ascii', at, at + 4);
    const size = b.readUInt32LE(at + 4);
    const body = at + 8;
    if (id === 'fmt ') fmt = { format: b.readUInt16LE(body), channels: b.readUInt16LE(body + 2), sampleRate: b.readUInt32LE(body + 4), bits: b.readUInt16LE(body + 14) };
    else if (id === 'data') {
      if (!fmt) throw new Error('WAV: data before fmt');
      expect(body + size).toBeLessThanOrEqual(b.length);
      const n = size / (fmt.bits / 8);
      const samples = new Float32Array(n);
      for (let i = 0; i < n; i++) {
        if (fmt.format === 3 && fmt.bits === 32) samples[i] = b.readFloatLE(body + i * 4);
        else if (fmt.format === 1 && fmt.bits === 16) samples[i] = b.readInt16LE(body + i * 2) / 32768;
        else throw new Error(`WAV: format ${fmt.format}, ${fmt.bits} bits not read here`);
      }
      return { channels: fmt.channels, sampleRate: fmt.sampleRate, samples };
    }
    at = body + size + (size % 2);
  }
  throw new Error('WAV: no data chunk');
}

async function open(viewport?: { width: number; height: number }): Promise<{ page: Page; problems: string[] }> {
  const p = await show.page(viewport);
  await p.page.goto(`${show.server.baseUrl}?token=${show.server.token}#/Perform`);
  await p.page.getByRole('status', { name: 'Connection' }).getByText('connected').waitFor();
  return p;
}

describe('UI: Perform record and data transport', () => {
  it('Record ~2 s → a WAV in the out folder, not silent, linked from the page; Speed 4×; Restart data', async () => {
    const { page, problems } = await open();
    const record = page.getByRole('button', { name: 'Record', exact: true });
    expect(await record.getAttribute('aria-pressed')).toBe('false');
    await record.click();
    await page.getByRole('button', { name: 'Record', pressed: true }).waitFor();
    const rec = await until((s) => (s.recording?.seconds ?? 0) >= 2, 'two seconds recorded');
    expect(rec.recording!.path.startsWith(outDir)).toBe(true);
    // The elapsed time shows on the page (m:ss, counting).
    await page.getByRole('timer', { name: 'Recording time' }).filter({ hasText: /^0:0[1-9]$/ }).waitFor();
    await page.screenshot({ path: join(ARTIFACTS, 'perform-recording-1280x800.png'), fullPage: true });
    await record.click();
    await page.getByRole('button', { name: 'Record', pressed: false }).waitFor();
    await until((s) => s.recording === null, 'the recording stopped');

    const wavs = readdirSync(outDir).filter((f) => f.endsWith('.wav'));
    expect(wavs).toHaveLength(1);
    expect(readdirSync(outDir).filter((f) => f.endsWith('.part'))).toEqual([]);
    const wav = decodeWav(readFileSync(join(outDir, wavs[0]!)));
    const seconds = wav.samples.length / wav.channels / wav.sampleRate;
    expect(seconds).toBeGreaterThanOrEqual(2);
    let sum = 0;
    for (const x of wav.samples) sum += x * x;
    const rmsDb = 10 * Math.log10(sum / wav.samples.length);
    expect(rmsDb).toBeGreaterThan(-60);

    // The page names the file and its folder, and links to it through the server.
    const written = page.getByRole('status', { name: 'Recording written' });
    await written.getByText(wavs[0]!).waitFor();
    expect(await written.textContent()).toContain(outDir);
    const href = await written.getByRole('link', { name: 'Download' }).getAttribute('href');
    const served = await page.evaluate(async (u) => {
      const r = await fetch(u!, { credentials: 'same-origin' });
      return { status: r.status, type: r.headers.get('content-type'), bytes: (await r.arrayBuffer()).byteLength };
    }, href);
    expect(served).toEqual({ status: 200, type: 'audio/wav', bytes: readFileSync(join(outDir, wavs[0]!)).length });

    // Speed and Restart data, as the session has them.
    await page.getByRole('combobox', { name: 'Speed' }).selectOption('4');
    await until((s) => s.streams.co2?.file?.speed === 4, 'speed 4 in the state');
    const before = await until((s) => (s.streams.co2?.file?.index ?? 0) > 20, 'the play head past row 20');
    expect(before.streams.co2!.file!.index).toBeGreaterThan(20);
    await page.getByRole('button', { name: 'Restart data' }).click();
    const after = await until((s) => (s.streams.co2?.file?.index ?? Infinity) < 10, 'the play head near the start');
    expect(after.streams.co2!.file!.index).toBeLessThan(10);
    // The data time shown is the file's (a year for decades of monthly data).
    await page.getByTestId('data-time').filter({ hasText: /^(19|20)\d\d$/ }).waitFor();
    await page.screenshot({ path: join(ARTIFACTS, 'perform-transport-1280x800.png'), fullPage: true });
    expect(problems).toEqual([]);
    await page.context().close();
  }, 180_000);

  it('R toggles Record (listed with the shortcuts); fits 1024×768 with large targets', async () => {
    const { page, problems } = await open({ width: 1024, height: 768 });
    await page.getByRole('definition').filter({ hasText: 'Record on/off' }).waitFor();
    await page.keyboard.press('r');
    await until((s) => s.recording !== null, 'R to start a recording');
    await page.getByRole('button', { name: 'Record', pressed: true }).waitFor();
    await page.keyboard.press('r');
    await until((s) => s.recording === null, 'R again to stop it');
    await page.getByRole('status', { name: 'Recording written' }).waitFor();
    expect(readdirSync(outDir).filter((f) => f.endsWith('.wav'))).toHaveLength(2);
    // Nothing wider than the window; the stage buttons are large touch targets.
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(1024);
    for (const name of ['Record', 'Restart data']) {
      const box = (await page.getByRole('button', { name, exact: true }).boundingBox())!;
      expect(box.height).toBeGreaterThanOrEqual(60);
      expect(box.x + box.width).toBeLessThanOrEqual(1024);
    }
    await page.screenshot({ path: join(ARTIFACTS, 'perform-stage-1024x768.png'), fullPage: true });
    expect(problems).toEqual([]);
    await page.context().close();
  }, 120_000);
});
