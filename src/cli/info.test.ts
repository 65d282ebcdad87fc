/** `ecosym validate` checks a patch's sample files as well as the patch. */
import { afterAll, describe, expect, it, vi } from 'vitest';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PATCHES_DIR, SAMPLES_DIR } from '../engine/node/files.ts';
import { validateCommand } from './info.ts';
import { main } from './main.ts';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const ORIGINAL = readFileSync(join(PATCHES_DIR, 'seattle-drift.yaml'), 'utf8');
const BELL = '../samples/bells/bell-c5.wav';
const BELL_LINE = ORIGINAL.split('\n').findIndex((l) => l.includes(BELL)) + 1;

/** seattle-drift in a folder of its own, its bell sample at `samplePath`. */
function patchIn(samplePath: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'ecosym-validate-'));
  dirs.push(dir);
  const file = join(dir, 'p.yaml');
  writeFileSync(file, ORIGINAL.replaceAll('../samples/', `${SAMPLES_DIR}/`).replace(`${SAMPLES_DIR}/bells/bell-c5.wav`, samplePath));
  return file;
}

describe('ecosym validate', () => {
  it('says ok for a patch whose samples are all there', () => {
    const outs: string[] = [];
    expect(validateCommand([patchIn(`${SAMPLES_DIR}/bells/bell-c5.wav`)], (s) => outs.push(s), () => {})).toBe(0);
    expect(outs).toStrictEqual([expect.stringMatching(/^ok .*p\.yaml$/)]);
  });

  it('reports a missing sample and one outside the allowed folders, with file and line', () => {
    const errs: string[] = [];
    const outs: string[] = [];
    const missing = patchIn('nowhere.wav');
    const outside = patchIn('../../../../etc/passwd');
    expect(validateCommand([missing, outside], (s) => outs.push(s), (s) => errs.push(s))).toBe(2);
    expect(outs).toStrictEqual([]);
    expect(errs[0]).toMatch(new RegExp(`p\\.yaml:${BELL_LINE}: voices\\.bells\\.samples\\.C5: cannot read "nowhere\\.wav" \\(looked at .*nowhere\\.wav\\): ENOENT$`));
    expect(errs[1]).toContain(`p.yaml:${BELL_LINE}: voices.bells.samples.C5: "../../../../etc/passwd" is outside the folders samples may come from`);
  });

  it('--samples-dir allows a folder of the user\'s', async () => {
    const lib = mkdtempSync(join(tmpdir(), 'ecosym-lib-'));
    dirs.push(lib);
    copyFileSync(join(SAMPLES_DIR, 'bells/bell-c5.wav'), join(lib, 'bell.wav'));
    const file = patchIn(join(lib, 'bell.wav'));
    const before = process.env.ECOSYM_SAMPLES_DIR;
    const errors = vi.spyOn(console, 'error').mockImplementation(() => {});
    const logs = vi.spyOn(console, 'log').mockImplementation(() => {});
    try {
      expect(await main(['validate', file])).toBe(1);
      expect(errors.mock.calls.flat().join('\n')).toContain('is outside the folders samples may come from');
      expect(await main(['validate', file, '--samples-dir', lib])).toBe(0);
      expect(logs.mock.calls.flat()).toContain(`ok ${file}`);
    } finally {
      errors.mockRestore();
      logs.mockRestore();
      if (before === undefined) delete process.env.ECOSYM_SAMPLES_DIR;
      else process.env.ECOSYM_SAMPLES_DIR = before;
    }
  });

  it('a patch file that is not a regular file is refused, not read', () => {
    const errs: string[] = [];
    expect(validateCommand(['/dev/zero'], () => {}, (s) => errs.push(s))).toBe(1);
    expect(errs).toStrictEqual(['/dev/zero: cannot read: not a regular file']);
  });
});
