#!/usr/bin/env node
// The session child process (src/engine/node/session/child.ts), started by a
// supervisor (`ecosym run`, the desktop app's audio host) with an IPC channel:
// the bundle dist/cli/session-child.js when its build is fresh (as bin/ecosym.mjs
// decides), else the sources through tsx.
import { builtAndFresh } from './dist.mjs';

process.env.ECOSYM_SESSION_CHILD = '1';
if (!process.env.ECOSYM_TSX && builtAndFresh(new URL('../', import.meta.url))) await import('../dist/cli/session-child.js');
else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/engine/node/session/child.ts');
}
