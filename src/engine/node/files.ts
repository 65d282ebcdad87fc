/**
 * Files the engine reads and writes in Node: patches, data series, samples, WAVs.
 * Writes are atomic (write a temporary file, then rename), so a crash never
 * leaves a half-written file where a user's file was.
 */
import { closeSync, constants, existsSync, fstatSync, openSync, readdirSync, readSync, realpathSync, renameSync, statSync, writeFileSync, mkdirSync, unlinkSync } from 'node:fs';
import { basename, delimiter, dirname, extname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatPatchError, formatPath, MAX_PATCH_BYTES, parsePatchText, PatchValidationError, type PatchError, type PatchResult } from '../core/patchLoader.ts';
import type { Patch } from '../core/patchSchema.ts';
import { releaseOfflineContext } from './platform/release.ts';

/**
 * The project root (where package.json, patches/ and samples/ are): the nearest
 * folder above this module that has both, so it is found from the sources and
 * from the CLI bundled into dist/cli/ alike.
 */
export const PROJECT_ROOT = projectRoot(dirname(fileURLToPath(import.meta.url)));

function projectRoot(from: string): string {
  for (let dir = from; dirname(dir) !== dir; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'patches'))) return dir;
  }
  return resolve(from, '../../..');
}
/** Built-in patches. */
export const PATCHES_DIR = join(PROJECT_ROOT, 'patches');
/** Built-in samples: always a sample folder. */
export const SAMPLES_DIR = join(PROJECT_ROOT, 'samples');
/** Largest sample file (about 6 minutes of 48 kHz 24-bit stereo). */
export const MAX_SAMPLE_BYTES = 100 * 1024 * 1024;

/** A problem found in a patch after parsing (a sample missing): its message is the one-line form, `error` the parts. */
export class PatchFileError extends Error {
  constructor(readonly error: PatchError) {
    super(formatPatchError(error));
    this.name = 'PatchFileError';
  }
}

/** A patch loaded from disk, with the folder its relative paths resolve against. */
export interface PatchFile {
  file: string;
  dir: string;
  patch: Patch;
  /** The line of a path in the patch (`['voices', 'drops', 'samples', 'C6']`), when known. */
  lineOf?: (path: readonly PropertyKey[]) => number | undefined;
}

/**
 * Reads a file of at most `max` bytes: regular files only (a device such as
 * /dev/zero or a pipe would never end), checked on the open descriptor, and
 * read with the cap (a file growing while read is refused too). Throws a plain
 * message (the caller says which file): `not a regular file`, `N bytes, over
 * the M-byte limit`, or the system's error code.
 */
export function readFileCapped(path: string, max: number): Buffer {
  // Non-blocking, so opening a FIFO does not wait for a writer; it is refused below.
  const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new Error('not a regular file');
    if (st.size > max) throw new Error(`${st.size} bytes, over the ${max}-byte limit`);
    const buf = Buffer.alloc(st.size + 1);
    let got = 0;
    for (;;) {
      const n = readSync(fd, buf, got, buf.length - got, null);
      if (n === 0) break;
      got += n;
      if (got > st.size) throw new Error(`grew while being read, past its size of ${st.size} bytes`);
    }
    return buf.subarray(0, got);
  } finally {
    closeSync(fd);
  }
}

function errnoText(e: unknown): string {
  return (e as NodeJS.ErrnoException).code ?? (e as Error).message ?? String(e);
}

/** Reads and validates a patch file (YAML or JSON); throws PatchValidationError listing every problem. */
export function loadPatchFile(file: string): PatchFile {
  const r = readPatchResult(file);
  if (!r.ok) throw new PatchValidationError(r.errors);
  return { file, dir: dirname(resolve(file)), patch: r.patch, lineOf: r.lineOf };
}

/** Reads (regular files up to {@link MAX_PATCH_BYTES}) and validates a patch file; problems as a result. */
export function readPatchResult(file: string): PatchResult {
  let text: string;
  try {
    text = readFileCapped(file, MAX_PATCH_BYTES).toString('utf8');
  } catch (e) {
    return { ok: false, errors: [{ file, path: '', message: `cannot read: ${errnoText(e)}` }] };
  }
  return parsePatchText(text, file);
}

/** Resolves a patch name ("ambient") or a path to a patch file. */
export function resolvePatchPath(nameOrPath: string): string {
  if (/\.(ya?ml|json)$/i.test(nameOrPath) || nameOrPath.includes('/')) return nameOrPath;
  for (const ext of ['.yaml', '.yml', '.json']) {
    const candidate = join(PATCHES_DIR, nameOrPath + ext);
    if (existsSync(candidate)) return candidate;
  }
  return nameOrPath;
}

/** Built-in patch files, sorted by name. */
export function listBuiltinPatchFiles(): string[] {
  return readdirSync(PATCHES_DIR)
    .filter((f) => /\.(ya?ml|json)$/i.test(f))
    .sort()
    .map((f) => join(PATCHES_DIR, f));
}

/** Name of a patch file without folder and extension. */
export function patchId(file: string): string {
  return basename(file, extname(file));
}

