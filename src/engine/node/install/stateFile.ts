/**
 * The state file of an installation: where the show is (playlist cursor,
 * patch, scene, restarts), so a restarted supervisor resumes it. Written
 * atomically (a temporary file in the same folder, fsync, rename, fsync of the
 * folder), so a power cut or a kill mid-write leaves the old state or the new
 * one, never half of one. A file that is corrupt, truncated, of another format
 * or from the future is ignored with a log line: the playlist starts over.
 */
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { z } from 'zod';

export const STATE_VERSION = 1;

const StateSchema = z.object({
  version: z.literal(STATE_VERSION),
  /** Epoch ms the state was written. */
  savedAt: z.number(),
  show: z.string(),
  cursor: z.object({ playlist: z.string(), index: z.number().int().min(0), startedAt: z.number() }).optional(),
  patch: z.string().optional(),
  scene: z.string().optional(),
  restarts: z.number().int().min(0).default(0),
  /** Patches skipped (crash loops) → until when, epoch ms. */
  skipped: z.record(z.string(), z.number()).default({}),
});

export type InstallState = z.output<typeof StateSchema>;

/** Writes `state` to `file` atomically. `beforeRename` is a fault-injection point for tests. */
export function writeStateFile(file: string, state: InstallState, hooks: { beforeRename?: () => void } = {}): void {
  const dir = dirname(file);
  const tmp = join(dir, `.${basename(file)}.${process.pid}.tmp`);
  const text = JSON.stringify(state) + '\n';
  const fd = openSync(tmp, 'w', 0o644);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    hooks.beforeRename?.();
    renameSync(tmp, file);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
  // The rename itself is durable once the folder is synced (not possible on every platform).
  try {
    const dfd = openSync(dir, 'r');
    try {
      fsyncSync(dfd);
    } finally {
      closeSync(dfd);
    }
  } catch {
    // Windows cannot open a folder: the rename is as durable as the platform makes it.
  }
}

/** Reads the state file: the state, or undefined (none yet, or unreadable: then `log` says why). */
export function readStateFile(file: string, log: (line: string) => void = () => {}): InstallState | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') log(`state file ${file}: cannot read it (${(e as Error).message}); the playlist starts over`);
    return undefined;
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    log(`state file ${file}: corrupt or truncated (${(e as Error).message}, ${text.length} bytes); ignored, the playlist starts over`);
    return undefined;
  }
  const r = StateSchema.safeParse(data);
  if (!r.success) {
    const i = r.error.issues[0]!;
    log(`state file ${file}: not a state of this version (${i.path.join('.') || 'the file'}: ${i.message}); ignored, the playlist starts over`);
    return undefined;
  }
  return r.data;
}
