import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { parseFiniteNumber } from './numbers.ts';

describe('parseFiniteNumber', () => {
  it.each([
    ['12.5', 12.5],
    [' -3e2 ', -300],
    ['+.5', 0.5],
    ['7.', 7],
    ['1E-3', 0.001],
    ['1.7976931348623157e308', Number.MAX_VALUE],
  ])('%o is %o', (text, want) => expect(parseFiniteNumber(text)).toBe(want));

  it.each([
    ['1e309', 'non-finite'],
    ['-1e309', 'non-finite'],
    ['Infinity', 'non-finite'],
    ['-inf', 'non-finite'],
    ['NaN', 'non-finite'],
    ['', 'empty'],
    ['   ', 'empty'],
    ['0x190', 'not-a-number'],
    ['0b110010000', 'not-a-number'],
    ['0o620', 'not-a-number'],
    ['1_000', 'not-a-number'],
    ['12,5', 'not-a-number'],
    ['1e', 'not-a-number'],
    ['.', 'not-a-number'],
    ['n/a', 'not-a-number'],
  ])('%o is rejected as %o', (text, why) => expect(parseFiniteNumber(text)).toBe(why));

  it('reads back every finite double as printed by String()', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (x) => {
        expect(parseFiniteNumber(String(x))).toBe(x === 0 ? 0 : x);
      }),
    );
  });
});
