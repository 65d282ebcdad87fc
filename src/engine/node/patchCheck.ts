/**
 * Everything `ecosym validate` checks in a patch file, as a list of problems
 * (file, line, path, message): the patch's schema, its midi section's
 * references, its samples (they exist, inside the allowed folders, within the
 * size limit) and its streams' source URIs. The session's hot reload uses the
 * same check, so an author sees the same messages in both places.
 */
import { dirname, resolve } from 'node:path';
import type { PatchError, PatchResult } from '../core/patchLoader.ts';
import { formatPath, parsePatchText } from '../core/patchLoader.ts';
import { resolveMidi } from '../core/midi/config.ts';
import { parseSourceUri } from '../core/sources/uri.ts';
import { checkSample, PatchFileError, patchSamples, readPatchResult, type PatchFile } from './files.ts';

export type PatchCheck = { ok: true; pf: PatchFile } | { ok: false; errors: PatchError[] };

/**
 * Reads and checks a patch file. `overrides` (stream → URI) replace the
 * patch's own sources, as `--data` does, and are not checked here (their
 * host checked them). Never throws.
 */
export function checkPatchFile(file: string, overrides: ReadonlyMap<string, string> = new Map()): PatchCheck {
  return checkParsed(readPatchResult(file), file, overrides);
}

/** The same check on a patch's text, as it would be saved at `file` (relative paths resolve against its folder). */
export function checkPatchText(text: string, file: string, overrides: ReadonlyMap<string, string> = new Map()): PatchCheck {
  return checkParsed(parsePatchText(text, file), file, overrides);
}

function checkParsed(r: PatchResult, file: string, overrides: ReadonlyMap<string, string>): PatchCheck {
  if (!r.ok) return r;
  const pf: PatchFile = { file, dir: dirname(resolve(file)), patch: r.patch, lineOf: r.lineOf };
  const errors: PatchError[] = [];
  // The midi section's references (voices, streams, signals, scenes, targets) are checked where it is resolved.
  if (r.patch.midi) for (const message of resolveMidi(r.patch).problems) errors.push({ file, path: '', message });
  for (const ref of patchSamples(r.patch)) {
    try {
      checkSample(pf, ref);
    } catch (e) {
      errors.push(e instanceof PatchFileError ? e.error : { file, path: '', message: (e as Error)?.message ?? String(e) });
    }
  }
  for (const [stream, spec] of Object.entries(r.patch.streams)) {
    if (spec.source === undefined || overrides.has(stream)) continue;
    try {
      parseSourceUri(spec.source);
    } catch (e) {
      const at = ['streams', stream, 'source'];
      const pos = r.posOf?.(at);
      errors.push({ file, ...(pos ? { line: pos.line, column: pos.col } : {}), path: formatPath(at), message: (e as Error)?.message ?? String(e) });
    }
  }
  return errors.length ? { ok: false, errors } : { ok: true, pf };
}

/**
 * The files a patch reads, to watch: the patch itself, the data files its
 * streams play (its own sources or `overrides`), and its samples. Absolute
 * paths; URIs that do not parse or are not files are left out.
 */
export function patchInputs(pf: PatchFile, overrides: ReadonlyMap<string, string> = new Map()): string[] {
  const out = new Set<string>([resolve(pf.file)]);
  for (const [stream, spec] of Object.entries(pf.patch.streams)) {
    const uri = overrides.get(stream) ?? spec.source;
    if (uri === undefined) continue;
    try {
      const s = parseSourceUri(uri);
      if (s.kind === 'file') out.add(resolve(pf.dir, s.path));
    } catch {
      // a URI that does not parse is reported by the check, not watched
    }
  }
  for (const ref of patchSamples(pf.patch)) out.add(resolve(pf.dir, ref.path));
  return [...out];
}
