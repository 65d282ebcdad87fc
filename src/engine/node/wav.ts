/**
 * WAV encoding of rendered audio (16-bit, 24-bit PCM or 32-bit float) with the
 * `wavefile` package, which handles the header and bit depths for us.
 */
import wavefilePkg from 'wavefile';

const { WaveFile } = wavefilePkg;

/** Bit depths `encodeWav` writes. */
export type WavDepth = '16' | '24' | '32f';

/**
 * Encodes channels of float samples as a WAV file. Non-finite samples become 0
 * (counted in the result) so a file never carries NaN.
 */
export function encodeWav(channels: Float32Array[], sampleRate: number, depth: WavDepth = '24'): { bytes: Uint8Array; nonFinite: number } {
  let nonFinite = 0;
  const scale = depth === '16' ? 32767 : depth === '24' ? 8388607 : 1;
  const data = channels.map((ch) => {
    const out = depth === '32f' ? new Float32Array(ch.length) : new Int32Array(ch.length);
    for (let i = 0; i < ch.length; i++) {
      let x = ch[i]!;
      if (!Number.isFinite(x)) {
        nonFinite++;
        x = 0;
      }
      x = x > 1 ? 1 : x < -1 ? -1 : x;
      out[i] = depth === '32f' ? x : Math.round(x * scale);
    }
    return out;
  });
  const wav = new WaveFile();
  wav.fromScratch(channels.length, sampleRate, depth, data as unknown as number[][]);
  return { bytes: wav.toBuffer(), nonFinite };
}
