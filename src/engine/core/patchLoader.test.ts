/** Patch parsing under hostile or huge input: limits, linear duplicate-key checks, errors with file and line. */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { formatPatchError, parsePatchText } from './patchLoader.ts';

const BASE = readFileSync(fileURLToPath(new URL('../../../patches/carbon-pulse.yaml', import.meta.url)), 'utf8');

function errors(text: string, limits = {}): string[] {
  const r = parsePatchText(text, 'p.yaml', limits);
  return r.ok ? [] : r.errors.map(formatPatchError);
}

/** The built-in patch with `n` extra keys in a map of its own at the end (an unknown top-level key). */
function withKeys(n: number): string {
  return BASE + '\nlabels:\n' + Array.from({ length: n }, (_, i) => `  key${i}: value number ${i}`).join('\n') + '\n';
}

describe('parsePatchText limits', () => {
  it('a YAML alias bomb is refused with the file and the line of the first alias', () => {
    const bomb = ['a: &a [1, 1, 1, 1, 1, 1, 1, 1, 1]', 'b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]', 'c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]', 'd: [*c, *c, *c, *c, *c, *c, *c, *c, *c]'].join('\n');
    const got = errors(bomb);
    expect(got).toHaveLength(1);
    expect(got[0]).toMatch(/^p\.yaml:2: too many alias expansions, over the limit of 100 \(yaml: /);
  });

  it('a few aliases are fine', () => {
    const text = BASE.replace('buses:', 'x-env: &env { attack: 0.001, decay: 0.3, sustain: 0, release: 0.2 }\nbuses:').replace(
      'envelope: { attack: 0.001, decay: 0.3, sustain: 0, release: 0.2 }',
      'envelope: *env',
    );
    // Only the unknown key is wrong: the alias itself resolved.
    expect(errors(text)).toStrictEqual([expect.stringMatching(/^p\.yaml:\d+: unknown key "x-env"/)]);
  });

  it('a patch over the size limit is refused before parsing, naming the file', () => {
    expect(errors(withKeys(50), { maxBytes: 4096 })).toStrictEqual([expect.stringMatching(/^p\.yaml: \d+ bytes, over the 4096-byte limit for a patch$/)]);
  });

  it('a patch over the key limit is refused with the line of the key past it', () => {
    const got = errors(withKeys(500), { maxKeys: 300 });
    expect(got).toHaveLength(1);
    expect(got[0]).toMatch(/^p\.yaml:\d+: more than 300 keys, over the limit for a patch$/);
  });

  it('repeated keys are found in nested maps, each with its line, in file order', () => {
    const text = BASE.replace('  co2:\n', '  co2:\n    unit: ppm\n').replace('seed: 1958', 'seed: 1958\nseed: 1959');
    const got = errors(text);
    const seedLine = text.split('\n').indexOf('seed: 1959') + 1;
    const unitLine = text.split('\n').findIndex((l, i) => l === '    unit: ppm' && i > text.split('\n').indexOf('    unit: ppm')) + 1;
    expect(got).toStrictEqual([
      `p.yaml:${seedLine}: syntax error: Map keys must be unique ("seed" is repeated)`,
      `p.yaml:${unitLine}: syntax error: Map keys must be unique ("unit" is repeated)`,
    ]);
  });

  it('NaN in a patch is named as NaN (JSON would print null)', () => {
    expect(errors(BASE.replace('tempo: 100', 'tempo: .nan'))).toStrictEqual(['p.yaml:10: tempo: expected number, received NaN (got NaN)']);
  });

  // yaml's uniqueKeys compares each key with every earlier one: 30,000 keys took 41 s on this
  // machine, 60,000 more than a minute. The linear check takes about 2 s for 60,000 keys
  // (`npm run bench`, patch-parse row); the bound here only has to tell linear from quadratic
  // on a loaded machine.
  it('a 1 MB patch of 60,000 keys is checked in linear time', { timeout: 120_000 }, () => {
    const text = withKeys(60_000);
    expect(text.length).toBeGreaterThan(1_000_000);
    const t0 = performance.now();
    const got = errors(text);
    const seconds = (performance.now() - t0) / 1000;
    expect(got).toStrictEqual([expect.stringMatching(/^p\.yaml:\d+: unknown key "labels"$/)]);
    expect(seconds).toBeLessThan(15);
  });
});
