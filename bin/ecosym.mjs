#!/usr/bin/env node
// Runs the CLI compiled to dist/ by `npm install` (the `prepare` script,
// scripts/build-cli.mjs) when that build is complete and newer than every
// source file; otherwise (a fresh clone before its first install, an edited
// source, ECOSYM_TSX=1) compiles the TypeScript as it loads, through tsx: the
// same program, about 2 s slower to start.
import { builtAndFresh } from './dist.mjs';
import { spawn } from 'node:child_process';

// `render` on glibc: large native buffers (a segment's rendered output, made on
// node-web-audio-api's threads) are freed into malloc's arenas and fragment them,
// so peak RSS climbed segment after segment (measured with a 10-minute render in
// 60 s segments: 390 MB at the end, flat at ~245 MB with this). A fixed mmap
// threshold gives each large buffer back to the system when freed. glibc reads it
// only at start, so the render runs in a child that has it; signals are passed on.
// Not with a parent channel (a session's bounce): it would not reach the child; the session sets the variable itself.
if (process.argv[2] === 'render' && process.platform === 'linux' && process.env.MALLOC_MMAP_THRESHOLD_ === undefined && !process.send) {
  const child = spawn(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
    stdio: 'inherit',
    env: { ...process.env, MALLOC_MMAP_THRESHOLD_: '131072' },
  });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
  const code = await new Promise((resolve) => child.on('exit', (c, signal) => resolve(c ?? (signal === 'SIGKILL' ? 137 : 1))));
  process.exit(code);
}

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
