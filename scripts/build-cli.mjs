#!/usr/bin/env node
// The `prepare` script (`npm install`, `npm ci`): bundles the CLI, the engine
// and their packages into one ES module, dist/cli/main.js (and the session
// child's entry, dist/cli/session-child.js) (esbuild, installed
// with tsx), then writes dist/.cli-built last. bin/ecosym.mjs runs it only when
// that stamp is newer than every source file, so a half-written or stale build
// is never run. One bundle, not one file per module: Node loaded Tone's 400
// modules in 570 ms and the CLI's tree in 1.7 s; the bundle in 0.55 s.
// No type check here: `npm run typecheck` does that.
import { copyFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
// `--out DIR` builds elsewhere (the test of the build), never touching dist/.
const outArg = process.argv.indexOf('--out');
const out = outArg > 0 ? resolve(process.argv[outArg + 1] ?? '') : resolve(root, 'dist');
const stamp = resolve(out, '.cli-built');
let esbuild;
try {
  esbuild = await import('esbuild');
} catch {
  console.warn('build-cli: esbuild is not installed; `ecosym` will compile its sources at each start (tsx)');
  process.exit(0);
}
rmSync(stamp, { force: true });
try {
  await esbuild.build({
    // The CLI, and the session child process a supervisor forks (bin/session-child.mjs).
    entryPoints: { main: resolve(root, 'src/cli/main.ts'), 'session-child': resolve(root, 'src/engine/node/session/child.ts'), supervisor: resolve(root, 'src/cli/runMain.ts') },
    outdir: resolve(out, 'cli'),
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    sourcemap: true,
    logLevel: 'warning',
    // Native addons and the optional ones packages try to require stay outside.
    external: ['node-web-audio-api', 'bufferutil', 'utf-8-validate', 'jazz-midi', 'electron', 'pino', 'pino-roll', 'pino-pretty', 'prom-client'],
    // CommonJS packages inside an ES module bundle call require() for Node's
    // own modules and the externals above: give them a real one.
    banner: { js: "import { createRequire as __ecosymCreateRequire } from 'node:module'; const require = __ecosymCreateRequire(import.meta.url);" },
  });
} catch (e) {
  console.error(`build-cli: bundling the CLI failed (${e?.message ?? e}); ${out} is left unused`);
  process.exit(1);
}
// Not bundled: the audio probe's child script, run as its own process.
mkdirSync(resolve(out, 'cli'), { recursive: true });
copyFileSync(resolve(root, 'src/cli/audioProbe.child.mjs'), resolve(out, 'cli/audioProbe.child.mjs'));
writeFileSync(stamp, `built ${new Date().toISOString()}\n`);
