// Whether bin/ecosym.mjs may run the CLI compiled to dist/ (scripts/build-cli.mjs).
import { readdirSync, statSync } from 'node:fs';

/** The directories compiled to dist/ (tsconfig.cli.json). */
export const SOURCE_DIRS = ['src/cli/', 'src/engine/', 'src/shared/'];

/** Newest modification time (ms) of the files under the directory URL `dir`, recursively. */
function newest(dir) {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const url = new URL(e.name + (e.isDirectory() ? '/' : ''), dir);
    t = Math.max(t, e.isDirectory() ? newest(url) : statSync(url).mtimeMs);
  }
  return t;
}

/**
 * True when `root` (a directory URL ending in '/') holds a complete build
 * (dist/.cli-built, written last) at least as new as every file under
 * {@link SOURCE_DIRS}. A few ms of stat calls; running a stale dist/ after an
 * edit or a branch switch would silently run code that is not the one in src/.
 */
export function builtAndFresh(root) {
  try {
    const built = statSync(new URL('dist/.cli-built', root)).mtimeMs;
    return SOURCE_DIRS.every((d) => newest(new URL(d, root)) <= built);
  } catch {
    return false;
  }
}
