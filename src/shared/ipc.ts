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
 * A connection to the live session, in the renderer: the session protocol of
 * `protocol.ts` both ways (commands in; `hello`, replies, events, telemetry and
 * host status out, one object per message). The preload wraps the
 * `MessagePort` main hands over in this small object, because `contextBridge`
 * copies what it exposes and cannot pass a port itself; messages arrive as
 * plain copies, never Node or IPC objects.
 */
export interface SessionPort {
  /** Sends one command (an object, or its JSON text). */
  postMessage(message: unknown): void;
  /** Receives every message from the session; returns the unsubscribe function. */
  addEventListener(type: 'message', fn: (data: unknown) => void): () => void;
  /** Closes this connection (the session plays on). */
  close(): void;
}

/** A file the app opened lately (newest first in {@link Bridge.recentFiles}). */
export interface RecentFile {
  path: string;
  /** When it was last opened, epoch ms. */
  openedAt: number;
}

/** Where remote access listens: an address of this machine (0.0.0.0: every network interface) and a port. */
export interface RemoteAccessAddress {
  host: string;
  port: number;
}

/** The desktop app's remote access (Settings' switch): a server for tablets on the network. */
export interface RemoteAccessState {
  on: boolean;
  /** The address set (listened on while on; remembered across runs). */
  host?: string;
  port?: number;
  /** While on: the address to open, with the control token. */
  url?: string;
  token?: string;
  /** While on: the read-only audience view's address. */
  viewUrl?: string;
  /** The address listened on (0.0.0.0: every interface). */
  bound?: string;
  /** Why it is off although switched on (the port is in use…). */
  error?: string;
}

/**
 * What the renderer can ask of the rest of the app, exposed by the preload as
 * `window.ecosym`. Named, typed functions only: never a raw `ipcRenderer`.
 */
export interface Bridge {
  /** Versions of the app and of Electron. */
  getVersion(): Promise<VersionInfo>;
  /**
   * A connection to the session in the audio host process (no TCP port):
   * first the host's status, then `hello` with the snapshot once it plays.
   * Survives restarts of the audio host (status `restarting`, then `playing`).
   */
  openSessionPort(): Promise<SessionPort>;
  /** Shows the open-patch dialog; resolves with the patch loaded, or null when cancelled. */
  openPatchDialog(): Promise<string | null>;
  /** Patches opened lately, newest first. */
  recentFiles(): Promise<RecentFile[]>;
  /** Loads one of them (a path from {@link recentFiles}). */
  openRecent(path: string): Promise<void>;
  /** Remote access now. */
  remoteAccess(): Promise<RemoteAccessState>;
  /** Switches remote access on or off; resolves with the state after. */
  setRemoteAccess(on: boolean): Promise<RemoteAccessState>;
  /** Sets remote access's address (checked; while on, the server moves there); resolves with the state after. */
  setRemoteAddress(address: RemoteAccessAddress): Promise<RemoteAccessState>;
}

/**
 * IPC channel name for each {@link Bridge} method, invoked with
 * `ipcRenderer.invoke` and answered with `ipcMain.handle`.
 */
export const IpcChannel = {
  getVersion: 'app:getVersion',
  openSessionPort: 'session:openPort',
  openPatchDialog: 'app:openPatchDialog',
  recentFiles: 'app:recentFiles',
  openRecent: 'app:openRecent',
  remoteAccess: 'app:remoteAccess',
  setRemoteAccess: 'app:setRemoteAccess',
  setRemoteAddress: 'app:setRemoteAddress',
} as const satisfies Record<keyof Bridge, string>;

/** Channel names by bridge method, as literal types. */
export type IpcChannels = typeof IpcChannel;

/** Any IPC channel name of the app. */
export type IpcChannelName = IpcChannels[keyof IpcChannels];

/** Main → renderer: the `MessagePort` asked for by {@link Bridge.openSessionPort} (one port per message). */
export const SESSION_PORT_CHANNEL = 'session:port';

