/**
 * What the UI tests share: the built UI (built once if missing or older than
 * its sources), a real session (`sink: 'none'`) behind the real HTTP/WebSocket
 * server of `ecosym serve` on a loopback port, and Debian's headless Chromium
 * driven by playwright-core (never a downloaded browser).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { loadPatchFile, resolvePatchPath } from '../../src/engine/node/files.ts';
import { Session, type SessionOptions } from '../../src/engine/node/session/Session.ts';
import { startServer, type RunningServer } from '../../src/engine/node/server/server.ts';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const UI_DIR = join(ROOT, 'dist/renderer');
export const ARTIFACTS = join(ROOT, 'test-artifacts/ui');
export const CHROMIUM = '/usr/bin/chromium';
export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--headless=new', '--no-first-run', '--disable-extensions', '--disable-background-networking', '--mute-audio'];

function newestMtime(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return t;
}

/** Builds the UI when dist/renderer is missing or older than src/renderer or src/shared. */
export function ensureUiBuilt(): void {
  const stamp = join(UI_DIR, '.ui-built');
  const sources = Math.max(newestMtime(join(ROOT, 'src/renderer')), newestMtime(join(ROOT, 'src/shared')));
  if (existsSync(stamp) && statSync(stamp).mtimeMs >= sources) return;
  execFileSync(process.execPath, [join(ROOT, 'scripts/build-ui.mjs')], { stdio: 'inherit' });
}

export interface Show {
  session: Session;
  server: RunningServer;
  browser: Browser;
  /** GET /api/state with the control token. */
  state(): Promise<{ scene: string | null; muted: boolean; params?: Record<string, number>; streams: Record<string, { raw?: number | string; frozen: boolean }> }>;
  /** A new page that collects CSP violations and page errors. */
  page(viewport?: { width: number; height: number }): Promise<{ page: Page; problems: string[] }>;
  close(): Promise<void>;
}

/** A session playing a patch (a built-in id or a file), served with the UI, and a browser. `midi`: open the process's MIDI system (the test opens JZZ's virtual one first); other session options as given. */
export async function startShow(patch = 'carbon-pulse', opts: Omit<Partial<SessionOptions>, 'midi'> & { midi?: boolean } = {}): Promise<Show> {
  ensureUiBuilt();
  mkdirSync(ARTIFACTS, { recursive: true });
  const { midi, ...options } = opts;
  const session = await Session.open({ patch: loadPatchFile(resolvePatchPath(patch)), sink: 'none', cacheDir: false, ...(midi ? {} : { midi: false }), ...options });
  await session.start();
  const server = await startServer({ link: session, port: 0, staticDir: UI_DIR, viewToken: 'view-token-for-tests-0123456789', status: { type: 'status', state: 'playing', silent: true } });
  let browser: Browser;
  try {
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  } catch (e) {
    await server.close();
    await session.stop();
    throw new Error(`could not start ${CHROMIUM} (apt-get install chromium): ${(e as Error).message}`);
  }
  return {
    session,
    server,
    browser,
    async state() {
      const r = await fetch(`${server.baseUrl}api/state`, { headers: { Authorization: `Bearer ${server.token}` } });
      if (!r.ok) throw new Error(`GET /api/state: ${r.status}`);
      return (await r.json()) as Awaited<ReturnType<Show['state']>>;
    },
    async page(viewport = { width: 1280, height: 800 }) {
      const context = await browser.newContext({ viewport });
      const page = await context.newPage();
      const problems: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) problems.push(m.text());
      });
      page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
      return { page, problems };
    },
    async close() {
      await browser.close().catch(() => undefined);
      await server.close();
      await session.stop();
    },
  };
}
