import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'tests/**/*.test.ts', 'scripts/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Vitest's default (one fork fewer than the cores) runs one file at a time on
    // a 2-core machine; two at once measured 449 s against 966 s for the whole
    // suite there (load 4–5 from other work, every test passing).
    maxWorkers: Math.max(2, availableParallelism() - 1),
    // Web Audio globals must exist before Tone.js (and standardized-audio-context) load.
    setupFiles: ['src/engine/node/platform/installGlobals.ts'],
  },
});
