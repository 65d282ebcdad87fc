/**
 * Preload bridge: exposes the typed {@link Bridge} to the renderer as
 * `window.ecosym`, with named functions only (never a raw `ipcRenderer`,
 * never Node objects or IPC events).
 *
 * This runs in a sandboxed renderer, where preloads cannot be ES modules and
 * `require` only knows 'electron' and a few built-ins: the file must stay
 * self-contained (type-only imports from src/shared) and is emitted as
 * CommonJS by scripts/build-main.mjs (everything but 'electron' bundled in).
 */
import { contextBridge, ipcRenderer } from 'electron';
import type { IpcRendererEvent } from 'electron';
import type { Bridge, IpcChannels, RecentFile, RemoteAccessAddress, RemoteAccessState, SESSION_PORT_CHANNEL, SessionPort, VersionInfo } from '../shared/ipc.ts';

// Restated as literals because a sandboxed preload cannot load src/shared at
// run time; the annotations make tsc fail if they drift from IpcChannel.
const GET_VERSION: IpcChannels['getVersion'] = 'app:getVersion';
const OPEN_SESSION_PORT: IpcChannels['openSessionPort'] = 'session:openPort';
const OPEN_PATCH_DIALOG: IpcChannels['openPatchDialog'] = 'app:openPatchDialog';
const RECENT_FILES: IpcChannels['recentFiles'] = 'app:recentFiles';
const OPEN_RECENT: IpcChannels['openRecent'] = 'app:openRecent';
const REMOTE_ACCESS: IpcChannels['remoteAccess'] = 'app:remoteAccess';
const SET_REMOTE_ACCESS: IpcChannels['setRemoteAccess'] = 'app:setRemoteAccess';
const SET_REMOTE_ADDRESS: IpcChannels['setRemoteAddress'] = 'app:setRemoteAddress';
const PORT: typeof SESSION_PORT_CHANNEL = 'session:port';

/**
 * Main answers `openSessionPort` by posting a MessagePort on {@link PORT}.
 * contextBridge cannot pass the port itself (it copies objects), so the
 * renderer gets a small object of functions around it; what it receives are
 * copies of the messages' data.
 */
function openSessionPort(): Promise<SessionPort> {
  return new Promise((resolve, reject) => {
    const onPort = (event: IpcRendererEvent) => {
      const port = event.ports[0];
      if (!port) return reject(new Error('openSessionPort: main sent no port'));
      const listeners = new Set<(data: unknown) => void>();
      port.onmessage = (e: MessageEvent) => {
        for (const fn of listeners) fn(e.data);
      };
      resolve({
        postMessage: (message: unknown) => port.postMessage(message),
        addEventListener: (_type: 'message', fn: (data: unknown) => void) => {
          listeners.add(fn);
          return () => void listeners.delete(fn);
        },
        close: () => port.close(),
      });
    };
    ipcRenderer.once(PORT, onPort);
    ipcRenderer.invoke(OPEN_SESSION_PORT).catch((e: unknown) => {
      ipcRenderer.removeListener(PORT, onPort);
      reject(e instanceof Error ? e : new Error(String(e)));
    });
  });
}

const bridge: Bridge = {
  getVersion: async (): Promise<VersionInfo> => {
    const info = (await ipcRenderer.invoke(GET_VERSION)) as VersionInfo;
    return { app: String(info.app), electron: String(info.electron) };
  },
  openSessionPort,
  openPatchDialog: async () => {
    const r = (await ipcRenderer.invoke(OPEN_PATCH_DIALOG)) as unknown;
    return typeof r === 'string' ? r : null;
  },
  recentFiles: async () => {
    const r = (await ipcRenderer.invoke(RECENT_FILES)) as unknown;
    return Array.isArray(r) ? (r as RecentFile[]).map((x) => ({ path: String(x.path), openedAt: Number(x.openedAt) })) : [];
  },
  openRecent: async (path: string) => {
    await ipcRenderer.invoke(OPEN_RECENT, String(path));
  },
  remoteAccess: async () => remoteState(await ipcRenderer.invoke(REMOTE_ACCESS)),
  setRemoteAccess: async (on: boolean) => remoteState(await ipcRenderer.invoke(SET_REMOTE_ACCESS, on === true)),
  setRemoteAddress: async (a: RemoteAccessAddress) => remoteState(await ipcRenderer.invoke(SET_REMOTE_ADDRESS, { host: String(a?.host), port: Number(a?.port) })),
};

/** A plain copy of main's answer, with only the fields a {@link RemoteAccessState} has. */
function remoteState(r: unknown): RemoteAccessState {
  const o = (r ?? {}) as Record<string, unknown>;
  const out: RemoteAccessState = { on: o.on === true };
  for (const k of ['url', 'token', 'viewUrl', 'bound', 'error', 'host'] as const) if (typeof o[k] === 'string') out[k] = o[k];
  if (typeof o.port === 'number') out.port = o.port;
  return out;
}

contextBridge.exposeInMainWorld('ecosym', bridge);
