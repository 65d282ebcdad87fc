/**
 * The plain Tone.Offline baseline where Tone is at home: the program of
 * benchmarks/plainTone.ts, bundled with Tone's ESM build by esbuild, runs in
 * headless Chromium (Debian's /usr/bin/chromium, driven by playwright-core; no
 * browser is ever downloaded). The render is timed inside the page, so neither
 * the launch nor the transfer of events and samples is counted.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { chromium, type BrowserContext } from 'playwright-core';
import type { NoteEvent } from '../src/engine/core/sequencer.ts';
import type { Patch } from '../src/engine/core/patchSchema.ts';
import type { PagePayload, PageResult, SampleData, plainToneInPage } from './toneChromiumPage.ts';

/** The system's Chromium (Debian package `chromium`). */
export const CHROMIUM = '/usr/bin/chromium';

/**
 * Headless, no GPU, and nothing that reaches the network or updates itself in
 * the background while a render is timed; autoplay allowed so Tone's default
 * (real-time) context may start without a gesture.
 */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--autoplay-policy=no-user-gesture-required',
];

/**
 * The page script: toneChromiumPage.ts with everything it imports (Tone,
 * the engine's instrument and bus helpers) as one classic script. Bundling
 * fails here, not in the page, if that code ever reaches for Node.
 */
export async function bundlePage(): Promise<string> {
  const out = await build({
    entryPoints: [fileURLToPath(new URL('./toneChromiumPage.ts', import.meta.url))],
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: 'es2022',
    write: false,
    logLevel: 'silent',
  });
  return out.outputFiles[0]!.text;
}

/** Channel data of decoded samples, in the shape that crosses into a page. */
export function sampleData(samples: ReadonlyMap<string, AudioBuffer>): Record<string, SampleData> {
  const out: Record<string, SampleData> = {};
  for (const [path, b] of samples) {
    out[path] = { sampleRate: b.sampleRate, channels: Array.from({ length: b.numberOfChannels }, (_, ch) => b.getChannelData(ch).slice()) };
  }
  return out;
}

/** A headless Chromium with a fresh profile, ready to render plain Tone baselines. */
export class ToneInChromium {
  private constructor(
    private readonly context: BrowserContext,
    private readonly profile: string,
    private readonly script: string,
    /** Chromium's version string, for the log. */
    readonly version: string,
  ) {}

  /** Starts Chromium; fails with the path if /usr/bin/chromium is missing. */
  static async launch(): Promise<ToneInChromium> {
    const script = await bundlePage();
    const profile = mkdtempSync(join(tmpdir(), 'ecosym-bench-chromium-'));
    let context: BrowserContext;
    try {
      // Playwright passes the profile as --user-data-dir itself (it refuses that flag in args).
      context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
    } catch (e) {
      rmSync(profile, { recursive: true, force: true });
      throw new Error(`could not start ${CHROMIUM} for the tone-chromium rows (apt-get install chromium): ${(e as Error).message}`);
    }
    const page = context.pages()[0] ?? (await context.newPage());
    const { product } = await (await context.newCDPSession(page)).send('Browser.getVersion');
    return new ToneInChromium(context, profile, script, product);
  }

  /**
   * Renders `events` for `patch` with plain Tone.Offline in a fresh page (a
   * fresh Tone, as each Node baseline gets a fresh offline context).
   */
  async render(patch: Patch, events: readonly NoteEvent[], duration: number, samples: ReadonlyMap<string, AudioBuffer>, sampleRate = 48000): Promise<PageResult> {
    const page = await this.context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    try {
      await page.addScriptTag({ content: this.script });
      const payload: PagePayload = { patch, events, duration, samples: sampleData(samples), sampleRate };
      return await page.evaluate(
        (p) => (globalThis as unknown as { plainToneInPage: typeof plainToneInPage }).plainToneInPage(p),
        payload,
      );
    } catch (e) {
      throw new Error(`the Tone.Offline render in Chromium failed: ${(e as Error).message}${errors.length ? `; page errors: ${errors.join('; ')}` : ''}`);
    } finally {
      await page.close();
    }
  }

  async close(): Promise<void> {
    await this.context.close();
    rmSync(this.profile, { recursive: true, force: true });
  }
}
