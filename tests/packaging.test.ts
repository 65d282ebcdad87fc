/**
 * The desktop package as `npm run dist` (electron-builder.yml) would build it,
 * checked without running electron-builder (Electron's binaries cannot be
 * fetched here): the targets and fuses, every native `.node` binary of the
 * production dependencies unpacked from the asar (found by walking them, not
 * listed by hand), and every file the app loads at run time matched by the
 * `files` globs, evaluated with minimatch as electron-builder does.
 */
import { describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { builtinModules } from 'node:module';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve, sep } from 'node:path';
import { Ajv } from 'ajv';
import { minimatch } from 'minimatch';
import { parse } from 'yaml';

const root = resolve(import.meta.dirname, '..');
const config = parse(readFileSync(join(root, 'electron-builder.yml'), 'utf8')) as {
  files: string[];
  asarUnpack: string[];
  asar: boolean;
  linux: { target: string[] };
  mac: { target: string[] };
  win: { target: string[] };
  electronFuses: Record<string, boolean>;
};
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { main: string; scripts: Record<string, string>; devDependencies: Record<string, string> };

const posix = (p: string) => p.split(sep).join('/');
/** electron-builder's reading of a pattern list: in order, a `!` pattern takes out what the ones before put in. */
function matches(file: string, patterns: string[]): boolean {
  let hit = false;
  for (const p of patterns) {
    if (p.startsWith('!')) {
      if (minimatch(file, p.slice(1), { dot: true })) hit = false;
    } else if (minimatch(file, p, { dot: true })) hit = true;
  }
  return hit;
}

/** Every `.node` file in the production dependencies, relative to the project (npm's own list of them, recursively). */
function productionNativeBinaries(): string[] {
  const dirs = execFileSync('npm', ['ls', '--omit=dev', '--all', '--parseable'], { cwd: root, encoding: 'utf8', maxBuffer: 16 << 20 })
    .split('\n')
    .filter((d) => d && resolve(d) !== root);
  const found = new Set<string>();
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (e.name === 'node_modules') continue; // nested packages are entries of their own
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.node')) found.add(posix(relative(root, p)));
    }
  };
  for (const d of dirs) walk(d);
  return [...found].sort();
}

/** The `.node` files a configuration leaves inside the asar (where they cannot be loaded). */
const packedBinaries = (asarUnpack: string[], binaries: string[]) => binaries.filter((f) => !matches(f, asarUnpack));

