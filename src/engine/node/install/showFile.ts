/**
 * Reads a show file from disk and turns its patch names into the protocol's
 * patch references (a built-in name, or a file relative to the show file).
 */
import { readFileSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { PatchValidationError } from '../../core/patchLoader.ts';
import { parseShowText, type ShowFile } from '../../core/showSchema.ts';
import type { PatchRef } from '../../../shared/protocol.ts';

export interface LoadedShow {
  file: string;
  dir: string;
  show: ShowFile;
  /** Where the state file goes. */
  stateFile: string;
}

/** Reads and validates a show file; throws a PatchValidationError naming file, line and path. */
export function loadShowFile(path: string): LoadedShow {
  const file = resolve(path);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new Error(`cannot read the show file ${path}: ${(e as Error).message}`);
  }
  const r = parseShowText(text, path);
  if (!r.ok) throw new PatchValidationError(r.errors);
  const dir = dirname(file);
  const stateFile = r.show.state ? resolve(dir, r.show.state) : join(dir, `.${basename(file).replace(/\.(ya?ml|json)$/i, '')}.state.json`);
  return { file, dir, show: r.show, stateFile };
}

/** A playlist's patch as a protocol reference: a path (has a slash or a patch extension) or a built-in id. */
export function patchRefOf(patch: string, dir: string): PatchRef {
  if (/[\\/]/.test(patch) || /\.(ya?ml|json)$/i.test(patch)) return { path: isAbsolute(patch) ? patch : resolve(dir, patch) };
  return { id: patch };
}

/** The key a patch reference is known by in policies and the state file. */
export function patchRefKey(ref: PatchRef): string {
  return 'id' in ref ? ref.id : 'path' in ref ? ref.path : '<text>';
}
