/**
 * The layering of docs/ARCHITECTURE.md, as enforced by eslint.config.js: lints
 * virtual files (they need not exist; flat config only needs a matching
 * block) and asserts which imports the `no-restricted-imports` rule rejects.
 */
import { ESLint } from 'eslint';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

let eslint: ESLint;

beforeAll(() => {
  eslint = new ESLint({ cwd: ROOT });
});

interface Lint {
  /** Messages of no-restricted-imports, as errors. */
  restricted: string[];
  /** Every rule id reported, to tell a clean lint from a file nobody linted. */
  ruleIds: (string | null)[];
}

async function lintImport(filePath: string, importLine: string): Promise<Lint> {
  const [result] = await eslint.lintText(`${importLine}\nexport { m };\n`, { filePath });
  if (result === undefined) throw new Error(`no lint result for ${filePath}`);
  return {
    restricted: result.messages
      .filter((message) => message.ruleId === 'no-restricted-imports' && message.severity === 2)
      .map((message) => message.message),
    ruleIds: result.messages.map((message) => message.ruleId),
  };
}

/** `import * as m from '<specifier>'` linted as if it were in `filePath`. */
function lintSpecifier(filePath: string, specifier: string): Promise<Lint> {
  return lintImport(filePath, `import * as m from '${specifier}';`);
}

/** The layering rule must be configured for the file, or "no error" proves nothing. */
async function expectLayeringRuleApplies(filePath: string): Promise<void> {
  expect(await eslint.isPathIgnored(filePath)).toBe(false);
  const config = (await eslint.calculateConfigForFile(filePath)) as {
    rules?: Record<string, unknown>;
  };
  const setting = config.rules?.['no-restricted-imports'] as [number, ...unknown[]] | undefined;
  expect(setting?.[0]).toBe(2);
}

const forbidden: [file: string, specifier: string, messagePart: RegExp][] = [
  ['src/engine/core/x.ts', 'tone', /src\/engine\/core .*Tone\.js/],
  ['src/engine/core/x.ts', 'tone/build/esm/core/Global.js', /Tone\.js/],
  ['src/engine/core/x.ts', 'standardized-audio-context', /Tone\.js/],
  ['src/engine/core/x.ts', 'node:fs', /src\/engine\/core .*Node built-in/],
  ['src/engine/core/x.ts', 'fs', /Node built-in/],
  ['src/engine/core/x.ts', 'node:fs/promises', /Node built-in/],
  ['src/engine/core/x.ts', 'path', /Node built-in/],
  ['src/engine/core/x.ts', 'worker_threads', /Node built-in/],
  ['src/engine/core/x.ts', 'node-web-audio-api', /node-web-audio-api/],
  ['src/engine/core/x.ts', 'electron', /src\/engine\/core .*Electron/],
  ['src/engine/core/x.ts', '../audio/Engine.ts', /src\/engine\/core .*src\/engine\/audio/],
  ['src/engine/core/x.ts', '../node/render.ts', /src\/engine\/node/],
  ['src/engine/core/x.ts', '../../engine/audio/Engine.ts', /src\/engine\/audio/],
  ['src/engine/core/deep/er/x.ts', '../../../audio/Engine.ts', /src\/engine\/audio/],
  ['src/engine/core/x.ts', '../../main/x.ts', /src\/main/],
  ['src/engine/audio/x.ts', 'node:fs', /src\/engine\/audio .*Node built-in/],
  ['src/engine/audio/x.ts', 'node-web-audio-api', /src\/engine\/audio .*node-web-audio-api/],
  ['src/engine/audio/x.ts', '../node/audioGlobals.ts', /src\/engine\/node/],
  ['src/engine/audio/x.ts', '../../main/x.ts', /src\/engine\/audio .*src\/main/],
  ['src/engine/node/x.ts', '../../main/x.ts', /src\/main/],
  ['src/engine/node/x.ts', '../../renderer/renderer.ts', /src\/renderer/],
  ['src/engine/node/x.ts', '../../cli/main.ts', /src\/cli/],
  ['src/engine/node/x.ts', 'electron', /Electron/],
  ['src/engine/x.ts', '../main/x.ts', /src\/engine is the engine.*src\/main/],
  ['src/engine/x.ts', '../preload/preload.ts', /src\/preload/],
  ['src/engine/audio/Engine.test.ts', '../../main/x.ts', /src\/main/],
  ['src/shared/x.ts', 'tone', /src\/shared .*Tone\.js/],
  ['src/shared/x.ts', 'node:path', /Node built-in/],
  ['src/shared/x.ts', '../engine/core/patchSchema.ts', /src\/engine/],
  ['src/cli/x.ts', 'electron', /src\/cli .*Electron/],
  ['src/cli/x.ts', '../main/main.ts', /src\/main/],
  ['src/main/x.ts', '../renderer/renderer.ts', /src\/main .*src\/renderer/],
  ['src/main/x.ts', '../preload/preload.ts', /src\/preload/],
  ['src/preload/x.ts', 'node:fs', /src\/preload .*Node built-in/],
  ['src/preload/x.ts', '@electron/remote', /@electron/],
  ['src/preload/x.ts', '../engine/core/theory.ts', /src\/engine/],
  ['src/preload/x.ts', '../main/main.ts', /src\/main/],
  ['src/renderer/x.ts', 'electron', /src\/renderer .*Electron/],
  ['src/renderer/x.ts', 'node:path', /src\/renderer .*Node built-in/],
  ['src/renderer/x.ts', 'path', /Node built-in/],
  ['src/renderer/x.ts', 'tone', /Tone\.js/],
  ['src/renderer/x.ts', '../engine/core/theory.ts', /src\/engine/],
  ['src/renderer/x.ts', '../preload/preload.ts', /src\/preload/],
];

