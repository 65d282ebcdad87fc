/**
 * Electron main process: one window showing the UI built from src/renderer (dist/renderer/index.html), locked
 * down per Electron's security checklist (see docs/RELIABILITY.md):
 * context isolation, sandbox, no Node in the renderer, a strict CSP, no
 * navigation or new windows, permissions limited to Web MIDI, and IPC that
 * checks the sender frame before acting.
 *
 * Thin glue only: no audio or engine code runs in this process.
 */
import { app, BrowserWindow, ipcMain, session } from 'electron';
import type { IpcMainInvokeEvent, Session, WebContents } from 'electron';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { IpcChannel, type Bridge, type VersionInfo } from '../shared/ipc.ts';

// ------------------------------------------------------------------ paths

/** App root (folder of package.json, or app.asar when packaged). */
const APP_ROOT = app.getAppPath();
/** The UI as built by scripts/build-ui.mjs (Vite) from src/renderer. */
const RENDERER_DIR = path.join(APP_ROOT, 'dist', 'renderer');
const INDEX_HTML = path.join(RENDERER_DIR, 'index.html');
/** Emitted as CommonJS by tsconfig.preload.json (sandboxed preloads cannot be ESM). */
const PRELOAD_JS = path.join(APP_ROOT, 'dist', 'preload', 'preload.js');

/** file:// URL prefix of everything the app's pages may be loaded from. */
const APP_URL_PREFIX = `${pathToFileURL(RENDERER_DIR).href}/`;
const INDEX_URL = pathToFileURL(INDEX_HTML).href;

/**
 * Content Security Policy for the app's pages. The same policy (minus
 * frame-ancestors, which browsers ignore in a meta tag) is in index.html,
 * because response headers have not always reached file:// loads
 * (electron/electron#23485).
 */
const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "media-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** Renderer crashes after which the window is reloaded; then it stays down (no crash loop). */
const MAX_RENDERER_RELOADS = 5;

/** The only permissions any page may get: Web MIDI (webmidi#378). */
const ALLOWED_PERMISSIONS: ReadonlySet<string> = new Set(['midi', 'midiSysex']);

/** Parses `url` and tells whether it is one of the app's own files. */
function isAppUrl(url: string | undefined): boolean {
  if (url === undefined) return false;
  try {
    const parsed = new URL(url); // normalises '..' and encoding
    return parsed.protocol === 'file:' && parsed.href.startsWith(APP_URL_PREFIX);
  } catch {
    return false;
  }
}

/** True when `url` is the app's index page (any query or fragment). */
function isIndexUrl(url: string): boolean {
  try {
    const parsed = new URL(url);
    parsed.search = '';
    parsed.hash = '';
    return parsed.href === INDEX_URL;
  } catch {
    return false;
  }
}

// ------------------------------------------------- fault policy (never exit)

/** Faults survived by this process, by kind. Logged and counted, never fatal. */
const faults = { uncaughtException: 0, unhandledRejection: 0, rejectedIpc: 0, rendererGone: 0 };

process.on('uncaughtException', (error) => {
  faults.uncaughtException += 1;
  console.error(`[main] uncaught exception #${faults.uncaughtException} (survived):`, error);
});
process.on('unhandledRejection', (reason) => {
  faults.unhandledRejection += 1;
  console.error(`[main] unhandled rejection #${faults.unhandledRejection} (survived):`, reason);
});

// ------------------------------------------------ switches (before 'ready')

// The UI must keep up when hidden or unfocused (electron/electron#20974), and
// audio-related pages must not wait for a user gesture.
app.commandLine.appendSwitch('disable-background-timer-throttling');
app.commandLine.appendSwitch('autoplay-policy', 'no-user-gesture-required');
// Every renderer sandboxed, whatever a future window forgets to set.
app.enableSandbox();

// --------------------------------------------------------------- security

