/**
 * A client's bounce path stays inside the session's output folder: absolute
 * paths, `..` steps and symlinks leading out are refused with a message naming
 * the path and the folder; names inside it (sub-folders too) resolve there.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { confineOutputPath } from './outputPath.ts';

const root = realpathSync(mkdtempSync(join(tmpdir(), 'ecosym-outpath-')));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const out = join(root, 'patches', 'out');
const outside = join(root, 'elsewhere');
mkdirSync(outside);

const error = (p: string) => {
  const r = confineOutputPath(out, p);
  return 'error' in r ? r.error : undefined;
};

describe('confineOutputPath', () => {
  it('resolves a name or a sub-folder path inside the folder, making the folder', () => {
    expect(confineOutputPath(out, 'take-1.wav')).toEqual({ file: join(out, 'take-1.wav') });
    expect(confineOutputPath(out, 'mixes/./take-2.wav')).toEqual({ file: join(out, 'mixes', 'take-2.wav') });
    expect(confineOutputPath(out, 'a..b.wav')).toEqual({ file: join(out, 'a..b.wav') });
  });

  it('refuses absolute paths, on either convention, even ones inside the folder', () => {
    expect(error('/etc/cron.d/x.wav')).toBe(`/etc/cron.d/x.wav: give a file name inside the output folder ${out}, not an absolute path`);
    expect(error(join(out, 'x.wav'))).toMatch(/not an absolute path/);
    expect(error('C:\\Windows\\x.wav')).toMatch(/not an absolute path/);
    expect(error('\\\\server\\share\\x.wav')).toMatch(/not an absolute path/);
  });

  it('refuses .. steps, with either separator', () => {
    expect(error('../x.wav')).toBe(`../x.wav: ".." would leave the output folder ${out}`);
    expect(error('mixes/../../x.wav')).toMatch(/"\.\." would leave/);
    expect(error('mixes\\..\\..\\x.wav')).toMatch(/"\.\." would leave/);
    expect(error('')).toMatch(/an output path is needed/);
    expect(error('.')).toMatch(/name a file inside/);
  });

  it('refuses a symlinked sub-folder or file leading out, and a symlink in place of the file or its .part', () => {
    symlinkSync(outside, join(out, 'escape'));
    expect(error('escape/x.wav')).toBe(`escape/x.wav: ${join(out, 'escape')} is a link leading out of the output folder ${out}`);
    symlinkSync(join(outside, 'target.wav'), join(out, 'dangling.wav'));
    expect(error('dangling.wav')).toMatch(/dangling\.wav is a symlink/);
    symlinkSync(join(outside, 'x.part'), join(out, 'p.wav.part'));
    expect(error('p.wav')).toMatch(/p\.wav\.part is a symlink/);
    // A link that stays inside is fine as a folder.
    mkdirSync(join(out, 'real'));
    symlinkSync(join(out, 'real'), join(out, 'alias'));
    expect(confineOutputPath(out, 'alias/x.wav')).toEqual({ file: join(out, 'alias', 'x.wav') });
  });
});
