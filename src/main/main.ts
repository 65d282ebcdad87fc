/**
 * Electron main process: one window showing the UI built from src/renderer (dist/renderer/index.html), locked
 * down per Electron's security checklist (see docs/RELIABILITY.md):
 * context isolation, sandbox, no Node in the renderer, a strict CSP, no
 * navigation or new windows, permissions limited to Web MIDI, and IPC that
 * checks the sender frame before acting.
 *
 * Thin glue only: no audio or engine code runs in this process. The session
 * plays in an Electron utilityProcess started and watched by the
 * {@link AudioHost} (heartbeat, restart with the same patch and scene); each
 * window gets a MessagePort to it carrying the session protocol. One instance
 * of the app, an application menu, an open-patch dialog and recent files.
 * Everything with logic lives in the modules beside this one, tested in Node.
 */
import { app, BrowserWindow, dialog, ipcMain, Menu, MessageChannelMain, powerSaveBlocker, session, utilityProcess } from 'electron';
import type { IpcMainInvokeEvent, MenuItemConstructorOptions, Session, WebContents } from 'electron';
import path from 'node:path';
import { CSP } from '../shared/csp.ts';
import { IpcChannel, SESSION_PORT_CHANNEL, type Bridge, type VersionInfo } from '../shared/ipc.ts';
import type { ChildHandle, SpawnChild } from '../engine/node/session/hostChannel.ts';
import type { FromChild } from '../engine/node/session/hostChannel.ts';
import type { LaunchRender } from '../engine/node/session/renderProcess.ts';
import { AudioHost } from './audioHost.ts';
import { appUrls, checkIpcArgs, isAppUrl as isAppUrlUnder, isIndexUrl as isIndexUrlOf, isTrustedFrame, windowOptions, windowTitle } from './guards.ts';
import { RecentFiles } from './recentFiles.ts';
import { RemoteAccess } from './remoteAccess.ts';
import { AppSettings } from './appSettings.ts';
import { HIDE_CURSOR_CSS, installKeyAction, installMayClose, installShowArg, installWindowOptions, POWER_SAVE_BLOCKER } from './installMode.ts';
import { loadShowFile, patchRefOf, type LoadedShow } from '../engine/node/install/showFile.ts';
import { ShowSchedule } from '../engine/core/showSchedule.ts';
import { LevelCapFollower } from '../engine/core/installPolicy.ts';

// ------------------------------------------------------------------ paths

/** App root (folder of package.json, or app.asar when packaged). */
const APP_ROOT = app.getAppPath();
/** The UI as built by scripts/build-ui.mjs (Vite) from src/renderer. */
const RENDERER_DIR = path.join(APP_ROOT, 'dist', 'renderer');
const INDEX_HTML = path.join(RENDERER_DIR, 'index.html');
/** The read-only audience view: what an installation shows. */
const AUDIENCE_HTML = path.join(RENDERER_DIR, 'audience.html');
/** Bundled as CommonJS by scripts/build-main.mjs (sandboxed preloads cannot be ESM). */
const PRELOAD_JS = path.join(APP_ROOT, 'dist', 'preload', 'preload.js');

/** The session child process, bundled by scripts/build-cli.mjs. */
const SESSION_CHILD_JS = path.join(APP_ROOT, 'dist', 'cli', 'session-child.js');
/** The CLI bundle: a bounce's `ecosym render` runs it as a utility process (its arguments in ECOSYM_ARGV, see src/cli/main.ts). */
const CLI_JS = path.join(APP_ROOT, 'dist', 'cli', 'main.js');

/** file:// URL prefix of everything the app's pages may be loaded from. */
const { prefix: APP_URL_PREFIX, index: INDEX_URL } = appUrls(RENDERER_DIR);

/**
 * Content Security Policy for the app's pages: the one `ecosym serve` sends
 * (src/shared/csp.ts). The same policy (minus frame-ancestors, which browsers
 * ignore in a meta tag) is in index.html, because response headers have not
 * always reached file:// loads (electron/electron#23485).
 */

/** Renderer crashes after which the window is reloaded; then it stays down (no crash loop). */
const MAX_RENDERER_RELOADS = 5;

/** The only permissions any page may get: Web MIDI (webmidi#378). */
const ALLOWED_PERMISSIONS: ReadonlySet<string> = new Set(['midi', 'midiSysex']);

const isAppUrl = (url: string | undefined) => isAppUrlUnder(url, APP_URL_PREFIX);
const isIndexUrl = (url: string) => isIndexUrlOf(url, INDEX_URL);

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

// ------------------------------------------------------ installation mode

/**
 * `--install show.yaml`: the show's first patch at its maxLevel and quiet-hour
 * caps, faded in after every start, on the audience view fullscreen, the display
 * kept awake, the cursor hidden; only Ctrl+Alt+Shift+Q quits (installMode.ts).
 */
