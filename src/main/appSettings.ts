/**
 * The desktop app's settings file (`settings.json` in the user's data folder):
 * what the app remembers across runs that is not a patch: remote access on or
 * off and its address. Written atomically (a temporary file renamed over it);
 * a file that is corrupt or not ours is set aside with a line saying so, and
 * the defaults are used. A field that is wrong alone falls back to its default
 * with a line; the others are kept.
 */
import { existsSync, readFileSync, renameSync } from 'node:fs';
import type { RemoteAccessAddress } from '../shared/ipc.ts';
import { writeFileAtomic } from '../engine/node/files.ts';
import { DEFAULT_REMOTE_ADDRESS, remoteAddressProblem } from './remoteAccess.ts';

export interface RemoteSettings extends RemoteAccessAddress {
  /** Switched on when the app last ran (it is switched on again at start). */
  on: boolean;
}

export interface Settings {
  remote: RemoteSettings;
}

export function defaultSettings(): Settings {
  return { remote: { on: false, ...DEFAULT_REMOTE_ADDRESS } };
}

export class AppSettings {
  private data: Settings;

  constructor(
    readonly file: string,
    private readonly log: (line: string) => void = () => undefined,
  ) {
    this.data = this.read();
  }

  get remote(): RemoteSettings {
    return { ...this.data.remote };
  }

  /** Remembers remote access (saved at once). */
  setRemote(r: RemoteSettings): void {
    const problem = remoteAddressProblem(r);
    if (problem) throw new Error(problem);
    this.data = { ...this.data, remote: { on: r.on === true, host: r.host, port: r.port } };
    this.save();
  }

  private read(): Settings {
    const out = defaultSettings();
    if (!existsSync(this.file)) return out;
    let data: unknown;
    try {
      data = JSON.parse(readFileSync(this.file, 'utf8'));
    } catch (e) {
      return this.setAside(`not JSON (${(e as Error).message})`);
    }
    if (typeof data !== 'object' || data === null || Array.isArray(data)) return this.setAside('not a settings object');
    const r = (data as { remote?: unknown }).remote;
    if (r === undefined) return out;
    if (typeof r !== 'object' || r === null) {
      this.log(`settings: ${this.file}: "remote" is not an object; remote access uses its defaults`);
      return out;
    }
    const { on, host, port } = r as Record<string, unknown>;
    if (typeof on === 'boolean') out.remote.on = on;
    else if (on !== undefined) this.log(`settings: ${this.file}: remote.on must be true or false; using off`);
    const address = { host: typeof host === 'string' ? host : out.remote.host, port: typeof port === 'number' ? port : out.remote.port };
    const problem = remoteAddressProblem(address);
    if (problem || (host !== undefined && typeof host !== 'string') || (port !== undefined && typeof port !== 'number'))
      this.log(`settings: ${this.file}: remote address: ${problem ?? 'host must be text and port a number'}; using ${out.remote.host}:${out.remote.port}`);
    else Object.assign(out.remote, address);
    return out;
  }

  private setAside(why: string): Settings {
    const aside = `${this.file}.corrupt`;
    try {
      renameSync(this.file, aside);
      this.log(`settings: ${this.file}: ${why}; set aside as ${aside}, using the defaults`);
    } catch {
      this.log(`settings: ${this.file}: ${why}; using the defaults`);
    }
    return defaultSettings();
  }

  private save(): void {
    try {
      writeFileAtomic(this.file, `${JSON.stringify(this.data, null, 2)}\n`);
    } catch (e) {
      this.log(`settings: could not save ${this.file}: ${(e as Error).message}`);
    }
  }
}
