/**
 * `ecosym validate`, `ecosym schema`, `ecosym patches`.
 */
import { relative } from 'node:path';
import { formatPatchError } from '../engine/core/patchLoader.ts';
import { patchJsonSchema } from '../engine/core/patchSchema.ts';
import { showJsonSchema } from '../engine/core/showSchema.ts';
import { patchReferenceMarkdown } from '../engine/core/patchReference.ts';
import { listBuiltinPatchFiles, loadPatchFile, patchId, resolvePatchPath, writeFileAtomic } from '../engine/node/files.ts';
import { checkPatchFile } from '../engine/node/patchCheck.ts';

/**
 * Validates files; prints one line per error. Sample files are checked too
 * (they exist, are regular files under the allowed folders, within the size
 * limit), not decoded, and the streams' source URIs parse. Returns the number
 * of errors.
 */
export function validateCommand(files: string[], out: (s: string) => void = console.log, err: (s: string) => void = console.error): number {
  let errors = 0;
  for (const f of files) {
    const r = checkPatchFile(resolvePatchPath(f));
    if (!r.ok) {
      // Messages name the file as the user wrote it.
      for (const e of r.errors) err(formatPatchError({ ...e, file: f }));
      errors += r.errors.length;
      continue;
    }
    out(`ok ${f}`);
  }
  return errors;
}

/** The JSON Schema text (stable formatting, trailing newline). */
export function schemaText(kind: 'patch' | 'show' = 'patch'): string {
  return JSON.stringify(kind === 'show' ? showJsonSchema() : patchJsonSchema(), null, 2) + '\n';
}

/** `ecosym schema [--show | --markdown] [--out FILE]`: the patch format's JSON Schema, the show file's, or the patch reference in Markdown. */
export function schemaCommand(outFile: string | undefined, out: (s: string) => void = (s) => process.stdout.write(s), kind: 'patch' | 'show' | 'markdown' = 'patch'): void {
  const text = kind === 'markdown' ? patchReferenceMarkdown() : schemaText(kind);
  if (outFile) writeFileAtomic(outFile, text);
  else out(text);
}

/** One built-in patch as `ecosym patches --json` lists it. */
export interface PatchListing {
  name: string;
  id: string;
  file: string;
  description: string;
  streams: Array<{ name: string; unit?: string; description?: string; source?: string }>;
}

export function listPatches(): PatchListing[] {
  return listBuiltinPatchFiles().map((file) => {
    const { patch } = loadPatchFile(file);
    return {
      name: patch.name,
      id: patchId(file),
      file: relative(process.cwd(), file) || file,
      description: patch.description.trim(),
      streams: Object.entries(patch.streams).map(([name, s]) => ({ name, unit: s.unit, description: s.description, source: s.source })),
    };
  });
}

export function patchesCommand(json: boolean, out: (s: string) => void = console.log): void {
  const list = listPatches();
  if (json) return out(JSON.stringify(list, null, 2));
  for (const p of list) {
    out(`${p.id}  —  ${p.name}  (${p.file})`);
    out(`  ${p.description.replace(/\s+/g, ' ')}`);
    for (const s of p.streams) out(`  • ${s.name}${s.unit ? ` [${s.unit}]` : ''}: ${s.description ?? ''}`);
    out('');
  }
}
