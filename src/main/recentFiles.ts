/**
 * The app's recent patches: a small JSON file in the user's data folder,
 * newest first, without duplicates, at most {@link MAX_RECENT}. Written
 * atomically (a temporary file renamed over it), so a crash never leaves it
 * half written; a file that is corrupt or not ours is set aside with a line
 * saying so, and the list starts empty.
 */
import { existsSync, readFileSync, renameSync } from 'node:fs';
import { resolve } from 'node:path';
import type { RecentFile } from '../shared/ipc.ts';
import { writeFileAtomic } from '../engine/node/files.ts';

export const MAX_RECENT = 10;

export class RecentFiles {
  private items: RecentFile[] = [];

  constructor(
    readonly file: string,
    private readonly log: (line: string) => void = () => undefined,
    private readonly now: () => number = Date.now,
  ) {
    this.items = this.read();
  }

  private read(): RecentFile[] {
    if (!existsSync(this.file)) return [];
    let data: unknown;
    try {
      data = JSON.parse(readFileSync(this.file, 'utf8'));
    } catch (e) {
      return this.setAside(`not JSON (${(e as Error).message})`);
    }
    const list = (data as { recent?: unknown } | null)?.recent;
    if (!Array.isArray(list)) return this.setAside('no "recent" list');
    const ok = list.filter((x): x is RecentFile => typeof x?.path === 'string' && x.path.length > 0 && x.path.length <= 4096 && Number.isFinite(x?.openedAt));
    return ok.slice(0, MAX_RECENT).map((x) => ({ path: x.path, openedAt: x.openedAt }));
  }

  private setAside(why: string): RecentFile[] {
    const aside = `${this.file}.corrupt`;
    try {
      renameSync(this.file, aside);
      this.log(`recent files: ${this.file}: ${why}; set aside as ${aside}, starting an empty list`);
    } catch {
      this.log(`recent files: ${this.file}: ${why}; starting an empty list`);
    }
    return [];
  }

  /** Newest first; files that no longer exist are left out. */
  list(): RecentFile[] {
    return this.items.filter((x) => existsSync(x.path)).map((x) => ({ ...x }));
  }

  /** True when `path` is on the list (the only paths `openRecent` accepts). */
  has(path: string): boolean {
    return this.items.some((x) => x.path === resolve(path));
  }

  /** Puts a file first and saves the list. */
  add(path: string): void {
    const p = resolve(path);
    this.items = [{ path: p, openedAt: this.now() }, ...this.items.filter((x) => x.path !== p)].slice(0, MAX_RECENT);
    this.save();
  }

  clear(): void {
    this.items = [];
    this.save();
  }

  private save(): void {
    try {
      writeFileAtomic(this.file, `${JSON.stringify({ recent: this.items }, null, 2)}\n`);
    } catch (e) {
      this.log(`recent files: could not save ${this.file}: ${(e as Error).message}`);
    }
  }
}
