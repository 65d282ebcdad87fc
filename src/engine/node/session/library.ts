/**
 * The patch library a session offers its UI: the built-in patches and the
 * user's own folder (`--patches-dir`, by default the platform's data folder
 * from env-paths), each with its description and streams; copying a built-in
 * into the user's folder to edit it; data files put into that folder to bind a
 * stream to; and the checks a patch's text passes before it is saved there.
 *
 * Every file is written atomically (a temporary file, then rename), only
 * inside the user's folder (or the file of the patch opened), under a name
 * made safe here: a client never chooses where bytes land.
 */
import { existsSync, mkdirSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname, extname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import envPaths from 'env-paths';
import { isMap, isScalar, parseDocument } from 'yaml';
import { parsePatchText, type PatchError } from '../../core/patchLoader.ts';
import { checkPatchText as checkText } from '../patchCheck.ts';
import type { Patch } from '../../core/patchSchema.ts';
import { parseSourceUri } from '../../core/sources/uri.ts';
import { listBuiltinPatchFiles, PATCHES_DIR, PROJECT_ROOT, patchId, readFileCapped, writeFileAtomic, type PatchFile } from '../files.ts';
import { MAX_PATCH_BYTES } from '../../core/patchLoader.ts';
import type { LibraryEntry, LibraryStream, TextError } from '../../../shared/protocol.ts';

/** The user's patch folder when none is given: `<data dir>/patches` (e.g. ~/.local/share/eco-symphony/patches). */
export function defaultPatchesDir(): string {
  return join(envPaths('eco-symphony', { suffix: '' }).data, 'patches');
}

/** Largest data file put into the user's folder through the protocol (it travels in one message). */
export const MAX_UPLOAD_CHARS = 250 * 1024;
/** Data files go into this subfolder of the user's patch folder. */
export const DATA_SUBDIR = 'data';

export type { LibraryEntry, LibraryStream, TextError };

function streamsOf(patch: Patch, dir: string): LibraryStream[] {
  return Object.entries(patch.streams).map(([name, s]) => {
    const out: LibraryStream = { name, ...(s.description ? { description: s.description } : {}), ...(s.unit ? { unit: s.unit } : {}) };
    if (s.source) {
      out.source = s.source;
      try {
        const spec = parseSourceUri(s.source);
        if (spec.kind === 'file') {
          const path = resolve(dir, spec.path);
          const exists = existsSync(path);
          out.file = { path, exists, ...(exists ? { bytes: statSync(path).size } : {}) };
        }
      } catch {
        // a bad URI shows when the patch is validated
      }
    }
    return out;
  });
}

function entryFor(file: string, builtin: boolean): LibraryEntry {
  const key = builtin ? `builtin:${patchId(file)}` : `user:${basename(file)}`;
  const ref = builtin ? { id: patchId(file) } : { path: file };
  let text: string;
  try {
    text = readFileCapped(file, MAX_PATCH_BYTES).toString('utf8');
  } catch (e) {
    return { key, builtin, ref, path: file, name: patchId(file), streams: [], error: `cannot read: ${(e as Error).message}` };
  }
  const r = parsePatchText(text, file);
  if (!r.ok) {
    const first = r.errors[0]!;
    return { key, builtin, ref, path: file, name: patchId(file), streams: [], error: `${first.line ? `line ${first.line}: ` : ''}${first.path ? `${first.path}: ` : ''}${first.message}` };
  }
  return { key, builtin, ref, path: file, name: r.patch.name, ...(r.patch.description ? { description: r.patch.description.trim() } : {}), streams: streamsOf(r.patch, dirname(file)) };
}

/** The patch files in the user's folder (not its data subfolder), sorted. */
export function listUserPatchFiles(userDir: string): string[] {
  if (!existsSync(userDir)) return [];
  return readdirSync(userDir)
    .filter((f) => /\.(ya?ml|json)$/i.test(f) && !f.startsWith('.'))
    .sort()
    .map((f) => join(userDir, f));
}

/** Built-in patches then the user's, each described. */
export function listLibrary(userDir: string): { userDir: string; patches: LibraryEntry[] } {
  return { userDir, patches: [...listBuiltinPatchFiles().map((f) => entryFor(f, true)), ...listUserPatchFiles(userDir).map((f) => entryFor(f, false))] };
}

/**
 * A file name made safe: letters, digits, `-`, `_` and `.` only, no leading
 * dot, at most 80 characters, with one of the extensions allowed (the first
 * when it has none of them).
 */
export function sanitizeFileName(name: string, extensions: readonly string[]): string {
  const base = basename(name.replace(/\\/g, '/'));
  let ext = extname(base).toLowerCase();
  let stem = ext ? base.slice(0, -ext.length) : base;
  if (!extensions.includes(ext)) {
    stem = base;
    ext = extensions[0]!;
  }
  stem = stem
    .normalize('NFKD')
    .replace(/[^\w.-]+/g, '-')
    .replace(/^[.-]+/, '')
    .replace(/-+/g, '-')
    .slice(0, 80);
  return `${stem || 'file'}${ext}`;
}

/** `name.yaml`, or `name-2.yaml`, `name-3.yaml`… the first not taken in `dir`. */
export function uniqueName(dir: string, name: string): string {
  const ext = extname(name);
  const stem = name.slice(0, name.length - ext.length);
  for (let i = 1; ; i++) {
    const candidate = i === 1 ? name : `${stem}-${i}${ext}`;
    if (!existsSync(join(dir, candidate))) return candidate;
  }
}

/** Is `file` inside `folder` (both resolved, symbolic links followed where they exist)? */
export function isInsideFolder(file: string, folder: string): boolean {
  const real = (p: string) => {
    // The file may not exist yet: resolve its folder.
    try {
      return realpathSync(p);
    } catch {
      try {
        return join(realpathSync(dirname(p)), basename(p));
      } catch {
        return resolve(p);
      }
    }
  };
  const rel = relative(real(folder), real(file));
  return rel !== '' && !rel.startsWith('..' + sep) && rel !== '..' && !isAbsolute(rel);
}

/**
 * A built-in patch's text rewritten to live in another folder: relative file
 * sources, samples and `$schema` become absolute (comments and layout kept).
 */
export function relocatePatchText(text: string, fromDir: string): string {
  const doc = parseDocument(text);
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(fromDir, p));
  if (isMap(doc.contents)) {
    const schema = doc.get('$schema');
    if (typeof schema === 'string' && !/^[a-z]+:/i.test(schema)) doc.set('$schema', abs(schema));
  }
  const streams = doc.get('streams', true);
  if (isMap(streams)) {
    for (const pair of streams.items) {
      const name = isScalar(pair.key) ? String(pair.key.value) : undefined;
      if (name === undefined) continue;
      const src = doc.getIn(['streams', name, 'source']);
      if (typeof src !== 'string') continue;
      try {
        const spec = parseSourceUri(src);
        if (spec.kind !== 'file' || isAbsolute(spec.path) || /^file:/i.test(src)) continue;
        doc.setIn(['streams', name, 'source'], abs(spec.path) + src.slice(spec.path.length));
      } catch {
        // left as it is: validation reports it
      }
    }
  }
  const voices = doc.get('voices', true);
  if (isMap(voices)) {
    for (const vp of voices.items) {
      const voice = isScalar(vp.key) ? String(vp.key.value) : undefined;
      const samples = voice === undefined ? undefined : doc.getIn(['voices', voice, 'samples'], true);
      if (!isMap(samples)) continue;
      for (const sp of samples.items) if (isScalar(sp.value) && typeof sp.value.value === 'string') sp.value.value = abs(sp.value.value);
    }
  }
  return doc.toString({ lineWidth: 0 });
}

