import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'tests/**/*.test.ts', 'scripts/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Web Audio globals must exist before Tone.js (and standardized-audio-context) load.
    setupFiles: ['src/engine/node/platform/installGlobals.ts'],
  },
});
