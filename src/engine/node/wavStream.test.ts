/**
 * The streaming WAV writer: files it writes in blocks are read back by sox (a
 * reader we did not write) and by wavefile, sample for sample; a writer that is
 * aborted leaves nothing, and a file is only ever seen under its name complete.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import wavefilePkg from 'wavefile';
import { encodeWav, type WavDepth } from './wav.ts';
import { WavStreamWriter } from './wavStream.ts';
import { FlacStreamWriter } from './flacStream.ts';

const { WaveFile } = wavefilePkg;
const dir = mkdtempSync(join(tmpdir(), 'wavstream-'));

function soxInfo(file: string): Record<string, string> {
  const text = execFileSync('sox', ['--i', file], { encoding: 'utf8' });
  return Object.fromEntries(text.split('\n').filter((l) => l.includes(':')).map((l) => [l.slice(0, l.indexOf(':')).trim(), l.slice(l.indexOf(':') + 1).trim()]));
}

/** A test signal: a different sine per channel, with full-scale and non-finite samples in it. */
function signal(channels: number, frames: number): Float32Array[] {
  return Array.from({ length: channels }, (_, c) => {
    const ch = new Float32Array(frames);
    for (let i = 0; i < frames; i++) ch[i] = 0.8 * Math.sin((2 * Math.PI * (220 * (c + 1)) * i) / 48000);
    ch[10] = 1.5;
    ch[11] = -2;
    ch[12] = NaN;
    return ch;
  });
}

function writeInBlocks(file: string, data: Float32Array[], depth: WavDepth, block: number): WavStreamWriter {
  const w = new WavStreamWriter(file, { channels: data.length, sampleRate: 48000, depth });
  for (let start = 0; start < data[0]!.length; start += block) w.write(data.map((ch) => ch.subarray(start, start + block)));
  w.finish();
  return w;
}

describe('WavStreamWriter', () => {
  for (const depth of ['16', '24', '32f'] as const) {
    it(`writes ${depth}-bit stereo in uneven blocks that decode to the samples given, like the whole-buffer encoder`, () => {
      const data = signal(2, 10_000);
      const file = join(dir, `s${depth}.wav`);
      const w = writeInBlocks(file, data, depth, 3001);
      expect(w.nonFinite).toBe(2); // one per channel
      const info = soxInfo(file);
      expect(info['Channels']).toBe('2');
      expect(info['Sample Rate']).toBe('48000');
      expect(info['Precision']).toBe(depth === '16' ? '16-bit' : depth === '24' ? '24-bit' : '25-bit');
      expect(info['Duration']).toMatch(/= 10000 samples/);
      // The same samples as the whole-buffer encoder's (which wavefile writes).
      const whole = new WaveFile(encodeWav(data, 48000, depth).bytes);
      const ours = new WaveFile(readFileSync(file));
      const a = whole.getSamples(false, Float64Array) as unknown as Float64Array[];
      const b = ours.getSamples(false, Float64Array) as unknown as Float64Array[];
      for (let c = 0; c < 2; c++) expect(Array.from(b[c]!)).toEqual(Array.from(a[c]!));
      expect(existsSync(`${file}.part`)).toBe(false);
    });
  }

  it('writes 8 channels as WAVE_FORMAT_EXTENSIBLE, each channel where it belongs', () => {
    const data = signal(8, 4800);
    const file = join(dir, 'eight.wav');
    writeInBlocks(file, data, '24', 1000);
    expect(soxInfo(file)['Channels']).toBe('8');
    // sox's per-channel statistics: each channel's own sine, 0.8 peak (samples 10–12 excepted).
    for (let c = 0; c < 8; c++) {
      const out = execFileSync('sh', ['-c', `sox "${file}" -n remix ${c + 1} trim 13s stat 2>&1`], { encoding: 'utf8' });
      const rough = Number(/Rough\s+frequency:\s+(\d+)/.exec(out)![1]);
      expect(Math.abs(rough - 220 * (c + 1))).toBeLessThan(20);
      expect(Number(/Maximum amplitude:\s+([\d.]+)/.exec(out)![1])).toBeCloseTo(0.8, 2);
    }
  });

  it('holds the file under .part until finished, and an aborted writer leaves nothing', () => {
    const file = join(dir, 'aborted.wav');
    const w = new WavStreamWriter(file, { channels: 2, sampleRate: 48000, depth: '16' });
    w.write(signal(2, 1000));
    expect(existsSync(`${file}.part`)).toBe(true);
    expect(existsSync(file)).toBe(false);
    w.abort();
    expect(existsSync(`${file}.part`)).toBe(false);
    expect(existsSync(file)).toBe(false);
  });

  it('refuses a block with the wrong channel count, saying which file', () => {
    const w = new WavStreamWriter(join(dir, 'wrong.wav'), { channels: 2, sampleRate: 48000, depth: '16' });
    expect(() => w.write(signal(3, 10))).toThrow(/wrong\.wav: a block of 3 channels, the file has 2/);
    w.abort();
  });
});

describe('FlacStreamWriter', () => {
  for (const bits of [16, 24] as const) {
    it(`writes ${bits}-bit FLAC in blocks that sox decodes to the same samples as the WAV`, async () => {
      const data = signal(2, 20_000);
      const flac = join(dir, `s${bits}.flac`);
      const w = await FlacStreamWriter.open(flac, { channels: 2, sampleRate: 48000, bits, totalFrames: 20_000 });
      for (let start = 0; start < 20_000; start += 4096) w.write(data.map((ch) => ch.subarray(start, start + 4096)));
      w.finish();
      expect(existsSync(`${flac}.part`)).toBe(false);
      const info = soxInfo(flac);
      expect(info['Channels']).toBe('2');
      expect(info['Precision']).toBe(`${bits}-bit`);
      expect(info['Duration']).toMatch(/= 20000 samples/);
      // Lossless: decoded back to WAV by sox, the samples are those of our own WAV of the same data.
      const wav = join(dir, `s${bits}-ref.wav`);
      writeInBlocks(wav, data, String(bits) as WavDepth, 5000);
      const decoded = join(dir, `s${bits}-decoded.wav`);
      execFileSync('sox', [flac, decoded]);
      const a = new WaveFile(readFileSync(wav)).getSamples(false, Float64Array) as unknown as Float64Array[];
      const b = new WaveFile(readFileSync(decoded)).getSamples(false, Float64Array) as unknown as Float64Array[];
      for (let c = 0; c < 2; c++) expect(Array.from(b[c]!)).toEqual(Array.from(a[c]!));
      // And it is compressed: a sine packs well below the PCM size.
      expect(readFileSync(flac).length).toBeLessThan(0.7 * readFileSync(wav).length);
    });
  }

  it('an aborted FLAC leaves nothing', async () => {
    const file = join(dir, 'gone.flac');
    const w = await FlacStreamWriter.open(file, { channels: 1, sampleRate: 48000, bits: 16 });
    w.write([new Float32Array(1000)]);
    w.abort();
    expect(existsSync(`${file}.part`) || existsSync(file)).toBe(false);
  });
});
