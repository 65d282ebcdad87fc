/**
 * Rhythm generators on a 16th-note step grid. Pure.
 */

/**
 * Euclidean rhythm E(pulses, steps) (Toussaint 2005), as the Bresenham form
 * `hit(i) = (i·pulses) mod steps < pulses`, rotated left by `rotate` steps.
 * @example euclid(3, 8) → x..x..x. (as booleans)
 */
export function euclid(pulses: number, steps: number, rotate = 0): boolean[] {
  const out: boolean[] = [];
  for (let i = 0; i < steps; i++) {
    const j = (((i + rotate) % steps) + steps) % steps;
    out.push((j * pulses) % steps < pulses);
  }
  return out;
}

/**
 * Parses a step pattern: `x` or `X` is a hit (X accented), `.` or `-` a rest,
 * spaces and `|` are ignored for readability. Returns hits as velocity factors
 * (1 for X, 0.75 for x, 0 for rest), or an error string.
 */
export function parseStepPattern(text: string): number[] | string {
  const out: number[] = [];
  for (const ch of text) {
    if (ch === ' ' || ch === '|') continue;
    if (ch === 'x') out.push(0.75);
    else if (ch === 'X') out.push(1);
    else if (ch === '.' || ch === '-') out.push(0);
    else return `unexpected "${ch}" in step pattern (use x, X, . or -)`;
  }
  if (out.length === 0) return 'step pattern is empty';
  return out;
}

/** Grid sizes in 16th-note steps for the subdivisions a voice may use. */
export const SUBDIVISIONS = { '16n': 1, '8n': 2, '4n': 4, '2n': 8, '1m': 16, '2m': 32, '4m': 64 } as const;
export type Subdivision = keyof typeof SUBDIVISIONS;

/** Seconds per 16th-note step at a tempo in BPM (quarter-note beats). */
export function stepSeconds(bpm: number): number {
  return 60 / bpm / 4;
}
