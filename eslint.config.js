// ESLint flat config.
//
// Besides the usual recommended rules, this file is where the layering in
// docs/ARCHITECTURE.md ("one direction, checked by a tool") is enforced,
// with the built-in `no-restricted-imports` rule: one `files` block per layer,
// each listing what that layer may NOT import. tests/layering.test.ts checks it.
//
// How the patterns match: `no-restricted-imports` matches `group` entries
// against the import specifier with gitignore semantics (the `ignore` package).
//   - '/tone' (leading slash) matches the bare specifier 'tone' and its subpaths
//     ('tone/build/esm/...'), but not a local './tone.ts' or '../x/tone/y.ts'.
//   - '../audio' matches '../audio/Engine.ts' (gitignore matches children of a
//     matched directory) but not '../audioUtils.ts' nor '../../audio/x.ts'.
//   - '**/engine/audio' catches specifiers that climb out and back in
//     ('../../engine/audio/x.ts').
// Relative specifiers are generated per layer for files 0..MAX_DEPTH folders
// deep inside it, so core's '../audio/x.ts' is caught and audio's
// '../core/x.ts' is not. Caveat: a folder inside a layer named like a
// forbidden sibling (e.g. src/engine/core/sub/audio/) would be reported from
// files one level below it; rename such a folder.
//
// Known gaps of the built-in rule: dynamic `import('x')` and `require()` are
// not checked (the TypeScript configs keep renderer code from naming Node
// modules at all: see tsconfig.web.json).

import js from '@eslint/js';
import { defineConfig, globalIgnores } from 'eslint/config';
import { builtinModules } from 'node:module';
import svelte from 'eslint-plugin-svelte';
import tseslint from 'typescript-eslint';

const TS_FILES = ['**/*.ts', '**/*.mts', '**/*.cts'];
/** Svelte components and rune modules (the renderer's UI). */
const SVELTE_FILES = ['**/*.svelte', '**/*.svelte.ts'];

/** How many sub-folders deep inside a layer relative imports are resolved. */
const MAX_DEPTH = 5;

/** Folders of the layers, relative to the repository root. */
const LAYER_DIRS = {
  engine: 'src/engine',
  core: 'src/engine/core',
  audio: 'src/engine/audio',
  node: 'src/engine/node',
  shared: 'src/shared',
  cli: 'src/cli',
  main: 'src/main',
  preload: 'src/preload',
  renderer: 'src/renderer',
};

/** Short descriptions used in messages. */
const LAYER_ROLES = {
  engine: 'the engine',
  core: 'the pure engine core',
  audio: 'the Tone.js audio graph',
  node: 'the Node adapters of the engine',
  shared: 'the shared message types',
  cli: 'the CLI host',
  main: 'the Electron main process',
  preload: 'the preload bridge',
  renderer: 'the renderer UI',
};

/** Third-party packages / runtimes a layer may be denied, as anchored globs. */
const PACKAGES = {
  tone: {
    what: 'Tone.js (tone, standardized-audio-context)',
    group: ['/tone', '/standardized-audio-context'],
  },
  nodeAudio: {
    what: 'node-web-audio-api (Node audio runtime)',
    group: ['/node-web-audio-api'],
  },
  nodeBuiltins: {
    what: 'Node built-in modules (Node I/O)',
    group: [
      'node:*',
      ...builtinModules.filter((name) => !name.includes('/')).map((name) => `/${name}`),
    ],
  },
  electron: {
    what: 'Electron',
    group: ['/electron', '/@electron'],
  },
  electronScoped: {
    what: '@electron/* packages',
    group: ['/@electron'],
  },
};

/**
 * Globs that match every specifier reaching `target` (a layer folder) from a
 * file 0..MAX_DEPTH folders below `from`, plus specifiers that pass through
 * the folder's path (`**\/src/main`, `**\/engine/audio`).
 */
function layerGlobs(from, target) {
  const fromParts = from.split('/');
  const targetParts = target.split('/');
  let common = 0;
  while (common < fromParts.length && fromParts[common] === targetParts[common]) common++;
  const rel = [...fromParts.slice(common).map(() => '..'), ...targetParts.slice(common)].join('/');
  const globs = [];
  for (let depth = 0; depth <= MAX_DEPTH; depth++) globs.push('../'.repeat(depth) + rel);
  // 'src/engine/audio' -> '**/engine/audio'; 'src/main' -> '**/src/main'.
  globs.push(`**/${targetParts.slice(-2).join('/')}`);
  return globs;
}

/**
 * One flat-config block enforcing a layer's restrictions.
 * @param {keyof LAYER_DIRS} layer
 * @param {{ files?: string[], ignores?: string[], why: string, packages?: (keyof PACKAGES)[], layers?: (keyof LAYER_DIRS)[], paths?: object[] }} spec
 */
