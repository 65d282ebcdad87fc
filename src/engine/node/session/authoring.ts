/**
 * The session's library and authoring commands (`library`, `duplicate`,
 * `upload`, `patchSource`, `validate`, `save`, `streamPreview`): what the
 * Library and Author screens ask of a session. The session hands over what
 * they need of it ({@link AuthorHost}); the files are library.ts's.
 */
import { existsSync, unlinkSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import type { Command } from '../../../shared/protocol.ts';
import { parseSourceUri } from '../../core/sources/uri.ts';
import { listBuiltinPatchFiles, patchId, readFileCapped, writeFileAtomic, type PatchFile } from '../files.ts';
import { MAX_PATCH_BYTES } from '../../core/patchLoader.ts';
import { readFeedFile, describeFeedFile } from '../sources/paced.ts';
import { checkPatchText, duplicateBuiltin, isBuiltinFile, isInsideFolder, listLibrary, saveDataFile, type TextError } from './library.ts';
import { streamPreview } from './preview.ts';

/** What the authoring commands need of a session. */
export interface AuthorHost {
  /** The user's patch folder. */
  readonly userDir: string;
  /** The patch playing now, and the one the session was opened with. */
  playing(): PatchFile;
  opened(): PatchFile;
  /** A stream's source given by the host or a rebind (not the patch's default), if any. */
  boundSource(stream: string): string | undefined;
  rebind(stream: string, uri: string): Promise<void>;
  /** Hot-swaps to a patch saved with this text (a crossfade in seconds). */
  load(pf: PatchFile, crossfade: number | undefined, text: string): Promise<void>;
  /** How file sources are paced (the session's options). */
  pace: { spreadSeconds?: number; speed?: number };
}

export type AuthorCommand = Extract<Command, { type: 'library' | 'duplicate' | 'upload' | 'patchSource' | 'validate' | 'save' | 'streamPreview' }>;

export const AUTHOR_COMMANDS: ReadonlySet<string> = new Set(['library', 'duplicate', 'upload', 'patchSource', 'validate', 'save', 'streamPreview']);

/** One line per error, for an error reply: `line 12:5: voices.pad: unknown key "filtr"`. */
function describeErrors(errors: TextError[]): string {
  return errors
    .slice(0, 5)
    .map((e) => `${e.line ? `line ${e.line}${e.column ? `:${e.column}` : ''}: ` : ''}${e.path ? `${e.path}: ` : ''}${e.message}`)
    .join('; ');
}

export class Authoring {
  constructor(private readonly host: AuthorHost) {}

  /** The file a client may write: inside the user's folder, or the opened or playing patch's own file (never a built-in). */
  private writable(file: string): boolean {
    if (isBuiltinFile(file)) return false;
    if (isInsideFolder(file, this.host.userDir)) return true;
    return [this.host.opened().file, this.host.playing().file].some((f) => resolve(f) === file && existsSync(f));
  }

  /** A path a client gives: relative ones are in the user's folder. */
  private pathOf(p: string): string {
    return isAbsolute(p) ? resolve(p) : resolve(this.host.userDir, p);
  }

  /** Runs one command: an error sentence, or the reply's data. */
  async run(c: AuthorCommand): Promise<string | { data?: unknown }> {
    switch (c.type) {
      case 'library':
        return { data: listLibrary(this.host.userDir) };
      case 'duplicate': {
        const path = duplicateBuiltin(c.builtin, this.host.userDir);
        return { data: { path, ref: { path } } };
      }
      case 'upload': {
        if (c.stream !== undefined && !Object.hasOwn(this.host.playing().patch.streams, c.stream))
          return `no stream "${c.stream}" in the playing patch (streams: ${Object.keys(this.host.playing().patch.streams).join(', ')})`;
        const path = saveDataFile(this.host.userDir, c.name, c.text);
        const uri = c.select ? `${path}#${c.select}` : path;
        let summary: string;
        try {
          const spec = parseSourceUri(uri);
          if (spec.kind !== 'file') throw new Error(`not a data file: ${uri}`);
          const file = await readFeedFile(path, spec);
          if (file.length === 0) throw new Error('no records in it');
          summary = describeFeedFile(file);
        } catch (e) {
          // A file nothing can read is not kept.
          unlinkSync(path);
          return `${c.name}: ${(e as Error)?.message ?? String(e)}`;
        }
        if (c.stream !== undefined) await this.host.rebind(c.stream, uri);
        return { data: { path, uri, summary, ...(c.stream === undefined ? {} : { stream: c.stream }) } };
      }
      case 'patchSource': {
        let file: string;
        const ref = c.ref;
        if (!ref) file = this.host.playing().file;
        else if ('text' in ref) return 'patchSource takes an id or a path, not text';
        else if ('id' in ref) {
          const found = listBuiltinPatchFiles().find((f) => patchId(f) === ref.id);
          if (!found) return `no built-in patch "${ref.id}"`;
          file = found;
        } else {
          file = this.pathOf(ref.path);
          // Only patches a session may play from here: no reading of any file on the machine.
          if (!isBuiltinFile(file) && !isInsideFolder(file, this.host.userDir) && ![this.host.opened().file, this.host.playing().file].some((f) => resolve(f) === file))
            return `${ref.path}: not a patch of the library (built-in, in ${this.host.userDir}, or the one opened)`;
        }
        if (!existsSync(file)) return `no patch file ${file} (the playing patch was sent as text?)`;
        const text = readFileCapped(file, MAX_PATCH_BYTES).toString('utf8');
        return { data: { path: file, text, editable: this.writable(file), builtin: isBuiltinFile(file) } };
      }
      case 'validate': {
        const r = checkPatchText(c.text, c.path ? this.pathOf(c.path) : this.host.playing().file);
        return { data: { ok: r.ok, errors: r.ok ? [] : r.errors } };
      }
      case 'save': {
        const path = this.pathOf(c.path);
        if (!/\.(ya?ml|json)$/i.test(path)) return `${c.path}: a patch file ends in .yaml, .yml or .json`;
        if (!this.writable(path)) return `${c.path}: not writable from here (save into ${this.host.userDir}, or the opened patch's file; built-in patches are read-only: duplicate one first)`;
        const r = checkPatchText(c.text, path);
        if (!r.ok) return { data: { saved: false, errors: r.errors, message: describeErrors(r.errors) } };
        writeFileAtomic(path, c.text);
        await this.host.load({ ...r.pf, dir: dirname(path) }, c.crossfade, c.text);
        return { data: { saved: true, path, errors: [], patch: r.pf.patch.name } };
      }
      case 'streamPreview': {
        const file = c.path ? this.pathOf(c.path) : this.host.playing().file;
        const r = checkPatchText(c.text, file);
        if (!r.ok) return `the patch has errors: ${describeErrors(r.errors)}`;
        const preview = await streamPreview(r.pf.patch, c.stream, {
          baseDir: dirname(file),
          // The session's binding of the stream applies to the patch it plays, not to another file.
          uri: resolve(file) === resolve(this.host.playing().file) ? this.host.boundSource(c.stream) : undefined,
          spreadSeconds: this.host.pace.spreadSeconds,
          speed: this.host.pace.speed,
          sourceOf: (stream) => (resolve(file) === resolve(this.host.playing().file) ? this.host.boundSource(stream) : undefined),
        });
        return { data: preview };
      }
    }
  }
}