const allowed: [file: string, specifier: string][] = [
  ['src/engine/core/x.ts', './theory.ts'],
  ['src/engine/core/x.ts', 'zod'],
  ['src/engine/core/x.ts', 'yaml'],
  ['src/engine/core/x.ts', './tone.ts'], // a local file named like a package
  ['src/engine/core/x.ts', './electron/names.ts'],
  ['src/engine/core/x.ts', '../../shared/ipc.ts'],
  ['src/engine/core/sub/x.ts', '../theory.ts'],
  ['src/engine/core/sub/x.ts', '../../core/theory.ts'],
  ['src/engine/audio/x.ts', '../core/patch.ts'],
  ['src/engine/audio/x.ts', '../core/patchSchema.ts'],
  ['src/engine/audio/x.ts', 'tone'],
  ['src/engine/audio/x.ts', 'standardized-audio-context'],
  ['src/engine/audio/x.ts', './audioUtils.ts'],
  ['src/engine/node/x.ts', 'node:fs'],
  ['src/engine/node/x.ts', 'node-web-audio-api'],
  ['src/engine/node/x.ts', 'tone'],
  ['src/engine/node/x.ts', '../audio/Engine.ts'],
  ['src/engine/node/x.ts', '../core/patchSchema.ts'],
  ['src/engine/audio/Engine.test.ts', '../node/audioGlobals.ts'],
  ['src/engine/audio/Engine.test.ts', 'node-web-audio-api'],
  ['src/engine/core/theory.test.ts', 'node:fs'],
  ['src/cli/x.ts', '../engine/node/render.ts'],
  ['src/cli/x.ts', '../engine/core/patchSchema.ts'],
  ['src/cli/x.ts', 'node:fs'],
  ['src/cli/x.ts', '../shared/ipc.ts'],
  ['src/main/x.ts', 'electron'],
  ['src/main/x.ts', 'node:path'],
  ['src/main/x.ts', '../shared/ipc.ts'],
  ['src/main/x.ts', '../engine/core/patchSchema.ts'],
  ['src/preload/x.ts', '../shared/ipc.ts'],
  ['src/renderer/x.ts', '../shared/ipc.ts'],
  ['src/renderer/x.ts', './meters.ts'],
  ['src/shared/x.ts', './ipc.ts'],
  ['src/shared/x.ts', 'zod'],
];

describe('layering (eslint no-restricted-imports)', () => {
  it.each(forbidden)('%s may not import %s', async (file, specifier, messagePart) => {
    const { restricted } = await lintSpecifier(file, specifier);
    expect(restricted).toHaveLength(1);
    expect(restricted[0]).toMatch(messagePart);
  });

  it.each(allowed)('%s may import %s', async (file, specifier) => {
    await expectLayeringRuleApplies(file);
    const { restricted, ruleIds } = await lintSpecifier(file, specifier);
    expect(restricted).toStrictEqual([]);
    expect(ruleIds).not.toContain(null); // no parse error or "file ignored" warning
  });

  it('checks type-only imports and re-exports too', async () => {
    const typeOnly = await lintImport('src/engine/core/x.ts', "import type * as m from 'tone';");
    expect(typeOnly.restricted).toHaveLength(1);
    const [reExport] = await eslint.lintText("export * from '../audio/Engine.ts';\n", {
      filePath: 'src/engine/core/x.ts',
    });
    expect(reExport?.messages.map((message) => message.ruleId)).toContain('no-restricted-imports');
  });

  it('lets the preload use only contextBridge and ipcRenderer from electron', async () => {
    const ok = await lintImport(
      'src/preload/x.ts',
      "import { contextBridge, ipcRenderer } from 'electron';\nconst m = { contextBridge, ipcRenderer };",
    );
    expect(ok.restricted).toStrictEqual([]);
    const shell = await lintImport(
      'src/preload/x.ts',
      "import { shell } from 'electron';\nconst m = shell;",
    );
    expect(shell.restricted).toHaveLength(1);
    expect(shell.restricted[0]).toMatch(/contextBridge and ipcRenderer/);
    const whole = await lintSpecifier('src/preload/x.ts', 'electron');
    expect(whole.restricted).toHaveLength(1);
  });

  it('checks the imports of Svelte components in the renderer too', async () => {
    const lintSvelte = async (specifier: string) => {
      const [result] = await eslint.lintText(`<script lang="ts">\n  import * as m from '${specifier}';\n  console.log(m);\n</script>\n`, {
        filePath: 'src/renderer/screens/X.svelte',
      });
      return result?.messages ?? [];
    };
    const bad = await lintSvelte('node:fs');
    expect(bad.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message)).toEqual([expect.stringMatching(/src\/renderer .*Node built-in/)]);
    const engine = await lintSvelte('../../engine/core/theory.ts');
    expect(engine.filter((m) => m.ruleId === 'no-restricted-imports')).toHaveLength(1);
    const ok = await lintSvelte('../../shared/protocol.ts');
    expect(ok.map((m) => m.ruleId)).toStrictEqual([]);
  });

  it('lints the real source folders with the layering rule', async () => {
    for (const file of [
      'src/main/main.ts',
      'src/preload/preload.ts',
      'src/renderer/client.ts',
      'src/renderer/App.svelte',
      'src/renderer/lib/app.svelte.ts',
      'src/shared/ipc.ts',
      'src/engine/core/theory.ts',
    ]) {
      await expectLayeringRuleApplies(file);
    }
  });
});
