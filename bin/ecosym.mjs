#!/usr/bin/env node
// Runs the CLI compiled to dist/ by `npm install` (the `prepare` script,
// scripts/build-cli.mjs) when that build is complete and newer than every
// source file; otherwise (a fresh clone before its first install, an edited
// source, ECOSYM_TSX=1) compiles the TypeScript as it loads, through tsx: the
// same program, about 2 s slower to start.
import { builtAndFresh } from './dist.mjs';

let run;
if (!process.env.ECOSYM_TSX && builtAndFresh(new URL('../', import.meta.url))) ({ run } = await import('../dist/cli/main.js'));
else {
  const { register } = await import('tsx/esm/api');
  register();
  ({ run } = await import('../src/cli/main.ts'));
}
await run(process.argv.slice(2));
