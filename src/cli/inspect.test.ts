/** `ecosym validate` reads the data; `ecosym inspect` reports and plots it. */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../engine/node/files.ts';
import { main } from './main.ts';
import { inspectCommand, sparkline, validateDataCommand, type StreamReport } from './inspect.ts';

const dir = mkdtempSync(join(tmpdir(), 'ecosym-inspect-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function patch(stream: string, signals: string): string {
  const file = join(dir, `p${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(file, `name: T\nstreams:\n  e: { source: "${PROJECT_ROOT}/samples/data/${stream}" }\nsignals:\n${signals}\nvoices:\n  v: { synth: synth, rhythm: { hold: true } }\n`);
  return file;
}

describe('validate with data', () => {
  it('a threshold the data never reaches, and one on unsmoothed data, are warned about with the measured figure', async () => {
    const file = patch('iowa-electricity.csv#net_generation@year&where=source=Renewables', '  grow: { from: e, range: [0, 40000], threshold: { above: 0.9 } }');
    const out: string[] = [];
    expect(await validateDataCommand([file], (s) => out.push(s), (s) => out.push(s))).toBe(0);
    expect(out).toContain('  e: 17 values, 2001 … 2017, 1437 … 21933');
    expect(out).toContain("    warning: threshold `grow` above 0.9 is never reached: the signal's maximum on this data is 0.55");
    expect(out.some((l) => l.includes('sits on unsmoothed data'))).toBe(true);
  });

  it('the pace lines state the time axis the dated streams share', async () => {
    const out: string[] = [];
    expect(await validateDataCommand([join(PROJECT_ROOT, 'patches/four-chapters.yaml')], (s) => out.push(s), (s) => out.push(s))).toBe(0);
    expect(out).toContain("    pace: 1880–2023 over 10 min, 1 year = 4.1 s, one time axis with decade (play's default 10 min loop)");
    expect(out).toContain("    pace: 1880–2023 over 10 min, 1 year = 4.1 s, one time axis with anomaly (play's default 10 min loop)");
  });

  it('a missing column is an error naming the file, and validate exits 1; --no-data skips the data', async () => {
    const file = patch('iowa-electricity.csv#generation@year', '  g: { from: e }');
    const errs: string[] = [];
    expect(await validateDataCommand([file], () => {}, (s) => errs.push(s))).toBe(1);
    expect(errs[0]).toContain('iowa-electricity.csv: no column "generation" (columns: year, source, net_generation)');
    expect(await main(['validate', file])).toBe(1);
    expect(await main(['validate', file, '--no-data'])).toBe(0);
  });
});

describe('inspect', () => {
  it('--json gives each stream and signal with its range and a plot', async () => {
    let text = '';
    expect(await inspectCommand('carbon-pulse', [], true, (s) => (text += s))).toBe(0);
    const streams = (JSON.parse(text) as { streams: StreamReport[] }).streams;
    const co2 = streams.find((s) => s.stream === 'co2')!;
    expect(co2).toMatchObject({ count: 741, min: 313.21, max: 416.18 });
    expect(co2.plot!.length).toBe(60);
    // The Keeling curve rises: the plot's last point is far above its first.
    expect(co2.plot![59]! - co2.plot![0]!).toBeGreaterThan(80);
    expect(co2.signals.length).toBeGreaterThan(0);
  });

  it('sparklines scale values to eight levels', () => {
    expect(sparkline([0, 1, 2, 3, 4, 5, 6, 7])).toBe('▁▂▃▄▅▆▇█');
    expect(sparkline([0.5, 0.5], 0, 1)).toBe('▅▅');
  });
});