let install: LoadedShow | undefined;
let installError: string | undefined;
try {
  const file = installShowArg(process.argv);
  if (file) install = loadShowFile(path.resolve(file));
} catch (e) {
  installError = (e as Error)?.message ?? String(e);
  console.error(`[main] installation mode: ${installError}`);
}
/** Set by the exit chord: the installation window may close, the app may quit. */
let installExit = false;

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
  return isTrustedFrame(event.senderFrame, APP_URL_PREFIX); // null once the frame navigated or was destroyed
}

/**
 * Answers `ipcRenderer.invoke` for one {@link Bridge} method after checking the
 * sender frame. `args` arrive untyped from the renderer: `impl` validates them.
 */
function handle<K extends keyof Bridge>(
  method: K,
  impl: (args: Parameters<Bridge[K]>, event: IpcMainInvokeEvent) => unknown,
): void {
  const channel = IpcChannel[method];
  ipcMain.handle(channel, (event, ...args: unknown[]) => {
    if (!isTrustedSender(event)) {
      faults.rejectedIpc += 1;
      console.warn(`[main] rejected ${channel} from ${event.senderFrame?.url ?? 'a destroyed frame'}`);
      throw new Error(`${channel}: sender is not an Eco-Symphony page`);
    }
    return impl(checkIpcArgs(method, args), event);
  });
}

handle('getVersion', (): VersionInfo => ({
  app: app.getVersion(),
  electron: process.versions.electron,
}));

// ------------------------------------------------------------- audio host

/**
 * Electron's utilityProcess as the supervisor's {@link SpawnChild}: the same
 * messages as Node's fork, on `postMessage`/`process.parentPort`. A hung
 * process does not answer a polite kill, so SIGKILL by pid.
 */
const spawnUtility: SpawnChild = (entry, env): ChildHandle => {
  // stdout goes where main's goes: a pipe nobody reads fills up and then blocks the audio process.
  const child = utilityProcess.fork(entry, [], { env: { ...process.env, ...env }, stdio: ['ignore', 'inherit', 'pipe'], serviceName: 'Eco-Symphony audio' });
  let exit: { code: number } | undefined;
  const exitFns: Array<(code: number | null, signal: string | null) => void> = [];
  child.once('exit', (code) => {
    exit = { code };
    for (const fn of exitFns.splice(0)) fn(code, null);
  });
  return {
    get pid() {
      return child.pid;
    },
    send: (m) => child.postMessage(m),
    onMessage(fn) {
      const h = (m: unknown) => fn(m as FromChild);
      child.on('message', h);
      return () => void child.off('message', h);
    },
    onExit: (fn) => (exit ? fn(exit.code, null) : void exitFns.push(fn)),
    kill: () => {
      if (exit || child.pid === undefined) return;
      try {
        process.kill(child.pid, 'SIGKILL');
      } catch {
        child.kill();
      }
    },
    onStderr: (fn) => void child.stderr?.on('data', (d: Buffer) => fn(d.toString('utf8'))),
  };
};

/**
 * A bounce's render for the session child (which can start neither Electron as
 * Node, the runAsNode fuse being off, nor a utility process): the CLI bundle as
 * a utility process, at the niceness asked (it lowers its own priority before
 * it starts work; src/engine/node/session/renderProcess.ts has the protocol;
 * ECOSYM_PROGRESS=ipc and the malloc threshold as its RENDER_ENV says, written out here so this bundle
 * takes no engine code).
 */
const launchRenderUtility: LaunchRender = ({ args, niceness, cwd }) => {
  const child = utilityProcess.fork(CLI_JS, [], {
    env: { ...process.env, ECOSYM_PROGRESS: 'ipc', MALLOC_MMAP_THRESHOLD_: '131072', ECOSYM_ARGV: JSON.stringify(args), ECOSYM_NICENESS: String(niceness) },
    cwd,
    // stderr read for a failure's message; stdout (its summary line) not kept, so it can never fill a pipe.
    stdio: ['ignore', 'ignore', 'pipe'],
    serviceName: 'Eco-Symphony bounce',
  });
  let exited: { code: number } | undefined;
  const exitFns: Array<(code: number | null) => void> = [];
  child.once('exit', (code) => {
    exited = { code };
    for (const fn of exitFns.splice(0)) fn(code);
  });
  return {
    get pid() {
      return child.pid;
    },
    onMessage: (fn) => void child.on('message', fn),
    onStderr: (fn) => void child.stderr?.on('data', (d: Buffer) => fn(d.toString('utf8'))),
    onExit: (fn) => (exited ? fn(exited.code) : void exitFns.push(fn)),
    onSpawn: (fn) => void child.once('spawn', fn),
    kill: () => {
      if (exited || child.pid === undefined) return void child.kill();
      try {
        process.kill(child.pid, 'SIGKILL');
      } catch {
        child.kill();
      }
    },
  };
};

