/**
 * The built CLI (issue 11, item 6): `npm install` runs the `prepare` script
 * (scripts/build-cli.mjs), which bundles the CLI into dist/cli/main.js;
 * bin/ecosym.mjs runs it only when its build is complete and newer than the
 * sources (bin/dist.mjs).
 */
import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { PROJECT_ROOT } from '../engine/node/files.ts';

function node(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(process.execPath, args, { cwd: PROJECT_ROOT, timeout: 300_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) =>
      done({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
    );
  });
}

const { builtAndFresh } = (await import(pathToFileURL(resolve(PROJECT_ROOT, 'bin/dist.mjs')).href)) as { builtAndFresh(root: URL): boolean };

describe('the compiled CLI', () => {
  it('builds, and the built CLI runs: --help, and a render of a built-in patch that sounds', async () => {
    // Under the project, as dist/ is (the bundle finds patches/ and its native
    // packages above it), and never in dist/ itself, which other tests'
    // `ecosym` processes may be running.
    const cache = resolve(PROJECT_ROOT, 'node_modules/.cache');
    mkdirSync(cache, { recursive: true });
    const out = mkdtempSync(join(cache, 'ecosym-build-'));
    try {
      const build = await node(['scripts/build-cli.mjs', '--out', out]);
      expect(build.stderr).toBe('');
      expect(build.code).toBe(0);
      expect(existsSync(join(out, '.cli-built'))).toBe(true);
      expect(existsSync(join(out, 'cli/audioProbe.child.mjs'))).toBe(true);
      expect(existsSync(join(out, 'cli/session-child.js'))).toBe(true);
      const main = pathToFileURL(join(out, 'cli/main.js')).href;
      const cli = (args: string[]) => node(['--input-type=module', '-e', `const { run } = await import(${JSON.stringify(main)}); await run(${JSON.stringify(args)});`]);
      const help = await cli(['--help']);
      expect(help.code).toBe(0);
      expect(help.stdout).toMatch(/ecosym render <patch>/);
      const wav = join(mkdtempSync(join(tmpdir(), 'ecosym-built-')), 'x.wav');
      const r = await cli(['render', 'carbon-pulse', '--duration', '2s', '--out', wav]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const rmsDb = Number(/RMS (-\d+\.\d) dBFS/.exec(r.stdout)?.[1]);
      expect(rmsDb).toBeGreaterThan(-60);
      expect(existsSync(wav)).toBe(true);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }, 300_000);

  it('the bin runs dist/ only when its build is complete and not older than any source', () => {
    const root = mkdtempSync(join(tmpdir(), 'ecosym-fresh-'));
    const at = (path: string, seconds: number) => {
      mkdirSync(join(root, path, '..'), { recursive: true });
      writeFileSync(join(root, path), '');
      utimesSync(join(root, path), seconds, seconds);
    };
    at('src/cli/main.ts', 1000);
    at('src/engine/audio/Engine.ts', 1000);
    at('src/shared/ipc.ts', 1000);
    const url = pathToFileURL(root + '/');
    expect(builtAndFresh(url)).toBe(false); // never built (a fresh clone)
    at('dist/.cli-built', 2000);
    expect(builtAndFresh(url)).toBe(true);
    at('src/engine/core/deep/edited.ts', 3000); // an edit after the build, however deep
    expect(builtAndFresh(url)).toBe(false);
    at('dist/.cli-built', 3000);
    expect(builtAndFresh(url)).toBe(true);
    rmSync(join(root, 'src/shared'), { recursive: true });
    expect(builtAndFresh(url)).toBe(false); // a source tree that is not there: run the sources, say what fails
  });
});
