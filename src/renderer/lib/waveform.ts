/**
 * A bounced file's waveform: decoded in the page (WebAudio `decodeAudioData`
 * on an OfflineAudioContext, which needs no audio device), then drawn as the
 * minimum and maximum of every pixel column, per channel stacked.
 */

/** Per channel, per column: [min, max] of the samples under it. */
export interface WaveformPeaks {
  channels: Float32Array[];
  columns: number;
  seconds: number;
  sampleRate: number;
}

/** Decodes a WAV's bytes and reduces it to `columns` min/max pairs per channel. */
export async function waveformOf(bytes: ArrayBuffer, columns: number): Promise<WaveformPeaks> {
  const ctx = new OfflineAudioContext(1, 1, 44100);
  const audio = await ctx.decodeAudioData(bytes);
  const channels: Float32Array[] = [];
  for (let c = 0; c < audio.numberOfChannels; c++) {
    const data = audio.getChannelData(c);
    const out = new Float32Array(columns * 2);
    const per = data.length / columns;
    for (let x = 0; x < columns; x++) {
      let lo = 0;
      let hi = 0;
      const end = Math.min(data.length, Math.floor((x + 1) * per));
      for (let i = Math.floor(x * per); i < end; i++) {
        const v = data[i]!;
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
      out[x * 2] = lo;
      out[x * 2 + 1] = hi;
    }
    channels.push(out);
  }
  return { channels, columns, seconds: audio.duration, sampleRate: audio.sampleRate };
}

/** Draws the peaks on a canvas sized to its box (device pixels). */
export function drawWaveform(canvas: HTMLCanvasElement, w: WaveformPeaks): void {
  const dpr = window.devicePixelRatio || 1;
  canvas.width = Math.max(1, Math.round(canvas.clientWidth * dpr));
  canvas.height = Math.max(1, Math.round(canvas.clientHeight * dpr));
  const g = canvas.getContext('2d');
  if (!g) return;
  const W = canvas.width;
  const H = canvas.height;
  g.fillStyle = '#0c1210';
  g.fillRect(0, 0, W, H);
  const n = Math.max(1, w.channels.length);
  const band = H / n;
  for (let c = 0; c < w.channels.length; c++) {
    const peaks = w.channels[c]!;
    const mid = band * c + band / 2;
    g.fillStyle = '#2a3530';
    g.fillRect(0, Math.round(mid), W, 1);
    g.fillStyle = '#7dffb0';
    for (let x = 0; x < W; x++) {
      const col = Math.min(w.columns - 1, Math.floor((x / W) * w.columns));
      const lo = peaks[col * 2]!;
      const hi = peaks[col * 2 + 1]!;
      const top = mid - hi * (band / 2) * 0.95;
      const bottom = mid - lo * (band / 2) * 0.95;
      g.fillRect(x, top, 1, Math.max(1, bottom - top));
    }
  }
}