let recent: RecentFiles;
let host: AudioHost;

/** Loads a patch file into the audio host and tells the user when it fails. */
async function openPatchFile(file: string): Promise<void> {
  const r = await host.openPatch(file);
  if (!r.ok) {
    dialog.showErrorBox('Could not open the patch', `${file}\n\n${r.error}`);
    return;
  }
  app.addRecentDocument(file);
  buildMenu();
}

async function openPatchDialog(win?: BrowserWindow): Promise<string | null> {
  const options = { title: 'Open a patch', properties: ['openFile' as const], filters: [{ name: 'Patches', extensions: ['yaml', 'yml', 'json'] }] };
  const r = win ? await dialog.showOpenDialog(win, options) : await dialog.showOpenDialog(options);
  const file = r.canceled ? undefined : r.filePaths[0];
  if (!file) return null;
  await openPatchFile(file);
  return file;
}

handle('openSessionPort', (_args, event) => {
  const { port1, port2 } = new MessageChannelMain();
  host.connect({
    postMessage: (m) => port1.postMessage(m),
    onMessage: (fn) => void port1.on('message', (e) => fn(e.data)),
    onClose: (fn) => void port1.on('close', fn),
    close: () => port1.close(),
  });
  port1.start();
  event.sender.postMessage(SESSION_PORT_CHANNEL, null, [port2]);
});
// Remote access: off until switched on in Settings (then tablets on the network open the same screens).
let remote: RemoteAccess | undefined;
handle('remoteAccess', () => remote?.state ?? { on: false, error: 'the audio host has not started' });
handle('setRemoteAccess', ([on]) => remote?.set(on) ?? { on: false, error: 'the audio host has not started' });
handle('setRemoteAddress', ([a]) => remote?.setAddress(a) ?? { on: false, error: 'the audio host has not started' });
app.on('will-quit', () => void remote?.close());

handle('openPatchDialog', (_args, event) => openPatchDialog(BrowserWindow.fromWebContents(event.sender) ?? undefined));
handle('recentFiles', () => recent.list());
handle('openRecent', async ([file]) => {
  // Only a file the user opened before: a renderer cannot make main read any path.
  if (!recent.has(file)) throw new Error(`${IpcChannel.openRecent}: not a recent file`);
  await openPatchFile(file);
});

// ------------------------------------------------------------------ menu

function buildMenu(): void {
  const recentItems: MenuItemConstructorOptions[] = recent.list().map((r) => ({ label: path.basename(r.path), sublabel: r.path, click: () => void openPatchFile(r.path) }));
  const template: MenuItemConstructorOptions[] = [
    ...(process.platform === 'darwin' ? [{ role: 'appMenu' as const }] : []),
    {
      label: 'File',
      submenu: [
        { label: 'Open Patch…', accelerator: 'CmdOrCtrl+O', click: () => void openPatchDialog(BrowserWindow.getFocusedWindow() ?? undefined) },
        { label: 'Open Recent', submenu: recentItems.length ? [...recentItems, { type: 'separator' }, { label: 'Clear Menu', click: () => (recent.clear(), buildMenu()) }] : [{ label: 'No recent patches', enabled: false }] },
        { type: 'separator' },
        { label: 'Panic (silence now)', accelerator: 'CmdOrCtrl+.', click: () => void host.session.handle({ type: 'panic' }) },
        { type: 'separator' },
        process.platform === 'darwin' ? { role: 'close' } : { role: 'quit' },
      ],
    },
    { role: 'editMenu' },
    { role: 'viewMenu' },
    { role: 'windowMenu' },
  ];
  Menu.setApplicationMenu(Menu.buildFromTemplate(template));
}

// ---------------------------------------------------------------- windows

