import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { euclid, parseStepPattern, stepSeconds, SUBDIVISIONS } from './rhythm.ts';

const show = (hits: boolean[]) => hits.map((h) => (h ? 'x' : '.')).join('');
const onsets = (hits: boolean[]) => hits.flatMap((h, i) => (h ? [i] : []));

describe('euclid', () => {
  it('E(3, 8) = x..x..x.', () => {
    expect(show(euclid(3, 8))).toBe('x..x..x.');
  });

  it('classic patterns', () => {
    expect(show(euclid(4, 16))).toBe('x...x...x...x...');
    expect(show(euclid(2, 5))).toBe('x..x.');
    expect(show(euclid(0, 4))).toBe('....');
    expect(show(euclid(4, 4))).toBe('xxxx');
    expect(show(euclid(1, 1))).toBe('x');
  });

  it('E(5, 16) has 5 pulses spread evenly (gaps of 3 or 4)', () => {
    const hits = euclid(5, 16);
    expect(hits).toHaveLength(16);
    expect(onsets(hits)).toStrictEqual([0, 4, 7, 10, 13]);
    expect(show(hits)).toBe('x...x..x..x..x..');
  });

  it('rotate turns the pattern left', () => {
    expect(show(euclid(3, 8, 1))).toBe('..x..x.x');
    expect(show(euclid(3, 8, 3))).toBe('x..x.x..');
    expect(show(euclid(3, 8, -1))).toBe('.x..x..x');
    expect(show(euclid(3, 8, 8))).toBe('x..x..x.');
  });

  it('has exactly p hits for 0 ≤ p ≤ s (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 128 }).chain((s) => fc.tuple(fc.constant(s), fc.integer({ min: 0, max: s }), fc.integer({ min: -300, max: 300 }))),
        ([s, p, r]) => {
          const hits = euclid(p, s, r);
          expect(hits).toHaveLength(s);
          expect(hits.filter(Boolean)).toHaveLength(p);
        },
      ),
    );
  });

  it('is maximally even: cyclic gaps between hits are ⌊s/p⌋ or ⌈s/p⌉ (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 128 }).chain((s) => fc.tuple(fc.constant(s), fc.integer({ min: 1, max: s }))), ([s, p]) => {
        const on = onsets(euclid(p, s));
        expect(on[0]).toBe(0);
        const gaps = on.map((o, i) => (i + 1 < on.length ? on[i + 1]! : s + on[0]!) - o);
        for (const g of gaps) expect([Math.floor(s / p), Math.ceil(s / p)]).toContain(g);
      }),
    );
  });

  it('rotation is a rotation of the unrotated pattern (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 64 }).chain((s) => fc.tuple(fc.constant(s), fc.integer({ min: 0, max: s }))),
        fc.integer({ min: -200, max: 200 }),
        ([s, p], r) => {
          const base = euclid(p, s);
          const k = ((r % s) + s) % s;
          expect(euclid(p, s, r)).toStrictEqual([...base.slice(k), ...base.slice(0, k)]);
        },
      ),
    );
  });
});

describe('parseStepPattern', () => {
  it('x is a hit (0.75), X an accent (1), . and - rests', () => {
    expect(parseStepPattern('x.X-')).toStrictEqual([0.75, 0, 1, 0]);
    expect(parseStepPattern('X...x...X...x.x.')).toStrictEqual([1, 0, 0, 0, 0.75, 0, 0, 0, 1, 0, 0, 0, 0.75, 0, 0.75, 0]);
  });

  it('ignores spaces and |', () => {
    expect(parseStepPattern('x . | X -')).toStrictEqual([0.75, 0, 1, 0]);
    expect(parseStepPattern('x...|x...|')).toStrictEqual(parseStepPattern('x...x...'));
  });

  it('an all-rest pattern is valid', () => {
    expect(parseStepPattern('.')).toStrictEqual([0]);
  });

  it('reports the unexpected character', () => {
    expect(parseStepPattern('x.o.')).toBe('unexpected "o" in step pattern (use x, X, . or -)');
    expect(parseStepPattern('x\t.')).toBe('unexpected "\t" in step pattern (use x, X, . or -)');
    expect(parseStepPattern('1010')).toBe('unexpected "1" in step pattern (use x, X, . or -)');
  });

  it('an empty pattern (or only separators) is an error', () => {
    expect(parseStepPattern('')).toBe('step pattern is empty');
    expect(parseStepPattern(' | | ')).toBe('step pattern is empty');
  });
});

describe('grid', () => {
  it('stepSeconds is a 16th note at the tempo', () => {
    expect(stepSeconds(60)).toBe(0.25);
    expect(stepSeconds(120)).toBe(0.125);
    expect(stepSeconds(90)).toBeCloseTo(1 / 6, 15);
  });

  it('subdivisions count 16th steps', () => {
    expect(SUBDIVISIONS).toStrictEqual({ '16n': 1, '8n': 2, '4n': 4, '2n': 8, '1m': 16, '2m': 32, '4m': 64 });
  });
});
