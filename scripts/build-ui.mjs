#!/usr/bin/env node
// Builds the UI (src/renderer, Svelte 5) with Vite into dist/renderer: two
// pages, index.html (Library, Live, Perform, Author, Settings) and
// audience.html (the read-only audience view). Called by `prepare` after
// build-cli.mjs and by `npm run build:ui`; `--out DIR` builds elsewhere.
//
// The pages run under a strict CSP (script-src 'self'; style-src 'self'): no
// inline script or style. Svelte's scoped CSS is emitted as a file (emitCss),
// the module-preload polyfill (an inline helper) is off, and assets are never
// inlined as data: URLs.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const outArg = process.argv.indexOf('--out');
const out = outArg > 0 ? resolve(process.argv[outArg + 1] ?? '') : resolve(root, 'dist/renderer');
const stamp = resolve(out, '.ui-built');
let vite;
let svelte;
try {
  vite = await import('vite');
  ({ svelte } = await import('@sveltejs/vite-plugin-svelte'));
} catch {
  console.warn('build-ui: vite or @sveltejs/vite-plugin-svelte is not installed (a production install?); the UI is not built');
  process.exit(0);
}
rmSync(stamp, { force: true });
const src = resolve(root, 'src/renderer');
try {
  await vite.build({
    configFile: false,
    root: src,
    base: './',
    logLevel: 'warn',
    plugins: [svelte({ emitCss: true, compilerOptions: { css: 'external' } })],
    build: {
      outDir: out,
      emptyOutDir: true,
      assetsInlineLimit: 0,
      modulePreload: { polyfill: false },
      sourcemap: true,
      target: 'es2022',
      // No report of slow plugins (Svelte's compile is most of a build, always).
      rolldownOptions: { checks: { pluginTimings: false }, input: { index: resolve(src, 'index.html'), audience: resolve(src, 'audience.html') } },
    },
  });
} catch (e) {
  console.error(`build-ui: building src/renderer failed (${e?.message ?? e})`);
  process.exit(1);
}
mkdirSync(out, { recursive: true });
writeFileSync(stamp, `built ${new Date().toISOString()}\n`);