function createWindow(): BrowserWindow {
  const win = new BrowserWindow(windowOptions(PRELOAD_JS));
  win.once('ready-to-show', () => win.show());
  // The title says when the audio restarts; the renderer also gets the status on its port.
  const off = host.onStatus((s) => {
    if (!win.isDestroyed()) win.setTitle(windowTitle(s.state));
  });
  win.on('closed', off);
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

/** The installation's window: the audience view, kiosk, no cursor, no way out but the chord. */
function createInstallWindow(): BrowserWindow {
  const win = new BrowserWindow(installWindowOptions(windowOptions(PRELOAD_JS)));
  win.webContents.on('before-input-event', (event, input) => {
    const action = installKeyAction(input);
    if (action === 'pass') return;
    event.preventDefault();
    if (action === 'quit') {
      installExit = true;
      app.quit();
    }
  });
  win.on('close', (event) => {
    if (!installMayClose(installExit)) event.preventDefault();
  });
  win.on('leave-full-screen', () => {
    if (!installExit && !win.isDestroyed()) win.setFullScreen(true);
  });
  win.webContents.on('did-finish-load', () => void win.webContents.insertCSS(HIDE_CURSOR_CSS).catch(() => undefined));
  win.webContents.on('render-process-gone', (_event, details) => {
    faults.rendererGone += 1;
    console.error(`[main] installation renderer gone #${faults.rendererGone} (${details.reason}); reloading`);
    if (!win.isDestroyed()) win.webContents.reload();
  });
  win.loadFile(AUDIENCE_HTML).catch((error: unknown) => console.error(`[main] could not load ${AUDIENCE_HTML}:`, error));
  return win;
}

/** Starts an installation: the audio host on the show, the schedule's level cap followed every 30 s, the kiosk window. */
function startInstallation(show: LoadedShow): void {
  const schedule = new ShowSchedule(show.show);
  const caps = new LevelCapFollower(show.show.maxLevel);
  const first = show.show.playlist[0]!;
  host = new AudioHost({
    patch: patchRefOf(first.patch, show.dir),
    ...(show.show.fallback ? { fallback: patchRefOf(show.show.fallback, show.dir) } : {}),
    spawn: spawnUtility,
    entry: SESSION_CHILD_JS,
    launchRender: launchRenderUtility,
    session: {
      sink: 'default',
      maxLevelDb: show.show.maxLevel,
      fadeIn: show.show.fadeIn,
      levelCapDb: Math.min(show.show.maxLevel, schedule.plan(Date.now()).levelCap),
      overrides: Object.entries(first.data),
    },
    log: (l) => console.log(`[audio] ${l}`),
  });
  const follow = () => {
    const want = caps.want(schedule.plan(Date.now()).levelCap);
    if (want === undefined) return;
    void host.session.setLevelCap(want).then((r) => (r.ok ? caps.sent(want) : console.warn(`[main] level cap ${want}: ${r.error}`)));
  };
  follow();
  setInterval(follow, 30_000);
  host.start().catch((e: unknown) => console.error('[main] audio host:', e));
  const blocker = powerSaveBlocker.start(POWER_SAVE_BLOCKER);
  app.on('will-quit', () => powerSaveBlocker.stop(blocker));
  Menu.setApplicationMenu(null);
  createInstallWindow();
}

app.on('window-all-closed', () => {
  if (process.platform !== 'darwin') app.quit();
});

// One instance: a second start (a patch double-clicked) hands its file to this one and quits.
if (!app.requestSingleInstanceLock()) app.quit();
app.on('second-instance', (_event, argv) => {
  // An installation plays its show: a second start changes nothing.
  if (install) return;
  const win = BrowserWindow.getAllWindows()[0];
  if (win) {
    if (win.isMinimized()) win.restore();
    win.focus();
  }
  const file = argv.slice(1).find((a) => /\.(ya?ml|json)$/i.test(a));
  if (file && host) void openPatchFile(path.resolve(file));
});
app.on('will-quit', () => void host?.stop());

app
  .whenReady()
  .then(() => {
    secureSession(session.defaultSession);
    if (installError !== undefined) {
      dialog.showErrorBox('Cannot start the installation', installError);
      app.quit();
      return;
    }
    if (install) {
      startInstallation(install);
      return;
    }
    recent = new RecentFiles(path.join(app.getPath('userData'), 'recent-patches.json'), (l) => console.warn(`[main] ${l}`));
    const last = recent.list()[0]?.path;
    // A patch file on the command line (`npm start` names the demo's) opens first; else the last one.
    const given = process.argv.slice(1).find((a) => /\.(ya?ml|json)$/i.test(a));
    host = new AudioHost({ patch: given ? { path: path.resolve(given) } : last ? { path: last } : { id: 'seattle-drift' }, spawn: spawnUtility, entry: SESSION_CHILD_JS, launchRender: launchRenderUtility, recent, log: (l) => console.log(`[audio] ${l}`) });
    // Remote access as the user left it last time (settings.json; off and 0.0.0.0:8080 at first).
    const settings = new AppSettings(path.join(app.getPath('userData'), 'settings.json'), (l) => console.warn(`[main] ${l}`));
    const r = settings.remote;
    remote = new RemoteAccess({ link: host.session, staticDir: RENDERER_DIR, host: r.host, port: r.port, onChange: (s) => settings.setRemote(s), log: (l) => console.log(`[main] ${l}`) });
    if (r.on) void remote.set(true);
    host.start().catch((e: unknown) => console.error('[main] audio host:', e));
    buildMenu();
    createWindow();
    app.on('activate', () => {
      if (BrowserWindow.getAllWindows().length === 0) createWindow();
    });
  })
  .catch((error: unknown) => {
    console.error('[main] start-up failed:', error);
  });
