/** Data files read as sources: bounded memory, every dropped row reported, errors that name the file. */
import { afterAll, describe, expect, it } from 'vitest';
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { execFile } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeFeedFile, readFeedFile } from './paced.ts';
import { parseSourceUri, type SourceSpec } from '../../core/sources/uri.ts';
import { collectFeed } from './collect.ts';
import { SourceHub } from './hub.ts';
import { loadPatchFile } from '../files.ts';
import { until } from '../../../../tests/support/wait.ts';

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const CO2 = join(ROOT, 'samples/data/co2-concentration.csv');
const dir = mkdtempSync(join(tmpdir(), 'ecosym-datafiles-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

const load = (path: string, fragment = '') => readFeedFile(path, parseSourceUri(path + fragment) as Extract<SourceSpec, { kind: 'file' }>);

describe('CSV data files', () => {
  it('a column of NaN says so: no values, every row rejected, with the reason', async () => {
    const path = write('nan.csv', 'time,v\n' + Array.from({ length: 635 }, (_, i) => `${i},NaN`).join('\n') + '\n');
    await expect(load(path, '#v')).rejects.toThrow(`${path}: column "v" has no numeric values (635 rows: 0 values, 635 rejected (not finite: 635; first: row 1: not finite "NaN"))`);
  });

  it('a time-shuffled file is sorted by time, all its rows kept, and the summary says so', async () => {
    const { readFileSync } = await import('node:fs');
    const [head, ...rows] = readFileSync(CO2, 'utf8').trim().split('\n');
    // A fixed shuffle (every 7th row first, and so on), so the test does not depend on chance.
    const shuffled = [0, 1, 2, 3, 4, 5, 6].flatMap((k) => rows.filter((_, i) => i % 7 === k));
    const path = write('shuffled.csv', [head, ...shuffled].join('\n') + '\n');
    const f = await load(path, '#CO2@Date');
    expect(describeFeedFile(f)).toBe('741 rows: 741 kept, sorted by time (the file was not in time order)');
    const inOrder = await load(CO2, '#CO2@Date');
    expect(Array.from({ length: f.length }, (_, i) => f.record(i))).toStrictEqual(Array.from({ length: inOrder.length }, (_, i) => inOrder.record(i)));
  });

  it('numbers in forms other than decimal are rejected and counted, not read as 400 or Infinity', async () => {
    const cells = ['1e309', '0x190', '0b110010000', '0o620', 'Infinity', 'NaN', '', '12.5', '-3e2'];
    const path = write('forms.csv', 't,v\n' + cells.map((c, i) => `${i},${c}`).join('\n') + '\n');
    const f = await load(path, '#v');
    expect(Array.from({ length: f.length }, (_, i) => f.record(i).value)).toStrictEqual([12.5, -300]);
    expect(f.report!.rejected).toStrictEqual({ 'not finite': 3, 'not a number': 3, 'empty value': 1 });
    expect(describeFeedFile(f)).toBe('9 rows: 2 kept, 7 rejected (not finite: 3, not a number: 3, empty value: 1; first: row 1: not finite "1e309")');
  });

  it('a CSV parser error names the file and the line', async () => {
    const path = write('garbage.csv', 'time,v\n1,2\n2,"3\n3,4\n');
    await expect(load(path, '#v')).rejects.toThrow(new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+: Quote Not Closed`));
  });

  it('a device or a pipe is refused, not read', async () => {
    await expect(readFeedFile('/dev/zero', parseSourceUri('/dev/zero#v&format=csv') as Extract<SourceSpec, { kind: 'file' }>)).rejects.toThrow('/dev/zero: not a regular file');
  });

  it('the render summary of a file source gives the rows kept and rejected and the gate rejections', async () => {
    const path = write('mixed.csv', 'time,v\n1,10\n2,0x10\n3,20\n4,999\n5,30\n');
    const c = await collectFeed('level', path + '#v', { valid: [0, 100] } as never, { duration: 10, baseDir: dir });
    expect(c.described).toBe('level ← v (5 rows: 4 kept, 1 rejected (not a number: 1; first: row 2: not a number "0x10"); 3 values, 1 rejected (out-of-range 1))');
  });

  it('a live file source tells the hub what it read, for play and sources to print', async () => {
    const path = write('live.csv', 'time,co2\n3,330\n1,NaN\n2,320\n');
    const { patch } = loadPatchFile(join(ROOT, 'patches/carbon-pulse.yaml'));
    const told: string[] = [];
    const hub = new SourceHub({ patch, baseDir: dir, overrides: new Map([['co2', `${path}#co2`]]), deliver: () => {}, cacheDir: false, onFileLoaded: (stream, summary) => told.push(`${stream}: ${summary}`) });
    hub.start();
    try {
      await until(() => told.length > 0, 'the file loaded');
    } finally {
      await hub.stop();
    }
    expect(told).toStrictEqual(['co2: 3 rows: 2 kept, 1 rejected (not finite: 1; first: row 2: not finite "NaN"), sorted by time (the file was not in time order)']);
  });

  // 200 MB of CSV took 4.7 GB and died after 88 s when it was read whole into row
  // objects; streamed into typed arrays it takes about 500 MB in all.
  it('a 200 MB CSV loads in a child process with a 700 MB heap, and reports its row count', { timeout: 600_000 }, async () => {
    const path = join(dir, 'big.csv');
    const fd = openSync(path, 'w');
    writeSync(fd, 'time,level\n');
    let rows = 0;
    for (let bytes = 0; bytes < 200e6; ) {
      let s = '';
      for (let k = 0; k < 10_000; k++, rows++) s += `${1_600_000_000 + rows},${(rows % 1000) / 10}\n`;
      writeSync(fd, s);
      bytes += s.length;
    }
    closeSync(fd);
    const out = await new Promise<string>((resolve, reject) =>
      execFile(process.execPath, ['--max-old-space-size=700', join(ROOT, 'bin/run-ts.mjs'), join(ROOT, 'tests/support/load-feed.ts'), `${path}#level`], { cwd: ROOT, maxBuffer: 1e6 }, (err, stdout, stderr) =>
        err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout),
      ),
    );
    rmSync(path);
    const got = JSON.parse(out) as { summary: string; length: number; last: { value: number; dataTime: number }; maxRssMB: number };
    expect(got.summary).toBe(`${rows} rows: ${rows} kept`);
    expect(got.last).toStrictEqual({ dataTime: 1_600_000_000 + rows - 1, value: ((rows - 1) % 1000) / 10 });
    expect(got.maxRssMB).toBeLessThan(1024);
  });
});