/** Resolves a path written in a patch against the patch's folder. */
export function resolveFrom(dir: string, path: string): string {
  return isAbsolute(path) ? path : resolve(dir, path);
}

/**
 * The folders a patch's samples may come from: the patch's own folder, the
 * built-in samples/, and the folders in `ECOSYM_SAMPLES_DIR` (separated by
 * the system's path delimiter, `:` or `;`). A patch is meant to be shared: it
 * must not read whatever file it names.
 */
export function sampleFolders(patchDir: string, env: NodeJS.ProcessEnv = process.env): string[] {
  const extra = (env.ECOSYM_SAMPLES_DIR ?? '').split(delimiter).filter((d) => d.trim() !== '');
  return [patchDir, SAMPLES_DIR, ...extra.map((d) => resolve(d))];
}

function realOrSelf(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

function isInside(file: string, folder: string): boolean {
  const rel = relative(folder, file);
  return rel !== '' && !rel.startsWith('..' + sep) && rel !== '..' && !isAbsolute(rel);
}

/** One sample a patch names, where it is written. */
export interface SampleRef {
  voice: string;
  note: string;
  /** As written in the patch. */
  path: string;
}

/** Every sample a patch names. */
export function patchSamples(patch: Patch): SampleRef[] {
  return Object.entries(patch.voices).flatMap(([voice, v]) => Object.entries(v.samples ?? {}).map(([note, path]) => ({ voice, note, path })));
}

/**
 * Where a sample of a patch is, checked: it resolves (symbolic links followed)
 * inside one of the {@link sampleFolders}, and is a regular file of at most
 * `maxBytes`. Throws an error naming the patch file, the line and the path in
 * the patch (`voices.drops.samples.C6`) and what is wrong.
 */
export function checkSample(pf: PatchFile, ref: SampleRef, opts: { env?: NodeJS.ProcessEnv; maxBytes?: number } = {}): string {
  const at = ['voices', ref.voice, 'samples', ref.note];
  const fail = (message: string) => new PatchFileError({ file: pf.file, line: pf.lineOf?.(at), path: formatPath(at), message });
  const abs = resolveFrom(pf.dir, ref.path);
  let real: string;
  try {
    real = realpathSync(abs);
  } catch (e) {
    throw fail(`cannot read "${ref.path}" (looked at ${abs}): ${errnoText(e)}`);
  }
  const folders = sampleFolders(pf.dir, opts.env);
  if (!folders.some((f) => isInside(real, realOrSelf(f))))
    throw fail(`"${ref.path}" is outside the folders samples may come from (${folders.join(', ')}); put it in one, or add its folder to ECOSYM_SAMPLES_DIR or --samples-dir`);
  let st;
  try {
    st = statSync(real);
  } catch (e) {
    throw fail(`cannot read "${ref.path}": ${errnoText(e)}`);
  }
  const max = opts.maxBytes ?? MAX_SAMPLE_BYTES;
  if (!st.isFile()) throw fail(`"${ref.path}" is not a regular file`);
  if (st.size > max) throw fail(`"${ref.path}" is ${st.size} bytes, over the ${max}-byte limit for a sample`);
  return real;
}

/**
 * Decodes every sample a patch names, keyed by the path as written in the
 * patch; each is checked by {@link checkSample}. Decoded at `sampleRate`
 * (48 kHz unless a render gives its own) in a decode context of its own, which
 * is released when done: node-web-audio-api never frees an offline context
 * otherwise (./platform/release.ts), and a session decodes at every patch load,
 * so a show that moves on every half hour kept one per load (measured: each
 * 400 decodes of a bell sample added ~42 MB RSS; released, RSS stays level).
 */
export async function loadPatchSamples(pf: PatchFile, opts: { sampleRate?: number; env?: NodeJS.ProcessEnv; maxBytes?: number } = {}): Promise<Map<string, AudioBuffer>> {
  const out = new Map<string, AudioBuffer>();
  const refs = patchSamples(pf.patch);
  if (refs.length === 0) return out;
  const ctx = new OfflineAudioContext(1, 128, opts.sampleRate ?? 48000);
  try {
    for (const ref of refs) {
      if (out.has(ref.path)) continue;
      const real = checkSample(pf, ref, opts);
      let bytes: Buffer;
      try {
        bytes = readFileCapped(real, opts.maxBytes ?? MAX_SAMPLE_BYTES);
      } catch (e) {
        throw new Error(formatPatchError({ file: pf.file, line: pf.lineOf?.(['voices', ref.voice, 'samples', ref.note]), path: formatPath(['voices', ref.voice, 'samples', ref.note]), message: `cannot read "${ref.path}": ${errnoText(e)}` }));
      }
      const copy = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
      out.set(ref.path, await ctx.decodeAudioData(copy));
    }
  } finally {
    releaseOfflineContext(ctx);
  }
  return out;
}

/** Writes a file atomically: a temporary file beside it, then rename. */
export function writeFileAtomic(path: string, data: Uint8Array | string): void {
  mkdirSync(dirname(resolve(path)), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, data);
    renameSync(tmp, path);
  } catch (e) {
    try {
      unlinkSync(tmp);
    } catch {
      // nothing to clean up
    }
    throw e;
  }
}
