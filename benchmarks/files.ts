/**
 * Files in (`npm run bench -- --files` runs only these):
 * - patch-parse/60k-keys: seconds to parse and validate a 1.3 MB patch of 60,000 keys
 * - patch-parse/growth: that time ÷ 4 × the time for 15,000 keys (ratio, ≈ 1 when linear;
 *   yaml's own duplicate-key check made it quadratic: 41 s for 30,000 keys)
 * - csv-load/speed: MB per second streaming a 50 MB CSV into a series
 * - csv-load/heap: JS heap growth per row kept (bytes; the values live in typed arrays outside it)
 */
import { mkdtempSync, openSync, readFileSync, rmSync, writeSync, closeSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parsePatchText } from '../src/engine/core/patchLoader.ts';
import { PATCHES_DIR } from '../src/engine/node/files.ts';
import { readFeedFile } from '../src/engine/node/sources/paced.ts';
import { parseSourceUri, type SourceSpec } from '../src/engine/core/sources/uri.ts';

type Row = (name: string, value: number, unit: string) => void;

function patchWithKeys(n: number): string {
  const base = readFileSync(join(PATCHES_DIR, 'carbon-pulse.yaml'), 'utf8');
  return base + '\nlabels:\n' + Array.from({ length: n }, (_, i) => `  key${i}: value number ${i}`).join('\n') + '\n';
}

function seconds(f: () => unknown): number {
  const t0 = performance.now();
  f();
  return (performance.now() - t0) / 1000;
}

/** Writes a CSV of about `mb` megabytes: epoch-second times and a decimal value. */
export function writeCsv(path: string, mb: number): number {
  const fd = openSync(path, 'w');
  writeSync(fd, 'time,level\n');
  let bytes = 0;
  let i = 0;
  while (bytes < mb * 1e6) {
    let s = '';
    for (let k = 0; k < 10_000; k++, i++) s += `${1_600_000_000 + i},${(i % 1000) / 10}\n`;
    writeSync(fd, s);
    bytes += s.length;
  }
  closeSync(fd);
  return i;
}

export async function benchFiles(row: Row): Promise<void> {
  const big = patchWithKeys(60_000);
  const small = patchWithKeys(15_000);
  seconds(() => parsePatchText(small, 'warm-up.yaml'));
  const tBig = seconds(() => parsePatchText(big, 'big.yaml'));
  const tSmall = seconds(() => parsePatchText(small, 'small.yaml'));
  row('patch-parse/60k-keys', tBig, 's');
  row('patch-parse/growth', tBig / (4 * tSmall), 'ratio');

  const dir = mkdtempSync(join(tmpdir(), 'ecosym-bench-'));
  try {
    const path = join(dir, 'level.csv');
    writeCsv(path, 50);
    const spec = parseSourceUri(`${path}#level`) as Extract<SourceSpec, { kind: 'file' }>;
    globalThis.gc?.();
    const heap0 = process.memoryUsage().heapUsed;
    const t0 = performance.now();
    const file = await readFeedFile(path, spec);
    const t = (performance.now() - t0) / 1000;
    globalThis.gc?.();
    row('csv-load/speed', statSync(path).size / 1e6 / t, 'MB/s');
    row('csv-load/heap', (process.memoryUsage().heapUsed - heap0) / file.length, 'bytes per row');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
