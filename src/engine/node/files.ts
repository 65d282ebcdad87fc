/**
 * Files the engine reads and writes in Node: patches, data series, samples, WAVs.
 * Writes are atomic (write a temporary file, then rename), so a crash never
 * leaves a half-written file where a user's file was.
 */
import { existsSync, readdirSync, readFileSync, renameSync, writeFileSync, mkdirSync, unlinkSync } from 'node:fs';
import { basename, dirname, extname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parsePatchOrThrow } from '../core/patchLoader.ts';
import type { Patch } from '../core/patchSchema.ts';

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

/** A patch loaded from disk, with the folder its relative paths resolve against. */
export interface PatchFile {
  file: string;
  dir: string;
  patch: Patch;
}

/** Reads and validates a patch file (YAML or JSON); throws PatchValidationError listing every problem. */
export function loadPatchFile(file: string): PatchFile {
  const text = readFileSync(file, 'utf8');
  return { file, dir: dirname(resolve(file)), patch: parsePatchOrThrow(text, file) };
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

/** Decodes every sample a patch names, keyed by the path as written in the patch. */
export async function loadPatchSamples(pf: PatchFile, ctx: BaseAudioContext): Promise<Map<string, AudioBuffer>> {
  const out = new Map<string, AudioBuffer>();
  for (const [vname, v] of Object.entries(pf.patch.voices)) {
    for (const path of Object.values(v.samples ?? {})) {
      if (out.has(path)) continue;
      const abs = resolveFrom(pf.dir, path);
      let bytes: Buffer;
      try {
        bytes = readFileSync(abs);
      } catch {
        throw new Error(`${pf.file}: voices.${vname}.samples: cannot read "${path}" (looked at ${abs})`);
      }
      const copy = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
      out.set(path, await ctx.decodeAudioData(copy));
    }
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
