#!/usr/bin/env node
// The `prepare` script (`npm install`, `npm ci`): compiles the CLI and the
// engine to dist/ (tsconfig.cli.json) so `ecosym` starts without compiling
// TypeScript, then writes dist/.cli-built last. bin/ecosym.mjs runs dist/ only
// when that stamp is newer than every source file, so a half-written or stale
// build is never run. Without TypeScript (an install without dev dependencies)
// it says so and succeeds: the bin then runs the sources through tsx.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
// `--out DIR` builds elsewhere (the test of the build), never touching dist/.
const outArg = process.argv.indexOf('--out');
const out = outArg > 0 ? resolve(process.argv[outArg + 1] ?? '') : resolve(root, 'dist');
const stamp = resolve(out, '.cli-built');
let tsc;
try {
  tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
} catch {
  console.warn('build-cli: TypeScript is not installed; `ecosym` will compile its sources at each start (tsx)');
  process.exit(0);
}
rmSync(stamp, { force: true });
const r = spawnSync(process.execPath, [tsc, '-p', resolve(root, 'tsconfig.cli.json'), '--outDir', out], { stdio: 'inherit' });
if (r.status !== 0) {
  console.error(`build-cli: tsc -p tsconfig.cli.json failed (${r.status ?? r.signal}); ${out} is left unused`);
  process.exit(1);
}
// Not TypeScript, so tsc does not copy it: the audio probe's child script.
mkdirSync(resolve(out, 'cli'), { recursive: true });
copyFileSync(resolve(root, 'src/cli/audioProbe.child.mjs'), resolve(out, 'cli/audioProbe.child.mjs'));
writeFileSync(stamp, `built ${new Date().toISOString()}\n`);
