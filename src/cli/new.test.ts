/**
 * `ecosym new` and `ecosym schema --markdown` as a user runs them: the written
 * patch validates (its data and samples too) and renders audible sound, from
 * any folder; an existing file is never overwritten.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { patchReferenceMarkdown } from '../engine/core/patchReference.ts';
import { PATCHES_DIR, PROJECT_ROOT } from '../engine/node/files.ts';
import { copyPatchText, newCommand } from './new.ts';
import { validateCommand } from './info.ts';
import { validateDataCommand } from './inspect.ts';

const BIN = resolve(PROJECT_ROOT, 'bin/ecosym.mjs');
const dir = mkdtempSync(join(tmpdir(), 'ecosym-new-'));
const inProject = join(PROJECT_ROOT, 'out', `new-test-${process.pid}`);
afterAll(() => rmSync(inProject, { recursive: true, force: true }));

function ecosym(args: string[], cwd = dir): { code: number | null; out: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd,
    env: { ...process.env, ECOSYM_CACHE_DIR: mkdtempSync(join(tmpdir(), 'ecosym-cli-')) },
    encoding: 'utf8',
    timeout: 240_000,
  });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

/** RMS of a WAV file, read by sox. */
function wavRms(file: string): number {
  const stat = execFileSync('sh', ['-c', `sox "${file}" -n stat 2>&1`], { encoding: 'utf8' });
  return Number(/RMS\s+amplitude:\s+([\d.]+)/.exec(stat)![1]);
}

function validatesAndSounds(file: string): void {
  const v = ecosym(['validate', file]);
  expect(v.code, v.out).toBe(0);
  expect(v.out).toContain(`ok ${file}`);
  expect(v.out).not.toMatch(/error|never reached|not found/i);
  const wav = `${file}.wav`;
  const r = ecosym(['render', file, '--duration', '2s', '--sample-rate', '16000', '--out', wav]);
  expect(r.code, r.out).toBe(0);
  const rms = wavRms(wav);
  expect(rms, r.out).toBeGreaterThan(0.01); // -40 dBFS over 2 s: clearly audible, not silence or a click
}

describe('ecosym new', () => {
  it('writes a commented starter patch, outside the project, that validates (data too) and renders audible sound', { timeout: 300_000 }, () => {
    const out = join(dir, 'elsewhere', 'deep');
    const r = ecosym(['new', 'first-piece', '--out', out]);
    expect(r.code, r.out).toBe(0);
    const file = join(out, 'first-piece.yaml');
    const text = readFileSync(file, 'utf8');
    expect(text.match(/^\s*#/gm)!.length).toBeGreaterThan(8); // comments explain each part
    expect(parseYaml(text).name).toBe('first-piece');
    validatesAndSounds(file);
  });

  it('--from copies a built-in with its comments, its data and sample paths rewritten, inside the project too', { timeout: 300_000 }, () => {
    const out = join(inProject, 'x');
    const r = ecosym(['new', 'my-drift', '--from', 'seattle-drift', '--out', out], PROJECT_ROOT);
    expect(r.code, r.out).toBe(0);
    const file = join(out, 'my-drift.yaml');
    const text = readFileSync(file, 'utf8');
    const original = readFileSync(join(PATCHES_DIR, 'seattle-drift.yaml'), 'utf8');
    // Every comment of the original is kept.
    const comments = (t: string) => t.split('\n').filter((l) => l.trim().startsWith('#'));
    expect(comments(text)).toEqual(comments(original));
    // In the project, paths stay relative: out/new-test-N/x is three folders below the root.
    expect(text).toContain('source: ../../../samples/data/seattle-weather-hourly-normals.csv#temperature@date');
    expect(text).toContain('../../../samples/drops/drop-1.wav');
    validatesAndSounds(file);
  });

  it('--from a patch of the user\'s, whose data sits beside it, gives a copy elsewhere that reads the same data', async () => {
    const own = join(dir, 'mine');
    mkdirSync(own, { recursive: true });
    writeFileSync(join(own, 'levels.csv'), 't,v\n2020-01-01,1\n2020-01-02,3\n2020-01-03,2\n');
    writeFileSync(
      join(own, 'river.yaml'),
      '# my river\nname: River\nstreams:\n  level: { source: levels.csv#v@t }   # beside the patch\nsignals:\n  s: { from: level, range: [0, 4] }\nvoices:\n  v: { synth: synth, rhythm: { hold: true } }\n',
    );
    const logs: string[] = [];
    const file = newCommand({ name: 'river2', from: join(own, 'river.yaml'), out: join(dir, 'copies') }, (l) => logs.push(l));
    const text = readFileSync(file, 'utf8');
    expect(text).toContain(`source: ${join(own, 'levels.csv')}#v@t }   # beside the patch`);
    expect(text.startsWith('# my river\nname: river2\n')).toBe(true);
    const out: string[] = [];
    const err: string[] = [];
    expect(validateCommand([file], (l) => out.push(l), (l) => err.push(l))).toBe(0);
    expect(await validateDataCommand([file], (l) => out.push(l), (l) => err.push(l)), err.join('\n')).toBe(0);
    expect(out.join('\n')).toContain('level: 3 values');
    expect(logs[0]).toContain('river2.yaml');
  });

  it('refuses to overwrite, and says so', () => {
    const file = join(dir, 'taken.yaml');
    writeFileSync(file, 'mine\n');
    const r = ecosym(['new', 'taken']);
    expect(r.code).toBe(1);
    expect(r.out).toContain('taken.yaml exists');
    expect(readFileSync(file, 'utf8')).toBe('mine\n');
    const bad = ecosym(['new', 'no/slashes']);
    expect(bad.code).toBe(2);
    expect(bad.out).toContain('not a usable name');
  });

  it('copyPatchText rewrites only whole paths and keeps everything else', () => {
    const text = '# see ../samples/data/a.csv in the docs\nname: Old\nstreams:\n  s: { source: "../samples/data/a.csv#v@t" }\nvoices:\n  v: { samples: { C4: ../samples/x.wav } }\n';
    const outDir = join(PROJECT_ROOT, 'out', 'sub');
    const got = copyPatchText(text, PATCHES_DIR, outDir, 'New', ['../samples/data/a.csv', '../samples/x.wav', 'sim:walk']);
    expect(got).toBe('# see ../samples/data/a.csv in the docs\nname: New\nstreams:\n  s: { source: "../../samples/data/a.csv#v@t" }\nvoices:\n  v: { samples: { C4: ../../samples/x.wav } }\n');
    // Outside the project the paths become absolute.
    const abs = copyPatchText(text, PATCHES_DIR, '/tmp/somewhere', 'New', ['../samples/x.wav']);
    expect(abs).toContain(`C4: ${join(PROJECT_ROOT, 'samples/x.wav')} }`);
  });
});

describe('ecosym schema --markdown', () => {
  it('prints the patch reference, and --out writes it', { timeout: 120_000 }, () => {
    const r = ecosym(['schema', '--markdown']);
    expect(r.code, r.out).toBe(0);
    expect(r.out).toBe(patchReferenceMarkdown());
    const file = join(dir, 'docs', 'ref.md');
    mkdirSync(join(dir, 'docs'), { recursive: true });
    expect(ecosym(['schema', '--markdown', '--out', file]).code).toBe(0);
    expect(statSync(file).size).toBeGreaterThan(10_000);
    expect(readFileSync(file, 'utf8')).toBe(patchReferenceMarkdown());
  });
});
