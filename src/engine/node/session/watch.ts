/**
 * Watches a set of files (a patch and the data files and samples it names)
 * and says, once the writes have settled, which of them changed.
 *
 * It watches the files' folders, not the files: an editor that saves by
 * writing a new file and renaming it over the old one (vim, most IDEs) leaves
 * a watch on the old file's inode deaf, while its folder sees the new name
 * arrive. Events are debounced (an editor's save is several events), and a
 * file counts as changed only when its identity, size or modification time
 * did, so touching a folder's other files costs nothing.
 */
import { watch, statSync, type FSWatcher } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';

export interface FileWatcherOptions {
  /** Quiet time after the last event before looking (ms; default 150). */
  debounceMs?: number;
  /** The files that changed since the last call (absolute paths). */
  onChange: (changed: string[]) => void;
  /** A folder that cannot be watched (it does not exist, too many watches). */
  onError?: (e: Error) => void;
}

/** What a file is now: its inode, size and modification time, or missing. */
function signature(file: string): string {
  try {
    const st = statSync(file);
    return `${st.ino}:${st.size}:${st.mtimeMs}`;
  } catch {
    return 'missing';
  }
}

export class FileWatcher {
  /** Watched file → its last signature. */
  private readonly files = new Map<string, string>();
  /** Folder → its watcher. */
  private readonly dirs = new Map<string, FSWatcher>();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private closed = false;

  constructor(private readonly opts: FileWatcherOptions) {}

  /** The files watched now. */
  get watched(): string[] {
    return [...this.files.keys()];
  }

  /**
   * Watches exactly these files (replacing the previous set). A file that
   * was already watched keeps its signature, so a change made while the set
   * was being replaced is still seen.
   */
  setFiles(paths: readonly string[]): void {
    if (this.closed) return;
    const next = new Set(paths.map((p) => resolve(p)));
    for (const f of [...this.files.keys()]) if (!next.has(f)) this.files.delete(f);
    for (const f of next) if (!this.files.has(f)) this.files.set(f, signature(f));
    const wanted = new Set([...next].map((f) => dirname(f)));
    for (const [d, w] of [...this.dirs]) {
      if (wanted.has(d)) continue;
      w.close();
      this.dirs.delete(d);
    }
    for (const d of wanted) {
      if (this.dirs.has(d)) continue;
      try {
        const w = watch(d, { persistent: false }, (_event, name) => this.event(d, name));
        w.on('error', (e) => this.opts.onError?.(e));
        this.dirs.set(d, w);
      } catch (e) {
        this.opts.onError?.(new Error(`cannot watch ${d}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`));
      }
    }
  }

  private event(dir: string, name: string | Buffer | null): void {
    // No name (some platforms): anything in the folder may have changed.
    if (name !== null && !this.files.has(resolve(dir, basename(name.toString())))) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.settle(), this.opts.debounceMs ?? 150);
  }

  /** Compares every file with its signature; reports those that changed. */
  private settle(): void {
    this.timer = undefined;
    if (this.closed) return;
    const changed: string[] = [];
    for (const [f, sig] of this.files) {
      const now = signature(f);
      if (now === sig) continue;
      this.files.set(f, now);
      changed.push(f);
    }
    if (changed.length) this.opts.onChange(changed);
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    for (const w of this.dirs.values()) w.close();
    this.dirs.clear();
  }
}
