/**
 * A WAV file written as audio arrives: the header first (sizes left at zero),
 * then blocks of samples, then the sizes fixed when the file is finished. It is
 * written to `<path>.part` and renamed to `<path>` only by {@link WavStreamWriter.finish},
 * so the name the user asked for never holds a broken file: a render stopped
 * half-way either finishes a shorter file (valid, sizes fixed) or aborts and
 * leaves nothing.
 *
 * Memory: one interleaved block at a time, never the whole piece.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { WavDepth } from './wav.ts';

/** RIFF sizes are 32-bit: a data chunk cannot hold more than this. */
export const WAV_MAX_DATA_BYTES = 0xffffffff - 36 - 24;

export interface WavStreamOptions {
  channels: number;
  sampleRate: number;
  depth: WavDepth;
}

const BYTES: Record<WavDepth, number> = { '16': 2, '24': 3, '32f': 4 };

/** Speaker masks (WAVE_FORMAT_EXTENSIBLE) for the usual layouts; other counts get none. */
const CHANNEL_MASKS: Record<number, number> = { 1: 0x4, 2: 0x3, 4: 0x33, 6: 0x3f, 8: 0x63f };

/** Bytes a WAV of these frames would hold (to refuse one too large before rendering it). */
export function wavDataBytes(frames: number, o: Pick<WavStreamOptions, 'channels' | 'depth'>): number {
  return frames * o.channels * BYTES[o.depth];
}

/**
 * The header: plain PCM / IEEE float for one or two channels, WAVE_FORMAT_EXTENSIBLE
 * (with a speaker mask where one is standard) for more, as readers expect.
 */
export function wavHeader(o: WavStreamOptions, dataBytes: number): Buffer {
  const bytes = BYTES[o.depth];
  const extensible = o.channels > 2;
  const fmtSize = extensible ? 40 : 16;
  const header = Buffer.alloc(12 + 8 + fmtSize + 8);
  const format = o.depth === '32f' ? 3 : 1;
  header.write('RIFF', 0, 'ascii');
  header.writeUInt32LE(4 + 8 + fmtSize + 8 + dataBytes, 4);
  header.write('WAVE', 8, 'ascii');
  header.write('fmt ', 12, 'ascii');
  header.writeUInt32LE(fmtSize, 16);
  header.writeUInt16LE(extensible ? 0xfffe : format, 20);
  header.writeUInt16LE(o.channels, 22);
  header.writeUInt32LE(o.sampleRate, 24);
  header.writeUInt32LE(o.sampleRate * o.channels * bytes, 28);
  header.writeUInt16LE(o.channels * bytes, 32);
  header.writeUInt16LE(bytes * 8, 34);
  let at = 36;
  if (extensible) {
    header.writeUInt16LE(22, 36);
    header.writeUInt16LE(bytes * 8, 38);
    header.writeUInt32LE(CHANNEL_MASKS[o.channels] ?? 0, 40);
    // The sub-format GUID: the format code, then 00000000-0010-8000-00AA00389B71.
    header.writeUInt32LE(format, 44);
    Buffer.from([0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71]).copy(header, 48);
    at = 60;
  }
  header.write('data', at, 'ascii');
  header.writeUInt32LE(dataBytes, at + 4);
  return header;
}

/**
 * Interleaves and converts one block. Non-finite samples become 0 (counted);
 * samples are clipped to ±1 as `encodeWav` does.
 */
export function encodeBlock(channels: readonly Float32Array[], depth: WavDepth, frames = channels[0]?.length ?? 0): { bytes: Buffer; nonFinite: number } {
  const n = channels.length;
  const size = BYTES[depth];
  const out = Buffer.allocUnsafeSlow(frames * n * size);
  // Little-endian machines (every one Node ships for) write typed arrays as WAV wants them.
  const f32 = depth === '32f' ? new Float32Array(out.buffer, out.byteOffset, frames * n) : undefined;
  let nonFinite = 0;
  let at = 0;
  const scale = depth === '16' ? 32767 : 8388607;
  for (let i = 0; i < frames; i++) {
    for (let c = 0; c < n; c++) {
      let x = channels[c]![i]!;
      if (!Number.isFinite(x)) {
        nonFinite++;
        x = 0;
      }
      x = x > 1 ? 1 : x < -1 ? -1 : x;
      if (f32) {
        f32[i * n + c] = x;
        continue;
      }
      const v = Math.round(x * scale);
      out[at] = v & 0xff;
      out[at + 1] = (v >> 8) & 0xff;
      if (size === 3) out[at + 2] = (v >> 16) & 0xff;
      at += size;
    }
  }
  return { bytes: out, nonFinite };
}

export class WavStreamWriter {
  readonly partPath: string;
  private fd: number | undefined;
  private dataBytes = 0;
  /** Frames written so far. */
  frames = 0;
  /** Non-finite samples written as silence so far. */
  nonFinite = 0;

  constructor(
    readonly path: string,
    readonly options: WavStreamOptions,
  ) {
    if (!Number.isInteger(options.channels) || options.channels < 1 || options.channels > 32) throw new Error(`WAV ${path}: ${options.channels} channels (expected 1…32)`);
    mkdirSync(dirname(resolve(path)), { recursive: true });
    this.partPath = `${path}.part`;
    this.fd = openSync(this.partPath, 'w');
    writeSync(this.fd, wavHeader(options, 0));
  }

  /** Appends a block (one Float32Array per channel, all the same length). */
  write(channels: readonly Float32Array[], frames = channels[0]?.length ?? 0): void {
    if (this.fd === undefined) throw new Error(`WAV ${this.path}: written after it was finished`);
    if (channels.length !== this.options.channels) throw new Error(`WAV ${this.path}: a block of ${channels.length} channels, the file has ${this.options.channels}`);
    const { bytes, nonFinite } = encodeBlock(channels, this.options.depth, frames);
    if (this.dataBytes + bytes.length > WAV_MAX_DATA_BYTES) throw new Error(`WAV ${this.path}: more than 4 GB of audio (a WAV's limit); render fewer channels, a lower bit depth or --format flac`);
    writeSync(this.fd, bytes);
    this.dataBytes += bytes.length;
    this.frames += frames;
    this.nonFinite += nonFinite;
  }

  /** Fixes the sizes in the header and renames the `.part` file to its name. */
  finish(): void {
    const fd = this.fd;
    if (fd === undefined) return;
    this.fd = undefined;
    try {
      writeSync(fd, wavHeader(this.options, this.dataBytes), 0, undefined, 0);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(this.partPath, this.path);
  }

  /** Stops writing and removes the `.part` file: nothing is left. */
  abort(): void {
    const fd = this.fd;
    if (fd === undefined) return;
    this.fd = undefined;
    discardPart(fd, this.partPath);
  }
}

/**
 * Closes a `.part` file being written and removes it, so an aborted write
 * leaves nothing (the WAV and FLAC writers share it).
 */
export function discardPart(fd: number, partPath: string): void {
  try {
    closeSync(fd);
  } finally {
    try {
      unlinkSync(partPath);
    } catch {
      // already gone
    }
  }
}
