/**
 * Where a client may have the session write a file (a bounce, a recording): only inside the
 * session's output folder. A client names the file relative to that folder
 * ("take-1.wav", "mixes/take-2.wav"); an absolute path, a `..` step, or a
 * folder or file that is a symlink leading out of it is refused with a message
 * naming the path and the folder. The folder is made if it is missing.
 */
import { lstatSync, mkdirSync, realpathSync } from 'node:fs';
import { isAbsolute, join, relative, resolve, sep, win32 } from 'node:path';

/** The session's output folder inside the user's patch folder: where bounces and recordings go (GET /api/bounce.wav serves it). */
export const BOUNCE_SUBDIR = 'out';

/** The absolute file to write, or why not. */
export function confineOutputPath(dir: string, path: string): { file: string } | { error: string } {
  const where = `the output folder ${dir}`;
  if (path.trim() === '') return { error: `an output path is needed (a file name inside ${where})` };
  // Both conventions: a Windows drive or UNC path is absolute wherever the session runs.
  if (isAbsolute(path) || win32.isAbsolute(path)) return { error: `${path}: give a file name inside ${where}, not an absolute path` };
  const steps = path.split(/[\\/]+/);
  if (steps.includes('..')) return { error: `${path}: ".." would leave ${where}` };
  let root: string;
  try {
    mkdirSync(dir, { recursive: true });
    root = realpathSync(dir);
  } catch (e) {
    return { error: `cannot use ${where}: ${(e as Error).message}` };
  }
  const file = resolve(root, ...steps.filter((s) => s !== '' && s !== '.'));
  if (file === root) return { error: `${path}: name a file inside ${where}` };
  // Every step that exists already must resolve inside the folder: a symlinked sub-folder
  // or a symlink in place of the file (or of its .part) could lead the write out.
  let at = root;
  for (const step of relative(root, file).split(sep)) {
    at = join(at, step);
    let real: string;
    try {
      lstatSync(at);
      real = realpathSync(at);
    } catch {
      break; // from here on nothing exists: it is made inside the folder
    }
    const rel = relative(root, real);
    if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) return { error: `${path}: ${at} is a link leading out of ${where}` };
  }
  for (const f of [file, `${file}.part`]) {
    try {
      if (lstatSync(f).isSymbolicLink()) return { error: `${path}: ${f} is a symlink; the session writes only plain files in ${where}` };
    } catch {
      // absent: fine
    }
  }
  return { file };
}
