/**
 * The installation's logs: pino JSON lines to stdout (systemd's journal) and to
 * rotated files (pino-roll: a file a day or every 10 MB, 14 kept), and
 * `ecosym logs` reading them back pretty (pino-pretty), filtered by level,
 * following the newest file.
 */
import { createReadStream, existsSync, readdirSync, statSync, watch } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { Transform } from 'node:stream';
import { pino, type Logger } from 'pino';
import { UsageError } from './common.ts';

const require = createRequire(import.meta.url);
const LOG_NAME = 'ecosym';
const LEVELS: Record<string, number> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60 };

/** The log folder of a show file: `logs/` beside it. */
export function logDirOf(showFile: string): string {
  return join(dirname(resolve(showFile)), 'logs');
}

/** Opens the logger: JSON lines to stdout and to rotated files in `dir`. */
export async function openInstallLog(dir: string, level = 'info'): Promise<Logger> {
  const roll = require('pino-roll') as (o: Record<string, unknown>) => Promise<NodeJS.WritableStream>;
  const file = await roll({ file: join(dir, LOG_NAME), extension: '.log', frequency: 'daily', size: '10m', mkdir: true, limit: { count: 14 } });
  return pino({ level, base: { pid: process.pid } }, pino.multistream([{ stream: process.stdout, level: level as pino.Level }, { stream: file, level: level as pino.Level }]));
}

/** The log files in `dir`, oldest first. */
export function logFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .map((f) => ({ f, n: Number(/^ecosym\.(\d+)\.log$/.exec(f)?.[1]) }))
    .filter((x) => Number.isFinite(x.n))
    .sort((a, b) => a.n - b.n)
    .map((x) => join(dir, x.f));
}

/** Keeps the JSON lines at `min` level or above (other lines pass). */
function levelFilter(min: number): Transform {
  let rest = '';
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      const lines = (rest + chunk.toString('utf8')).split('\n');
      rest = lines.pop() ?? '';
      const kept = lines.filter((l) => {
        if (!l.trim()) return false;
        try {
          return ((JSON.parse(l) as { level?: number }).level ?? 100) >= min;
        } catch {
          return true;
        }
      });
      done(null, kept.length ? kept.join('\n') + '\n' : '');
    },
  });
}

/**
 * `ecosym logs [show.yaml | DIR] [--follow] [--level warn] [--json]`: the log lines,
 * pretty unless --json. With --follow it keeps reading the newest file, and
 * moves to the next one when the log rolls.
 */
export async function logsCommand(where: string | undefined, o: { follow?: boolean; level?: string; json?: boolean }, out: NodeJS.WritableStream = process.stdout): Promise<void> {
  const dir = where === undefined ? resolve('logs') : existsSync(where) && statSync(where).isDirectory() ? resolve(where) : logDirOf(where);
  const min = LEVELS[o.level ?? 'trace'];
  if (min === undefined) throw new UsageError(`--level "${o.level}": expected one of ${Object.keys(LEVELS).join(', ')}`);
  const files = logFiles(dir);
  if (files.length === 0 && !o.follow) throw new UsageError(`no logs in ${dir} (ecosym run writes them beside the show file, in logs/)`, 1);
  const pretty = o.json ? undefined : ((await import('pino-pretty')).default as unknown as (o: Record<string, unknown>) => NodeJS.ReadWriteStream)({ colorize: out === process.stdout && process.stdout.isTTY, destination: out, sync: true });
  const sink = (): NodeJS.WritableStream => {
    const f = levelFilter(min);
    f.pipe((pretty ?? out) as NodeJS.WritableStream, { end: false });
    return f;
  };
  for (const file of o.follow ? files.slice(0, -1) : files) {
    await new Promise<void>((done, fail) => createReadStream(file).on('error', fail).on('end', done).pipe(sink(), { end: false }));
  }
  if (!o.follow) return;
  // Follow: read the newest file from where it is, then what is appended, and the next file when it rolls.
  let current = files.at(-1);
  let offset = 0;
  const filter = sink();
  const pump = () => {
    const newest = logFiles(dir).at(-1);
    if (newest && newest !== current) {
      current = newest;
      offset = 0;
    }
    if (!current || !existsSync(current)) return;
    const size = statSync(current).size;
    if (size <= offset) return;
    const from = offset;
    offset = size;
    createReadStream(current, { start: from, end: size - 1 }).pipe(filter, { end: false });
  };
  pump();
  if (existsSync(dir)) watch(dir, () => pump());
  setInterval(pump, 500);
  await new Promise(() => {});
}