/** CSP header, MIDI-only permissions. */
function secureSession(ses: Session): void {
  ses.webRequest.onHeadersReceived((details, callback) => {
    if (!details.url.startsWith('file:')) {
      callback({});
      return;
    }
    callback({
      responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [CSP] },
    });
  });

  ses.setPermissionRequestHandler((_webContents, permission, callback, details) => {
    callback(ALLOWED_PERMISSIONS.has(permission) && isAppUrl(details.requestingUrl));
  });
  ses.setPermissionCheckHandler((_webContents, permission, requestingOrigin, details) => {
    if (!ALLOWED_PERMISSIONS.has(permission)) return false;
    // file:// pages have an opaque origin, reported as 'file:///' or 'file://'.
    return isAppUrl(details.requestingUrl) || /^file:\/\/\/?$/.test(requestingOrigin);
  });
}

/** No navigation away from the app, no new windows, no <webview>. */
function secureWebContents(contents: WebContents): void {
  contents.on('will-navigate', (event, url) => {
    if (!isIndexUrl(url)) {
      event.preventDefault();
      console.warn(`[main] blocked navigation to ${url}`);
    }
  });
  contents.setWindowOpenHandler(({ url }) => {
    console.warn(`[main] blocked new window for ${url}`);
    return { action: 'deny' };
  });
  contents.on('will-attach-webview', (event) => event.preventDefault());
}

app.on('web-contents-created', (_event, contents) => secureWebContents(contents));

// -------------------------------------------------------------------- IPC

/** True when an IPC message comes from one of the app's own pages. */
function isTrustedSender(event: IpcMainInvokeEvent): boolean {
  const frame = event.senderFrame; // null once the frame navigated or was destroyed
  return frame !== null && isAppUrl(frame.url);
}

/**
 * Answers `ipcRenderer.invoke` for one {@link Bridge} method after checking the
 * sender frame. `args` arrive untyped from the renderer: `impl` validates them.
 */
function handle<K extends keyof Bridge>(
  method: K,
  impl: (args: readonly unknown[]) => Awaited<ReturnType<Bridge[K]>> | ReturnType<Bridge[K]>,
): void {
  const channel = IpcChannel[method];
  ipcMain.handle(channel, (event, ...args: unknown[]) => {
    if (!isTrustedSender(event)) {
      faults.rejectedIpc += 1;
      console.warn(`[main] rejected ${channel} from ${event.senderFrame?.url ?? 'a destroyed frame'}`);
      throw new Error(`${channel}: sender is not an Eco-Symphony page`);
    }
    return impl(args);
  });
}

handle('getVersion', (): VersionInfo => ({
  app: app.getVersion(),
  electron: process.versions.electron,
}));

// ---------------------------------------------------------------- windows

function createWindow(): BrowserWindow {
  const win = new BrowserWindow({
    width: 1280,
    height: 800,
    title: 'Eco-Symphony',
    backgroundColor: '#000000',
    show: false,
    webPreferences: {
      preload: PRELOAD_JS,
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
  });
  win.once('ready-to-show', () => win.show());
  win.webContents.on('render-process-gone', (_event, details) => {
    faults.rendererGone += 1;
    const reload = details.reason !== 'clean-exit' && faults.rendererGone <= MAX_RENDERER_RELOADS;
    console.error(
      `[main] renderer gone #${faults.rendererGone} (${details.reason}, exit ${details.exitCode})` +
        (reload ? '; reloading' : ''),
    );
    if (reload && !win.isDestroyed()) win.webContents.reload();
  });
  win.loadFile(INDEX_HTML).catch((error: unknown) => {
    console.error(`[main] could not load ${INDEX_HTML}:`, error);
  });
  return win;
}

app.on('window-all-closed', () => {
  if (process.platform !== 'darwin') app.quit();
});

app
  .whenReady()
  .then(() => {
    secureSession(session.defaultSession);
    // The audio host (engine, sources, OSC/MIDI bridges) will run here in an
    // Electron utilityProcess, started and watched by main (heartbeat,
    // restart with a start limit): see docs/ARCHITECTURE.md "Processes".
    createWindow();
    app.on('activate', () => {
      if (BrowserWindow.getAllWindows().length === 0) createWindow();
    });
  })
  .catch((error: unknown) => {
    console.error('[main] start-up failed:', error);
  });