/** Copies a built-in patch into the user's folder under a free name; returns the new file. */
export function duplicateBuiltin(id: string, userDir: string): string {
  const found = listBuiltinPatchFiles().find((f) => patchId(f) === id);
  if (!found) throw new Error(`no built-in patch "${id}" (patches: ${listBuiltinPatchFiles().map(patchId).join(', ')})`);
  mkdirSync(userDir, { recursive: true });
  const text = relocatePatchText(readFileCapped(found, MAX_PATCH_BYTES).toString('utf8'), dirname(found));
  const file = join(userDir, uniqueName(userDir, sanitizeFileName(basename(found), ['.yaml', '.yml', '.json'])));
  writeFileAtomic(file, text);
  return file;
}

/** Puts a data file's text into `<userDir>/data` under a safe, free name; returns its path. */
export function saveDataFile(userDir: string, name: string, text: string): string {
  if (text.length > MAX_UPLOAD_CHARS) throw new Error(`${name}: ${text.length} characters, over the ${MAX_UPLOAD_CHARS}-character limit for a data file sent to the session`);
  const dir = join(userDir, DATA_SUBDIR);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, uniqueName(dir, sanitizeFileName(name, ['.csv', '.tsv', '.json', '.ndjson', '.geojson'])));
  writeFileAtomic(file, text);
  return file;
}

function textError(e: PatchError): TextError {
  return { ...(e.line === undefined ? {} : { line: e.line }), ...(e.column === undefined ? {} : { column: e.column }), path: e.path, message: e.message };
}

/**
 * Checks a patch's text as loading it would, with the check `validate` and
 * hot reload use (node/patchCheck.ts: the schema with core/patchLoader's
 * messages, midi references, samples, source URIs), each error with its line
 * and column. `file` is where the text is (or would be) saved.
 */
export function checkPatchText(text: string, file: string, overrides?: ReadonlyMap<string, string>): { ok: true; pf: PatchFile } | { ok: false; errors: TextError[] } {
  const r = checkText(text, file, overrides);
  return r.ok ? r : { ok: false, errors: r.errors.map(textError) };
}

/** The folder of the built-in patches (read-only: edit a duplicate). */
export function isBuiltinFile(file: string): boolean {
  return isInsideFolder(file, PATCHES_DIR) || resolve(file).startsWith(resolve(PROJECT_ROOT, 'patches') + sep);
}
