#!/usr/bin/env node
// Runs the TypeScript CLI through tsx's loader, so no build step stands between
// `npm install` and `npx ecosym`.
import { register } from 'tsx/esm/api';

register();
const { run } = await import('../src/cli/main.ts');
await run(process.argv.slice(2));
