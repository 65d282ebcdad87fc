/**
 * Seeded, counter-based randomness. A value depends only on the seed and the
 * integers naming the decision (voice, step, purpose), never on call order, so a
 * render is identical however its scheduler windows are cut.
 */

/** 32-bit integer hash (lowbias32, Chris Wellons' hash-prospector). */
function mix32(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d);
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b);
  x ^= x >>> 16;
  return x >>> 0;
}

/** Hashes a seed and a list of integers to a uniform number in [0, 1). */
export function hash01(seed: number, ...keys: number[]): number {
  let h = mix32(seed ^ 0x9e3779b9);
  for (const k of keys) h = mix32(h ^ mix32((k | 0) + 0x632be5ab));
  return h / 4294967296;
}

/** Stable integer for a name, to key random decisions by voice name rather than position. */
export function nameKey(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** A sequential PRNG (mulberry32) for bulk data such as noise buffers and impulse responses. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
