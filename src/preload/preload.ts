/**
 * Preload bridge: exposes the typed {@link Bridge} to the renderer as
 * `window.ecosym`, with named functions only (never a raw `ipcRenderer`,
 * never Node objects or IPC events).
 *
 * This runs in a sandboxed renderer, where preloads cannot be ES modules and
 * `require` only knows 'electron' and a few built-ins: the file must stay
 * self-contained (type-only imports from src/shared) and is emitted as
 * CommonJS by tsconfig.preload.json.
 */
import { contextBridge, ipcRenderer } from 'electron';
import type { Bridge, IpcChannels, VersionInfo } from '../shared/ipc.ts';

// Restated as literals because a sandboxed preload cannot load src/shared at
// run time; the annotations make tsc fail if they drift from IpcChannel.
const GET_VERSION: IpcChannels['getVersion'] = 'app:getVersion';

const bridge: Bridge = {
  getVersion: async (): Promise<VersionInfo> => {
    const info = (await ipcRenderer.invoke(GET_VERSION)) as VersionInfo;
    return { app: String(info.app), electron: String(info.electron) };
  },
};

contextBridge.exposeInMainWorld('ecosym', bridge);
