import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { hash01, mulberry32, nameKey } from './random.ts';

describe('hash01', () => {
  it('is in [0, 1) (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), fc.array(fc.integer(), { maxLength: 5 }), (seed, keys) => {
        const h = hash01(seed, ...keys);
        expect(h).toBeGreaterThanOrEqual(0);
        expect(h).toBeLessThan(1);
      }),
    );
  });

  it('is deterministic: the same seed and keys give the same value', () => {
    expect(hash01(7, 1, 2, 3)).toBe(hash01(7, 1, 2, 3));
    fc.assert(
      fc.property(fc.nat(), fc.array(fc.integer(), { maxLength: 4 }), (s, k) => {
        expect(hash01(s, ...k)).toBe(hash01(s, ...k));
      }),
    );
  });

  it('differs across keys, key order and seeds', () => {
    const base = hash01(1, 10, 20);
    expect(hash01(1, 10, 21)).not.toBe(base);
    expect(hash01(1, 11, 20)).not.toBe(base);
    expect(hash01(1, 20, 10)).not.toBe(base);
    expect(hash01(2, 10, 20)).not.toBe(base);
    expect(hash01(1, 10)).not.toBe(base);
    expect(hash01(1, 10, 20, 0)).not.toBe(base);
    // 10,000 consecutive steps give (practically) all distinct values
    const vals = new Set<number>();
    for (let i = 0; i < 10_000; i++) vals.add(hash01(42, 3, i, 1));
    expect(vals.size).toBeGreaterThan(9_990);
  });

  it('is roughly uniform: mean within 0.5 ± 0.02 and each tenth holds about 10 %', () => {
    const n = 10_000;
    let sum = 0;
    const bins = new Array<number>(10).fill(0);
    for (let i = 0; i < n; i++) {
      const h = hash01(1958, 5, i, 1);
      sum += h;
      bins[Math.floor(h * 10)]!++;
    }
    expect(Math.abs(sum / n - 0.5)).toBeLessThan(0.02);
    for (const b of bins) expect(Math.abs(b - n / 10)).toBeLessThan(150); // > 4.5 σ
  });

  it('neighbouring seeds are not correlated (mean of differences ≈ 0)', () => {
    let d = 0;
    for (let i = 0; i < 10_000; i++) d += hash01(1, i) - hash01(2, i);
    expect(Math.abs(d / 10_000)).toBeLessThan(0.02);
  });
});

describe('nameKey', () => {
  it('is a stable unsigned 32-bit FNV-1a hash', () => {
    expect(nameKey('')).toBe(0x811c9dc5);
    expect(nameKey('a')).toBe(0xe40c292c); // FNV-1a 32 test vector
    expect(nameKey('foobar')).toBe(0xbf9cf968); // FNV-1a 32 test vector
    expect(nameKey('pad')).toBe(nameKey('pad'));
    expect(nameKey('pad')).not.toBe(nameKey('bass'));
  });
});

describe('mulberry32', () => {
  it('repeats for the same seed', () => {
    const a = mulberry32(1234);
    const b = mulberry32(1234);
    const xs = Array.from({ length: 1000 }, a);
    const ys = Array.from({ length: 1000 }, b);
    expect(xs).toStrictEqual(ys);
  });

  it('differs for another seed, and values are in [0, 1) with mean ≈ 0.5', () => {
    const a = Array.from({ length: 10_000 }, mulberry32(1));
    const b = Array.from({ length: 10_000 }, mulberry32(2));
    expect(a.slice(0, 10)).not.toStrictEqual(b.slice(0, 10));
    for (const x of a) if (!(x >= 0 && x < 1)) throw new Error(`out of range: ${x}`);
    expect(Math.abs(a.reduce((s, x) => s + x, 0) / a.length - 0.5)).toBeLessThan(0.02);
    expect(new Set(a).size).toBeGreaterThan(9_990);
  });

  it('keeps its own state: two generators do not interfere', () => {
    const a = mulberry32(9);
    const first = [a(), a(), a()];
    const b = mulberry32(9);
    b();
    const c = mulberry32(9);
    expect([c(), c(), c()]).toStrictEqual(first);
  });
});
