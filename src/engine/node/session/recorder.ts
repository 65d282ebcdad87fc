/**
 * Records a real-time context's output to a WAV file as it plays: 32-bit float,
 * streamed to `<path>.part` (a header with placeholder sizes first, then the
 * audio as it comes), the sizes patched in and the file renamed to `<path>`
 * when stopped, so a crash never leaves a file that looks complete.
 */
import { closeSync, openSync, renameSync, writeSync } from 'node:fs';

/** A running recording. */
export interface Recording {
  readonly path: string;
  /** Seconds written so far. */
  readonly seconds: number;
  /** Stops, finishes the header and renames `.part` to the path. Resolves with the seconds written. */
  stop(): Promise<number>;
}

/** The 44-byte header of a float WAV of `frames` frames (sizes 0 while recording). */
function header(channels: number, sampleRate: number, frames: number): Buffer {
  const h = Buffer.alloc(44);
  const bytes = frames * channels * 4;
  h.write('RIFF', 0, 'ascii');
  h.writeUInt32LE(36 + bytes, 4);
  h.write('WAVE', 8, 'ascii');
  h.write('fmt ', 12, 'ascii');
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(3, 20); // IEEE float
  h.writeUInt16LE(channels, 22);
  h.writeUInt32LE(sampleRate, 24);
  h.writeUInt32LE(sampleRate * channels * 4, 28);
  h.writeUInt16LE(channels * 4, 32);
  h.writeUInt16LE(32, 34);
  h.write('data', 36, 'ascii');
  h.writeUInt32LE(bytes, 40);
  return h;
}

/**
 * Starts recording what `tap` carries (any node whose output is the signal,
 * e.g. the master's post-gate analyser). A ScriptProcessorNode hands the audio
 * to the main thread in 4096-frame blocks; non-finite samples are written as 0.
 */
export function startRecording(raw: BaseAudioContext, tap: AudioNode, path: string, onError: (e: unknown) => void): Recording {
  const part = `${path}.part`;
  const channels = 2;
  const fd = openSync(part, 'w');
  writeSync(fd, header(channels, raw.sampleRate, 0));
  let frames = 0;
  let failed = false;
  const node = raw.createScriptProcessor(4096, channels, channels);
  node.onaudioprocess = (e: AudioProcessingEvent) => {
    if (failed) return;
    try {
      const ins = Array.from({ length: channels }, (_, c) => e.inputBuffer.getChannelData(Math.min(c, e.inputBuffer.numberOfChannels - 1)));
      const n = ins[0]!.length;
      const out = new Float32Array(n * channels);
      for (let i = 0; i < n; i++)
        for (let c = 0; c < channels; c++) {
          const x = ins[c]![i]!;
          out[i * channels + c] = Number.isFinite(x) ? x : 0;
        }
      writeSync(fd, new Uint8Array(out.buffer));
      frames += n;
    } catch (err) {
      failed = true;
      onError(err);
    }
  };
  tap.connect(node);
  // A script processor only runs while connected to the destination (its output is silence).
  node.connect(raw.destination);
  let stopped: Promise<number> | undefined;
  return {
    path,
    get seconds() {
      return frames / raw.sampleRate;
    },
    stop() {
      stopped ??= (async () => {
        node.onaudioprocess = null;
        try {
          tap.disconnect(node);
        } catch {
          // already disconnected (the context closed)
        }
        node.disconnect();
        writeSync(fd, header(channels, raw.sampleRate, frames), 0, 44, 0);
        closeSync(fd);
        renameSync(part, path);
        return frames / raw.sampleRate;
      })();
      return stopped;
    },
  };
}