describe('electron-builder.yml', () => {
  it('builds AppImage and deb, dmg, nsis, with the asar and the fuses unchanged', () => {
    expect(config.linux.target).toEqual(['AppImage', 'deb']);
    expect(config.mac.target).toEqual(['dmg']);
    expect(config.win.target).toEqual(['nsis']);
    expect(config.asar).toBe(true);
    expect(config.electronFuses).toEqual({
      runAsNode: false,
      enableCookieEncryption: true,
      enableNodeOptionsEnvironmentVariable: false,
      enableNodeCliInspectArguments: false,
      enableEmbeddedAsarIntegrityValidation: true,
      onlyLoadAppFromAsar: true,
    });
    // With runAsNode off, Electron's binary never runs as Node: no code may count on it (a bounce's
    // render in the app is a utility process main starts, src/engine/node/session/renderProcess.ts).
    const asNode = spawnSync('git', ['grep', '-l', 'ELECTRON_RUN_AS_NODE', '--', 'src', 'bin', 'scripts'], { cwd: root, encoding: 'utf8' });
    expect(asNode.status, asNode.stdout).toBe(1); // git grep: 1 = not found
    expect(pkg.scripts.dist).toMatch(/^npm run prepare && electron-builder --config electron-builder\.yml/);
    expect(pkg.devDependencies['electron-builder']).toBeDefined();
    // Valid for the electron-builder installed: its own JSON schema of the configuration.
    const validate = new Ajv({ allErrors: true, strict: false }).compile(JSON.parse(readFileSync(join(root, 'node_modules/app-builder-lib/scheme.json'), 'utf8')) as object);
    expect(validate(config), JSON.stringify(validate.errors)).toBe(true);
  });

  it('unpacks every native binary of the production dependencies, and the check catches one left packed', () => {
    const binaries = productionNativeBinaries();
    // The ones the app cannot do without are among those found.
    expect(binaries.some((f) => f.startsWith('node_modules/node-web-audio-api/') && f.endsWith('.linux-x64-gnu.node'))).toBe(true);
    expect(binaries.some((f) => f.startsWith('node_modules/jazz-midi/'))).toBe(true);
    expect(packedBinaries(config.asarUnpack, binaries)).toEqual([]);
    // node-web-audio-api whole (its loader looks beside itself), the session child bundle, and
    // the CLI bundle a bounce's render runs as (a utility process main starts for the session).
    expect(matches('node_modules/node-web-audio-api/index.cjs', config.asarUnpack)).toBe(true);
    expect(matches('dist/cli/session-child.js', config.asarUnpack)).toBe(true);
    expect(matches('dist/cli/main.js', config.asarUnpack)).toBe(true);
    // Without the catch-all, jazz-midi's binaries would be packed: the check says so.
    const withoutCatchAll = config.asarUnpack.filter((p) => p !== '**/*.node');
    const packed = packedBinaries(withoutCatchAll, binaries);
    expect(packed.length).toBeGreaterThan(0);
    expect(packed.every((f) => f.startsWith('node_modules/jazz-midi/'))).toBe(true);
  });

  it('includes every file the app loads at run time, and keeps main, preload and UI inside the asar', () => {
    const runtime = [
      pkg.main,
      'dist/preload/preload.js',
      'dist/renderer/index.html',
      'dist/renderer/audience.html',
      'dist/cli/session-child.js',
      'dist/cli/main.js',
      'dist/.cli-built',
      'package.json',
    ];
    expect(pkg.main).toBe('dist/main/main.js');
    // The paths main.ts loads, so this list cannot drift from it unnoticed.
    const mainSource = readFileSync(join(root, 'src/main/main.ts'), 'utf8');
    for (const f of ["'dist', 'renderer'", "'dist', 'preload', 'preload.js'", "'dist', 'cli', 'session-child.js'", "'dist', 'cli', 'main.js'"]) expect(mainSource).toContain(f);
    const tracked = execFileSync('git', ['ls-files', 'patches', 'samples', 'schema'], { cwd: root, encoding: 'utf8' }).split('\n').filter(Boolean);
    expect(tracked.some((f) => f.startsWith('patches/') && f.endsWith('.yaml'))).toBe(true);
    expect(tracked.some((f) => f.startsWith('samples/'))).toBe(true);
    for (const f of [...runtime, ...tracked]) expect(matches(f, config.files), `${f} is not in files`).toBe(true);
    // The built files exist (npm install's prepare made them), with the renderer's assets.
    for (const f of runtime) expect(existsSync(join(root, f)), `${f} is not built (npm run prepare)`).toBe(true);
    for (const f of readdirSync(join(root, 'dist/renderer'), { recursive: true, encoding: 'utf8' }).filter((f) => !f.endsWith('.map'))) expect(matches(posix(join('dist/renderer', f)), config.files)).toBe(true);
    // Sources and tests stay out.
    for (const f of ['src/main/main.ts', 'tests/packaging.test.ts', 'node_modules/.bin/electron', 'dist/main/main.js.map']) expect(matches(f, config.files), f).toBe(false);
    // Covered by the asar integrity fuse: not unpacked.
    for (const f of [pkg.main, 'dist/preload/preload.js', 'dist/renderer/index.html']) expect(matches(f, config.asarUnpack), f).toBe(false);
  });

  it('scripts/build-main.mjs bundles main as an ES module and the preload as CommonJS needing only electron', () => {
    const out = mkdtempSync(join(tmpdir(), 'ecosym-build-main-'));
    try {
      execFileSync(process.execPath, [join(root, 'scripts/build-main.mjs'), '--out', out], { cwd: root, stdio: 'pipe' });
      const preload = readFileSync(join(out, 'preload/preload.js'), 'utf8');
      // A sandboxed preload's require knows 'electron' and a few built-ins only.
      expect([...new Set(preload.match(/require\("[^"]+"\)/g))]).toEqual(['require("electron")']);
      expect(preload).not.toMatch(/^\s*(import|export)\s/m);
      const main = readFileSync(join(out, 'main/main.js'), 'utf8');
      // Node built-ins and electron imported; the packages bundled in; no audio code in the main process.
      const imported = new Set([...main.matchAll(/^import .* from "([^"]+)";$/gm)].map((m) => m[1]!));
      // (bundled packages such as sirv name some built-ins without the node: prefix)
      expect([...imported].filter((m) => !m.startsWith('node:') && !builtinModules.includes(m) && m !== 'electron')).toEqual([]);
      expect(main).not.toMatch(/node-web-audio-api|node_modules\/tone\//);
      execFileSync(process.execPath, ['--check', join(out, 'main/main.js')]);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
