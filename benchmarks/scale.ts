/**
 * Output at scale (`--scale` runs only these):
 * - render-rss/<minutes>: peak RSS (MB) of `ecosym render warming-stripes --segment 60s`
 *   for 5, 20 and 60 minutes, each in its own child process (GNU time's maximum resident set);
 *   render-rss-growth: the 60-minute figure ÷ the 5-minute one (goal ≤ 1.5).
 * - render-8ch-speed: speed of an 8-channel render of patches/examples/ring-of-eight.yaml
 *   ÷ the same patch folded down to stereo (--channels 2), both in child processes.
 * `--quick` renders 10x shorter.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PROJECT_ROOT } from '../src/engine/node/files.ts';

const BIN = resolve(PROJECT_ROOT, 'bin/ecosym.mjs');

function renderMeasured(args: string[]): { rssMb: number; speed: number } {
  const r = execFileSync('sh', ['-c', `/usr/bin/time -f maxrss=%M "${process.execPath}" "${BIN}" render ${args.map((a) => `'${a}'`).join(' ')} 2>&1`], { cwd: PROJECT_ROOT, encoding: 'utf8', maxBuffer: 1 << 24 });
  const rss = /maxrss=(\d+)/.exec(r);
  const speed = /([\d.]+)x real time/.exec(r);
  if (!rss || !speed) throw new Error(`ecosym render ${args.join(' ')}: no figures in its output:\n${r}`);
  return { rssMb: Number(rss[1]) / 1024, speed: Number(speed[1]) };
}

export async function benchScale(quick: boolean, row: (name: string, value: number, unit: string) => void): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-scale-'));
  const rss: number[] = [];
  for (const minutes of [5, 20, 60]) {
    const m = quick ? minutes / 10 : minutes;
    // In 60 s segments (the default above 2 minutes, said here so the figure keeps its meaning).
    const { rssMb } = renderMeasured(['warming-stripes', '--duration', `${m * 60}s`, '--segment', '60s', '--bits', '16', '--out', join(dir, `w${minutes}.wav`)]);
    rss.push(rssMb);
    row(`render-rss/${minutes}`, rssMb, 'MB');
  }
  row('render-rss-growth', rss[2]! / rss[0]!, 'ratio (goal ≤ 1.5)');
  const seconds = quick ? 30 : 300;
  const eight = renderMeasured(['patches/examples/ring-of-eight.yaml', '--duration', `${seconds}s`, '--out', join(dir, 'ring8.wav')]);
  const two = renderMeasured(['patches/examples/ring-of-eight.yaml', '--duration', `${seconds}s`, '--channels', '2', '--out', join(dir, 'ring2.wav')]);
  row('render-8ch-speed', eight.speed / two.speed, 'ratio (8 ch ÷ stereo)');
}
