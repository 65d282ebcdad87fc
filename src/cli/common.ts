/**
 * Shared pieces of the CLI commands: data bindings, levels, progress, errors.
 */
import { PatchValidationError, formatPatchError } from '../engine/core/patchLoader.ts';
import { gainToDb, parseDuration } from '../engine/core/units.ts';
import { peak, rms } from '../engine/core/analysis.ts';
import type { PatchFile } from '../engine/node/files.ts';
import { absolutizeFileUri, collectFeeds } from '../engine/node/sources/collect.ts';
import type { StreamFeed } from '../engine/node/render.ts';

/** An error the CLI prints as one clear message (no stack) with an exit code. */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly exitCode = 2,
  ) {
    super(message);
  }
}

/** Parses a `--duration` value ("60s", "2m", "90"). */
export function durationArg(value: string | undefined, fallback: number, flag = '--duration'): number {
  if (value === undefined) return fallback;
  const s = parseDuration(/^\d+(\.\d+)?$/.test(value) ? Number(value) : value);
  if (!Number.isFinite(s) || s <= 0) throw new UsageError(`${flag} "${value}": expected a duration like 60s, 2m or 90`);
  return s;
}

/** Parses a positive number flag. */
export function numberArg(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`${flag} "${value}": expected a positive number`);
  return n;
}

/**
 * `--data STREAM=URI` bindings as a map stream → URI, checked against the
 * patch's streams and parsed (so a bad URI fails before anything starts).
 * Relative file paths are made absolute against the working directory.
 */
export function dataOverrides(pf: PatchFile, bindings: string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const text of bindings) {
    const eq = text.indexOf('=');
    if (eq <= 0) throw new UsageError(`--data "${text}": expected STREAM=URI (a file like data.csv#COLUMN@TIME, http://…, ws://…, mqtt://…, osc://…, sim:…)`);
    const stream = text.slice(0, eq);
    if (!Object.hasOwn(pf.patch.streams, stream))
      throw new UsageError(`--data ${text}: the patch has no stream "${stream}" (streams: ${Object.keys(pf.patch.streams).join(', ')})`);
    try {
      out.set(stream, absolutizeFileUri(text.slice(eq + 1), process.cwd()));
    } catch (e) {
      throw new UsageError(`--data ${text}: ${(e as Error).message}`);
    }
  }
  return out;
}

/**
 * The data each stream plays in a render: `--data` bindings first, then the
 * patch's default sources, placed at `speed` (data seconds per audio second)
 * or spread over `duration`. Live feeds are captured for `duration` first.
 */
export async function streamFeeds(
  pf: PatchFile,
  bindings: string[],
  duration: number,
  speed?: number,
  onCapture?: (stream: string, uri: string) => void,
): Promise<{ feeds: StreamFeed[]; described: string[]; paces: string[] }> {
  const collected = await collectFeeds(pf.patch, pf.dir, dataOverrides(pf, bindings), { duration, speed, onCapture });
  return { feeds: collected.map((c) => c.feed), described: collected.map((c) => c.described), paces: collected.flatMap((c) => (c.pace ? [c.pace] : [])) };
}

/** dBFS with one decimal, "-inf" for silence. */
export function dbfs(linear: number): string {
  return linear > 0 ? `${gainToDb(linear).toFixed(1)} dBFS` : '-inf dBFS';
}

/** Peak and RMS over all channels. */
export function measure(channels: Float32Array[]): { peak: number; rms: number } {
  const power = channels.reduce((sum, ch) => sum + rms(ch) ** 2, 0) / Math.max(1, channels.length);
  return { peak: Math.max(0, ...channels.map((ch) => peak(ch))), rms: Math.sqrt(power) };
}

/** "1:05" or "1:02:05". */
export function clockTime(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const two = (n: number) => String(n).padStart(2, '0');
  return s >= 3600 ? `${Math.floor(s / 3600)}:${two(Math.floor(s / 60) % 60)}:${two(s % 60)}` : `${Math.floor(s / 60)}:${two(s % 60)}`;
}

/**
 * A one-line progress bar on a TTY (stderr), with the time left at the pace so far
 * once a few seconds of work give a pace; silent elsewhere. `stream` and `now` are
 * for tests.
 */
export function progressBar(
  label: string,
  stream: { isTTY?: boolean; write(s: string): unknown } = process.stderr,
  now: () => number = () => performance.now(),
): { update(done: number, total: number): void; end(): void } {
  const tty = stream.isTTY;
  let last = '';
  const started = now();
  return {
    update(done, total) {
      if (!tty) return;
      const pct = Math.floor((100 * done) / total);
      const elapsed = (now() - started) / 1000;
      const eta = done > 0 && elapsed >= 2 && done < total ? `, ${clockTime((elapsed * (total - done)) / done)} left` : '';
      const width = 30;
      const filled = Math.round((width * pct) / 100);
      const line = `\r${label} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${pct}%${eta}\x1b[K`;
      if (line === last) return;
      last = line;
      stream.write(line);
    },
    end() {
      if (tty) stream.write('\r\x1b[K');
    },
  };
}

/** Turns any thrown value into the message the CLI prints. */
export function describeError(e: unknown): string {
  if (e instanceof PatchValidationError) return e.errors.map(formatPatchError).join('\n');
  if (e instanceof Error) return e.message;
  return String(e);
}
