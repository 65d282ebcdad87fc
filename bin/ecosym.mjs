#!/usr/bin/env node
// Runs the CLI compiled to dist/ by `npm install` (the `prepare` script,
// scripts/build-cli.mjs) when that build is complete and newer than every
// source file; otherwise (a fresh clone before its first install, an edited
// source, ECOSYM_TSX=1) compiles the TypeScript as it loads, through tsx: the
// same program, about 2 s slower to start.
import { builtAndFresh } from './dist.mjs';

// `run` and `logs` are the installation's supervisor: a program without the audio code.
const supervisor = process.argv[2] === 'run' || process.argv[2] === 'logs';
let run;
if (supervisor) {
  let runSupervisor;
  if (!process.env.ECOSYM_TSX && builtAndFresh(new URL('../', import.meta.url))) ({ runSupervisor } = await import('../dist/cli/supervisor.js'));
  else {
    const { register } = await import('tsx/esm/api');
    register();
    ({ runSupervisor } = await import('../src/cli/runMain.ts'));
  }
  run = runSupervisor;
} else if (!process.env.ECOSYM_TSX && builtAndFresh(new URL('../', import.meta.url))) ({ run } = await import('../dist/cli/main.js'));
else {
  const { register } = await import('tsx/esm/api');
  register();
  ({ run } = await import('../src/cli/main.ts'));
}
await run(process.argv.slice(2));
