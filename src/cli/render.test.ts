/**
 * `ecosym render` as a user runs it: the WAV is written as the audio comes
 * (a `.part` file renamed when complete), and Ctrl-C during a render leaves no
 * broken file behind.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../engine/node/files.ts';
import { until } from '../../tests/support/wait.ts';
import { clockTime, progressBar } from './common.ts';

const BIN = resolve(PROJECT_ROOT, 'bin/ecosym.mjs');
const dir = mkdtempSync(join(tmpdir(), 'render-cli-'));

function run(args: string[]): { child: ReturnType<typeof spawn>; closed: Promise<{ code: number | null; signal: NodeJS.Signals | null; out: string }> } {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, ECOSYM_CACHE_DIR: mkdtempSync(join(tmpdir(), 'ecosym-cli-')) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const closed = new Promise<{ code: number | null; signal: NodeJS.Signals | null; out: string }>((r) => child.once('close', (code, signal) => r({ code, signal, out })));
  return { child, closed };
}

describe('ecosym render writes as it goes', () => {
  it('a render leaves a complete WAV of the length asked for, and no .part file', async () => {
    const file = join(dir, 'short.wav');
    const { closed } = run(['render', 'carbon-pulse', '--duration', '3s', '--bits', '16', '--out', file]);
    const { code, out } = await closed;
    expect(code, out).toBe(0);
    expect(execFileSync('sox', ['--i', '-s', file], { encoding: 'utf8' }).trim()).toBe(String(3 * 48000));
    expect(existsSync(`${file}.part`)).toBe(false);
    // The summary's peak is measured on the blocks written: sox reads the same peak from the file.
    const stat = execFileSync('sh', ['-c', `sox "${file}" -n stat 2>&1`], { encoding: 'utf8' });
    const soxPeak = Math.max(Number(/Maximum amplitude:\s+(-?[\d.]+)/.exec(stat)![1]), -Number(/Minimum amplitude:\s+(-?[\d.]+)/.exec(stat)![1]));
    const said = Number(/peak (-?[\d.]+) dBFS/.exec(out)![1]);
    expect(Math.abs(20 * Math.log10(soxPeak) - said)).toBeLessThan(0.2);
  });

  it('Ctrl-C (SIGINT) during a render exits 130 and leaves neither the WAV nor its .part', async () => {
    const file = join(dir, 'stopped.wav');
    const { child, closed } = run(['render', 'warming-stripes', '--duration', '20m', '--out', file]);
    // The .part file is made just before the signal handlers are set, in the same turn.
    await until(() => existsSync(`${file}.part`), 'the .part file of the render');
    child.kill('SIGINT');
    const { code, signal, out } = await closed;
    expect({ code, signal }, out).toEqual({ code: 130, signal: null });
    expect(out).toContain('Stopped (SIGINT)');
    expect(existsSync(file)).toBe(false);
    expect(existsSync(`${file}.part`)).toBe(false);
  });
});

describe('formats, stems and channels', () => {
  it('--format flac --stems writes a FLAC mix and one stereo FLAC per voice and bus, that sox decodes', async () => {
    const file = join(dir, 'pulse.flac');
    const { closed } = run(['render', 'carbon-pulse', '--duration', '3s', '--format', 'flac', '--bits', '16', '--stems', '--out', file]);
    const { code, out } = await closed;
    expect(code, out).toBe(0);
    const names = ['kick', 'hats', 'bass', 'stab', 'alarm', 'room', 'echo'];
    for (const f of [file, ...names.map((n) => join(dir, `pulse.${n}.flac`))]) {
      expect(execFileSync('sox', ['--i', '-t', f], { encoding: 'utf8' }).trim(), f).toBe('flac');
      expect(execFileSync('sox', ['--i', '-s', f], { encoding: 'utf8' }).trim(), f).toBe(String(3 * 48000));
      expect(execFileSync('sox', ['--i', '-c', f], { encoding: 'utf8' }).trim(), f).toBe('2');
    }
    // Each stem carries its own voice: the kick's is loud and lower than the high-passed hats'.
    const stat = (n: string) => execFileSync('sh', ['-c', `sox "${join(dir, `pulse.${n}.flac`)}" -n stat 2>&1`], { encoding: 'utf8' });
    const rough = (n: string) => Number(/Rough\s+frequency:\s+(\d+)/.exec(stat(n))![1]);
    expect(Number(/RMS\s+amplitude:\s+([\d.]+)/.exec(stat('kick'))![1])).toBeGreaterThan(0.01);
    expect(rough('hats')).toBeGreaterThan(5000);
    expect(rough('kick')).toBeLessThan(rough('hats') / 2);
    expect(out).toMatch(/Wrote 7 stems/);
  });

  it('an 8-channel patch renders 8 channels, or folds down with --channels 2 and says so', async () => {
    const eight = join(dir, 'ring.wav');
    const two = join(dir, 'ring2.wav');
    const a = await run(['render', 'patches/examples/ring-of-eight.yaml', '--duration', '2s', '--out', eight]).closed;
    const b = await run(['render', 'patches/examples/ring-of-eight.yaml', '--duration', '2s', '--channels', '2', '--out', two]).closed;
    expect([a.code, b.code], a.out + b.out).toEqual([0, 0]);
    expect(execFileSync('sox', ['--i', '-c', eight], { encoding: 'utf8' }).trim()).toBe('8');
    expect(execFileSync('sox', ['--i', '-c', two], { encoding: 'utf8' }).trim()).toBe('2');
    expect(b.out).toContain('made for 8 channels (ring); this output has 2: folded down to stereo');
  });

  it('--stems on an 8-channel patch writes 8-channel stems, in two renders when they do not fit beside the mix in one', async () => {
    const file = join(dir, 'ring.wav');
    const { code, out } = await run(['render', 'patches/examples/ring-of-eight.yaml', '--duration', '2s', '--stems', '--out', file]).closed;
    expect(code, out).toBe(0);
    expect(out).toContain('stems: render 2 of 2 (hall)');
    expect(out).toMatch(/Wrote 4 stems .*8 channels each, positioned as in the mix/);
    for (const n of ['drone', 'wind', 'bells', 'hall']) {
      const f = join(dir, `ring.${n}.wav`);
      expect(execFileSync('sox', ['--i', '-c', f], { encoding: 'utf8' }).trim(), f).toBe('8');
      expect(execFileSync('sox', ['--i', '-s', f], { encoding: 'utf8' }).trim(), f).toBe(String(2 * 48000));
    }
  });

  it('refuses what a format cannot hold, saying why', async () => {
    const { code, out } = await run(['render', 'carbon-pulse', '--duration', '1s', '--format', 'flac', '--bits', '32f', '--out', join(dir, 'x.flac')]).closed;
    expect(code).toBe(2);
    expect(out).toContain('FLAC holds 16 or 24 bits');
  });
});

describe('progress on a terminal', () => {
  it('shows the percentage and, once there is a pace, the time left at that pace', () => {
    let t = 0;
    const lines: string[] = [];
    const bar = progressBar('rendering', { isTTY: true, write: (s: string) => lines.push(s) }, () => t);
    bar.update(0, 600);
    t = 10_000; // 10 s of work for the first 60 audio seconds: 90 s left for the other 540
    bar.update(60, 600);
    expect(lines.at(-1)).toContain('10%, 1:30 left');
    t = 100_000;
    bar.update(600, 600);
    expect(lines.at(-1)).toContain('100%');
    expect(lines.at(-1)).not.toContain('left');
  });

  it('is silent when stderr is not a terminal', () => {
    const lines: string[] = [];
    const bar = progressBar('rendering', { isTTY: false, write: (s: string) => lines.push(s) });
    bar.update(5, 10);
    bar.end();
    expect(lines).toEqual([]);
  });

  it('formats hours', () => expect([clockTime(59.6), clockTime(3725)]).toEqual(['1:00', '1:02:05']));
});
