#!/usr/bin/env node
// Part of `prepare`: bundles the Electron main process (src/main/main.ts) into
// dist/main/main.js (an ES module, as package.json's "main" names it) and the
// preload (src/preload/preload.ts) into dist/preload/preload.js, with esbuild
// as scripts/build-cli.mjs bundles the CLI. The preload is CommonJS: a
// sandboxed preload cannot be an ES module, and its `require` knows only
// 'electron' and a few built-ins, so everything else is bundled into it.
// Electron and the native or optional packages stay outside (see build-cli.mjs).
// No type check here: `npm run typecheck` does that.
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const outArg = process.argv.indexOf('--out');
const out = outArg > 0 ? resolve(process.argv[outArg + 1] ?? '') : resolve(root, 'dist');
let esbuild;
try {
  esbuild = await import('esbuild');
} catch {
  console.warn('build-main: esbuild is not installed; the desktop app is not built (the CLI still runs)');
  process.exit(0);
}
const common = { bundle: true, platform: 'node', target: 'node20', logLevel: 'warning' };
try {
  await Promise.all([
    esbuild.build({
      ...common,
      entryPoints: [resolve(root, 'src/main/main.ts')],
      outfile: resolve(out, 'main/main.js'),
      format: 'esm',
      sourcemap: true,
      external: ['electron', 'node-web-audio-api', 'bufferutil', 'utf-8-validate', 'jazz-midi', 'pino', 'pino-roll', 'pino-pretty', 'prom-client'],
      banner: { js: "import { createRequire as __ecosymCreateRequire } from 'node:module'; const require = __ecosymCreateRequire(import.meta.url);" },
    }),
    esbuild.build({
      ...common,
      entryPoints: [resolve(root, 'src/preload/preload.ts')],
      outfile: resolve(out, 'preload/preload.js'),
      format: 'cjs',
      external: ['electron'],
    }),
  ]);
} catch (e) {
  console.error(`build-main: bundling the desktop app failed (${e?.message ?? e})`);
  process.exit(1);
}
