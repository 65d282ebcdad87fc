/**
 * The bounded on-disk cache every live source keeps: the recent history of
 * what it received, in the recording format (`ecosym record`'s CSV), so a
 * restart continues where it was and the "replay" stale policy has something
 * to play. Appends are buffered and flushed each second; when the file holds
 * twice `maxRows`, it is rewritten with the newest `maxRows` (write, then
 * rename). A line torn by a crash is skipped when read.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { formatRecordingRow, parseRecording, RECORDING_HEADER, type RecordingRow } from '../../core/sources/records.ts';
import { writeFileAtomic } from '../files.ts';

/** Where caches live: $ECOSYM_CACHE_DIR, else $XDG_CACHE_HOME/eco-symphony/feeds, else ~/.cache/eco-symphony/feeds. */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.ECOSYM_CACHE_DIR) return env.ECOSYM_CACHE_DIR;
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'eco-symphony', 'feeds');
}

export class FeedCache {
  readonly file: string;
  private buffer: string[] = [];
  private rows = 0;
  private timer: NodeJS.Timeout | undefined;
  /** Write failures (a full disk must not stop the sound). */
  errors = 0;

  constructor(
    dir: string,
    readonly stream: string,
    uri: string,
    readonly maxRows = 20_000,
  ) {
    const key = createHash('sha256').update(`${stream}\n${uri}`).digest('hex').slice(0, 16);
    this.file = join(dir, `${stream}-${key}.csv`);
    mkdirSync(dir, { recursive: true });
  }

  /** The cached rows, oldest first (empty when there is no cache yet). */
  load(): RecordingRow[] {
    if (!existsSync(this.file)) return [];
    try {
      const { rows } = parseRecording(readFileSync(this.file, 'utf8'));
      this.rows = rows.length;
      return rows;
    } catch {
      this.errors++;
      return [];
    }
  }

  append(row: RecordingRow): void {
    this.buffer.push(formatRecordingRow(row));
    this.timer ??= setTimeout(() => this.flush(), 1000);
  }

  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.buffer.length === 0) return;
    const lines = this.buffer;
    this.buffer = [];
    try {
      if (!existsSync(this.file)) appendFileSync(this.file, RECORDING_HEADER + '\n');
      appendFileSync(this.file, lines.join('\n') + '\n');
      this.rows += lines.length;
      if (this.rows > 2 * this.maxRows) this.compact();
    } catch {
      this.errors++;
    }
  }

  private compact(): void {
    const rows = parseRecording(readFileSync(this.file, 'utf8')).rows.slice(-this.maxRows);
    writeFileAtomic(this.file, [RECORDING_HEADER, ...rows.map(formatRecordingRow)].join('\n') + '\n');
    this.rows = rows.length;
  }

  close(): void {
    this.flush();
  }
}
