/**
 * FLAC written as audio arrives, with libflacjs (libFLAC 1.4 compiled to
 * JavaScript; its asm.js build needs no WebAssembly file or download at run
 * time). Like {@link WavStreamWriter}: to `<path>.part`, renamed when finished,
 * removed on abort. 16 or 24 bits (FLAC has no float samples).
 *
 * The header's STREAMINFO carries the total length given up front (a render
 * knows it); its MD5 is left unset, as libFLAC leaves it when it cannot seek
 * back in its output.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import { discardPart } from './wavStream.ts';

interface LibFlac {
  isReady(): boolean;
  on(event: 'ready', fn: () => void): void;
  create_libflac_encoder(sampleRate: number, channels: number, bps: number, level: number, totalSamples?: number, verify?: boolean): number;
  init_encoder_stream(encoder: number, write: (data: Uint8Array, bytes: number) => void): number;
  FLAC__stream_encoder_process_interleaved(encoder: number, buffer: Int32Array, frames: number): boolean;
  FLAC__stream_encoder_finish(encoder: number): boolean;
  FLAC__stream_encoder_delete(encoder: number): void;
  FLAC__stream_encoder_get_state(encoder: number): number;
}

let flac: Promise<LibFlac> | undefined;

/** libflacjs, loaded once (its asm.js build is ready at once or soon after loading). */
export function loadFlac(): Promise<LibFlac> {
  flac ??= new Promise((ok) => {
    const lib = createRequire(import.meta.url)('libflacjs/dist/libflac.js') as LibFlac;
    if (lib.isReady()) ok(lib);
    else lib.on('ready', () => ok(lib));
  });
  return flac;
}

export interface FlacStreamOptions {
  channels: number;
  sampleRate: number;
  bits: 16 | 24;
  /** Frames the file will hold, for its header (0: unknown). */
  totalFrames?: number;
  /** libFLAC compression level 0…8 (default 5). */
  level?: number;
}

export class FlacStreamWriter {
  readonly partPath: string;
  private fd: number | undefined;
  private encoder: number;
  frames = 0;
  nonFinite = 0;
  private writeError: unknown;

  private constructor(
    private readonly lib: LibFlac,
    readonly path: string,
    readonly options: FlacStreamOptions,
  ) {
    if (!Number.isInteger(options.channels) || options.channels < 1 || options.channels > 8) throw new Error(`FLAC ${path}: ${options.channels} channels (FLAC holds 1…8)`);
    mkdirSync(dirname(resolve(path)), { recursive: true });
    this.partPath = `${path}.part`;
    this.fd = openSync(this.partPath, 'w');
    this.encoder = lib.create_libflac_encoder(options.sampleRate, options.channels, options.bits, options.level ?? 5, options.totalFrames ?? 0, false);
    if (!this.encoder) throw new Error(`FLAC ${path}: the encoder could not be made (${options.sampleRate} Hz, ${options.channels} channels, ${options.bits} bits)`);
    const status = lib.init_encoder_stream(this.encoder, (data, bytes) => {
      try {
        if (this.fd !== undefined) writeSync(this.fd, data, 0, bytes);
      } catch (e) {
        this.writeError ??= e;
      }
    });
    if (status !== 0) {
      lib.FLAC__stream_encoder_delete(this.encoder);
      this.abort();
      throw new Error(`FLAC ${path}: the encoder refused its settings (init status ${status})`);
    }
  }

  static async open(path: string, options: FlacStreamOptions): Promise<FlacStreamWriter> {
    return new FlacStreamWriter(await loadFlac(), path, options);
  }

  write(channels: readonly Float32Array[], frames = channels[0]?.length ?? 0): void {
    if (this.fd === undefined) throw new Error(`FLAC ${this.path}: written after it was finished`);
    const n = channels.length;
    if (n !== this.options.channels) throw new Error(`FLAC ${this.path}: a block of ${n} channels, the file has ${this.options.channels}`);
    const scale = this.options.bits === 16 ? 32767 : 8388607;
    const interleaved = new Int32Array(frames * n);
    for (let i = 0; i < frames; i++)
      for (let c = 0; c < n; c++) {
        let x = channels[c]![i]!;
        if (!Number.isFinite(x)) {
          this.nonFinite++;
          x = 0;
        }
        interleaved[i * n + c] = Math.round((x > 1 ? 1 : x < -1 ? -1 : x) * scale);
      }
    if (!this.lib.FLAC__stream_encoder_process_interleaved(this.encoder, interleaved, frames))
      throw new Error(`FLAC ${this.path}: the encoder failed (state ${this.lib.FLAC__stream_encoder_get_state(this.encoder)})`);
    if (this.writeError) throw this.writeError;
    this.frames += frames;
  }

  finish(): void {
    const fd = this.fd;
    if (fd === undefined) return;
    try {
      this.lib.FLAC__stream_encoder_finish(this.encoder);
      this.lib.FLAC__stream_encoder_delete(this.encoder);
      if (this.writeError) throw this.writeError;
      fsyncSync(fd);
    } finally {
      this.fd = undefined;
      closeSync(fd);
    }
    renameSync(this.partPath, this.path);
  }

  abort(): void {
    const fd = this.fd;
    if (fd === undefined) return;
    this.fd = undefined;
    discardPart(fd, this.partPath);
  }
}
