/** Reading what the session's recorder wrote, and measuring clicks in it (session tests). */
import { readFileSync } from 'node:fs';

/** Reads a float WAV the recorder wrote: interleaved stereo after the 44-byte header; the left channel. */
export function readWav(path: string): { left: Float32Array; sampleRate: number } {
  const b = readFileSync(path);
  const bytes = b.readUInt32LE(40);
  const all = new Float32Array(b.buffer.slice(b.byteOffset + 44, b.byteOffset + 44 + bytes));
  const left = new Float32Array(all.length / 2);
  for (let i = 0; i < left.length; i++) left[i] = all[i * 2]!;
  return { left, sampleRate: b.readUInt32LE(24) };
}

/** Largest sample-to-sample change of the slope, |x[n] − 2x[n−1] + x[n−2]|, over [from, to): a click moves it far more than a held chord does. */
export function maxKink(x: Float32Array, from: number, to: number): number {
  let m = 0;
  for (let i = Math.max(2, Math.round(from)); i < Math.min(x.length, Math.round(to)); i++) m = Math.max(m, Math.abs(x[i]! - 2 * x[i - 1]! + x[i - 2]!));
  return m;
}