function layerBlock(layer, spec) {
  const dir = LAYER_DIRS[layer];
  const role = LAYER_ROLES[layer];
  const patterns = [
    ...(spec.packages ?? []).map((key) => ({
      group: PACKAGES[key].group,
      message: `${dir} is ${role}: it may not import ${PACKAGES[key].what}. ${spec.why} (docs/ARCHITECTURE.md)`,
    })),
    ...(spec.layers ?? []).map((target) => ({
      group: layerGlobs(dir, LAYER_DIRS[target]),
      message: `${dir} is ${role}: it may not import ${LAYER_DIRS[target]} (${LAYER_ROLES[target]}). ${spec.why} (docs/ARCHITECTURE.md)`,
    })),
  ];
  return {
    name: `eco-symphony/layering/${layer}`,
    files: spec.files ?? [`${dir}/**/*.{ts,mts,cts}`],
    ...(spec.ignores ? { ignores: spec.ignores } : {}),
    rules: {
      'no-restricted-imports': ['error', { paths: spec.paths ?? [], patterns }],
    },
  };
}

const HOSTS = /** @type {const} */ (['main', 'renderer', 'cli', 'preload']);

/** Node globals for plain .js/.mjs/.cjs files (bin/, scripts/, this file). */
const nodeGlobals = Object.fromEntries(
  Object.getOwnPropertyNames(globalThis).map((name) => [name, 'readonly']),
);

export default defineConfig([
  globalIgnores(['**/node_modules/', 'dist/', 'out/', 'bench/', 'proto/', 'coverage/']),

  js.configs.recommended,
  {
    files: ['**/*.{js,mjs,cjs}'],
    languageOptions: { globals: nodeGlobals },
    rules: {
      'no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_' },
      ],
    },
  },

  {
    files: TS_FILES,
    extends: [tseslint.configs.recommended],
    rules: {
      '@typescript-eslint/no-explicit-any': 'warn',
      '@typescript-eslint/no-unused-vars': [
        'error',
        {
          argsIgnorePattern: '^_',
          varsIgnorePattern: '^_',
          caughtErrorsIgnorePattern: '^_',
          destructuredArrayIgnorePattern: '^_',
        },
      ],
    },
  },

  // Svelte components: the plugin's recommended rules, TypeScript in <script lang="ts">.
  ...svelte.configs.recommended,
  {
    files: SVELTE_FILES,
    languageOptions: { parserOptions: { parser: tseslint.parser, extraFileExtensions: ['.svelte'] } },
    // svelte-check (npm run typecheck) knows the DOM's globals; ESLint's no-undef does not.
    plugins: { '@typescript-eslint': tseslint.plugin },
    rules: {
      'no-undef': 'off',
      'no-unused-vars': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_' }],
    },
  },

  // ---------------------------------------------------------------- layering
  // A later block replaces an earlier block's options for the same rule, so
  // every block lists everything its layer may not import; the engine-wide
  // block comes first and the core/audio/node blocks override it.

  // Everything in src/engine (including tests beside the code: they run in
  // Node and may use Node and Tone to exercise the engine) stays host-free.
  layerBlock('engine', {
    why: 'The engine runs headless, offline and in the app alike; hosts wire it up, never the reverse.',
    packages: ['electron'],
    layers: HOSTS,
  }),
  layerBlock('core', {
    ignores: ['src/engine/**/*.test.ts'],
    why: 'src/engine/core is pure: no Tone.js, Node I/O, DOM or Electron.',
    packages: ['tone', 'nodeAudio', 'nodeBuiltins', 'electron'],
    layers: ['audio', 'node', ...HOSTS],
  }),
  layerBlock('audio', {
    ignores: ['src/engine/**/*.test.ts'],
    why: 'src/engine/audio takes any BaseAudioContext; Node specifics belong in src/engine/node.',
    packages: ['nodeAudio', 'nodeBuiltins', 'electron'],
    layers: ['node', ...HOSTS],
  }),
  layerBlock('node', {
    ignores: ['src/engine/**/*.test.ts'],
    why: 'src/engine/node adapts the engine to Node; hosts import it, not the reverse.',
    packages: ['electron'],
    layers: HOSTS,
  }),
  layerBlock('shared', {
    why: 'src/shared holds message types only, importable by every process.',
    packages: ['tone', 'nodeAudio', 'nodeBuiltins', 'electron'],
    layers: ['engine', ...HOSTS],
  }),
  layerBlock('cli', {
    why: 'The CLI is a headless host and must run without Electron.',
    packages: ['electron'],
    layers: ['main', 'renderer', 'preload'],
  }),
  layerBlock('main', {
    why: 'The main process talks to the renderer and the preload over typed IPC only.',
    layers: ['renderer', 'cli', 'preload'],
  }),
  layerBlock('preload', {
    why: 'The preload is a small typed bridge (contextBridge + ipcRenderer) over src/shared.',
    packages: ['tone', 'nodeAudio', 'nodeBuiltins', 'electronScoped'],
    layers: ['engine', 'main', 'renderer', 'cli'],
    // Exact-name entry (not a glob) so the allow-list of names applies.
    paths: [
      {
        name: 'electron',
        allowImportNames: ['contextBridge', 'ipcRenderer', 'IpcRendererEvent'],
        message:
          'src/preload may only use contextBridge and ipcRenderer from Electron; expose named functions, never a raw ipcRenderer (docs/RELIABILITY.md).',
      },
    ],
  }),
  layerBlock('renderer', {
    files: ['src/renderer/**/*.{ts,mts,cts,svelte}'],
    why: 'The renderer is UI only and sees the rest through the typed preload bridge (window.ecosym).',
    packages: ['tone', 'nodeAudio', 'nodeBuiltins', 'electron'],
    layers: ['engine', 'main', 'cli', 'preload'],
  }),
]);
