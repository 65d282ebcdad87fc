/**
 * The checks the main process makes before acting for a renderer, as plain
 * functions so they are tested in Node (the Electron binary cannot run on our
 * build machines): which URLs are the app's own pages, which IPC senders are
 * trusted, what arguments each IPC channel takes, and the window's options.
 */
import { pathToFileURL } from 'node:url';
import { IpcChannel, type Bridge } from '../shared/ipc.ts';

/** URLs of the app's pages, from the folder the renderer's files are in. */
export function appUrls(rendererDir: string): { prefix: string; index: string } {
  const base = pathToFileURL(rendererDir).href;
  return { prefix: `${base}/`, index: `${base}/index.html` };
}

/** True when `url` is one of the app's own files (under the renderer folder, after normalising `..` and encoding). */
export function isAppUrl(url: string | undefined, prefix: string): boolean {
  if (url === undefined) return false;
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'file:' && parsed.href.startsWith(prefix);
  } catch {
    return false;
  }
}

/** True when `url` is the app's index page (any query or fragment). */
export function isIndexUrl(url: string, index: string): boolean {
  try {
    const parsed = new URL(url);
    parsed.search = '';
    parsed.hash = '';
    return parsed.href === index;
  } catch {
    return false;
  }
}

/**
 * An IPC sender is trusted when its frame still exists and shows one of the
 * app's pages (a frame that navigated away, or was destroyed, is null).
 */
export function isTrustedFrame(frame: { url: string } | null | undefined, prefix: string): boolean {
  return frame !== null && frame !== undefined && isAppUrl(frame.url, prefix);
}

/** Thrown to the renderer for an IPC call with arguments it may not send. */
export class IpcArgumentError extends Error {
  override name = 'IpcArgumentError';
}

/**
 * Checks the arguments of one IPC call against what its {@link Bridge} method
 * takes; returns them typed, or throws saying what was wrong.
 */
export function checkIpcArgs<K extends keyof Bridge>(method: K, args: readonly unknown[]): Parameters<Bridge[K]> {
  const channel = IpcChannel[method];
  const arity: Record<keyof Bridge, number> = { getVersion: 0, openSessionPort: 0, openPatchDialog: 0, recentFiles: 0, openRecent: 1, remoteAccess: 0, setRemoteAccess: 1, setRemoteAddress: 1 };
  if (args.length !== arity[method]) throw new IpcArgumentError(`${channel}: expected ${arity[method]} argument(s), got ${args.length}`);
  if (method === 'openRecent') {
    const p = args[0];
    if (typeof p !== 'string' || p.length === 0 || p.length > 4096 || p.includes('\0')) throw new IpcArgumentError(`${channel}: expected a file path (a non-empty string of at most 4096 characters)`);
  }
  if (method === 'setRemoteAccess' && typeof args[0] !== 'boolean') throw new IpcArgumentError(`${channel}: expected true or false`);
  if (method === 'setRemoteAddress') {
    const a = args[0] as { host?: unknown; port?: unknown } | null;
    if (typeof a !== 'object' || a === null || Object.keys(a).length !== 2 || typeof a.host !== 'string' || a.host.length > 255 || typeof a.port !== 'number')
      throw new IpcArgumentError(`${channel}: expected { host: text, port: number }`);
  }
  return args as Parameters<Bridge[K]>;
}

/** Electron's `BrowserWindow` options, as plain data (the fields the app sets). */
export interface WindowOptions {
  width: number;
  height: number;
  title: string;
  backgroundColor: string;
  show: boolean;
  webPreferences: Record<string, unknown> & { preload: string };
}

/**
 * The one window's options: context isolation, the sandbox, no Node anywhere
 * in the renderer, web security on, no webview, no background throttling
 * (meters must keep moving in a hidden window).
 */
export function windowOptions(preload: string): WindowOptions {
  return {
    width: 1280,
    height: 800,
    title: 'Eco-Symphony',
    backgroundColor: '#000000',
    show: false,
    webPreferences: {
      preload,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      backgroundThrottling: false,
      spellcheck: false,
    },
  };
}

/** The window's title while the audio host is in a state: the user sees a restart happen. */
export function windowTitle(state: 'starting' | 'playing' | 'restarting' | 'stopped', patch?: string): string {
  const base = patch ? `${patch} — Eco-Symphony` : 'Eco-Symphony';
  if (state === 'restarting') return `${base} (audio restarting…)`;
  if (state === 'starting') return `${base} (starting…)`;
  if (state === 'stopped') return `${base} (audio stopped)`;
  return base;
}
