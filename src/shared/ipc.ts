/**
 * IPC contract between the Electron main process, the preload bridge and the
 * renderer. Types only, plus the channel names: no runtime dependencies, so
 * every process (and a future WebSocket transport that implements the same
 * {@link Bridge}) can import it.
 *
 * Keep the surface small: every channel is an attack surface that main must
 * validate (sender frame and payload) before acting. See docs/RELIABILITY.md.
 */

/** Versions reported by {@link Bridge.getVersion}. */
export interface VersionInfo {
  /** The app's version from package.json, e.g. "0.1.0". */
  app: string;
  /** The Electron runtime version, e.g. "45.5.0". */
  electron: string;
}

/**
 * What the renderer can ask of the rest of the app, exposed by the preload as
 * `window.ecosym`. Named, typed functions only: never a raw `ipcRenderer`.
 */
export interface Bridge {
  /** Versions of the app and of Electron. */
  getVersion(): Promise<VersionInfo>;
}

/**
 * IPC channel name for each {@link Bridge} method, invoked with
 * `ipcRenderer.invoke` and answered with `ipcMain.handle`.
 */
export const IpcChannel = {
  getVersion: 'app:getVersion',
} as const satisfies Record<keyof Bridge, string>;

/** Channel names by bridge method, as literal types. */
export type IpcChannels = typeof IpcChannel;

/** Any IPC channel name of the app. */
export type IpcChannelName = IpcChannels[keyof IpcChannels];
