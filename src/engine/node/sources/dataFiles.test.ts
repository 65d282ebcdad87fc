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
    expect(told).toStrictEqual(['co2: 3 rows: 2 kept, 1 rejected (not finite: 1; first: row 2: not finite "NaN"), sorted by time (the file was not in time order); 1970-01-01 00:00–1970-01-01 00:00 over 10 min, 1 second = 5 min']);
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

describe('row selection and shaping on real public files', () => {
  const IOWA = join(ROOT, 'samples/data/iowa-electricity.csv');
  const values = (f: { length: number; record(i: number): { value: unknown; dataTime: number } }) => Array.from({ length: f.length }, (_, i) => f.record(i));

  it('a long-format file: where picks one source a year, and the report counts the rows left out', async () => {
    const f = await load(IOWA, '#net_generation@year&where=source=Renewables');
    const rows = values(f);
    expect(rows).toHaveLength(17);
    expect(rows[0]).toStrictEqual({ dataTime: Date.UTC(2001, 0, 1) / 1000, value: 1437 });
    expect(rows[16]).toStrictEqual({ dataTime: Date.UTC(2017, 0, 1) / 1000, value: 21933 });
    expect(describeFeedFile(f)).toBe('51 rows: 34 not matching where source=Renewables, 17 kept');
  });

  it('without a filter, rows sharing a year are reported, with how to pick or combine them', async () => {
    const f = await load(IOWA, '#net_generation@year');
    expect(f.length).toBe(17);
    expect(describeFeedFile(f)).toMatch(/^51 rows: 17 kept, 34 rejected \(duplicate time: 34; first: duplicate time 978307200 \(several rows a time: pick rows with &where=COLUMN=VALUE or combine them with &agg=mean\|sum\|last\|max\)\), sorted by time \(the file was not in time order\)$/);
  });

  it('pivot: one stream per source from the same file, through the patch (where on the stream)', async () => {
    const sources = ['Fossil Fuels', 'Nuclear Energy', 'Renewables'];
    const got = await Promise.all(sources.map((s) => collectFeed(s.split(' ')[0]!, `${IOWA}#net_generation@year`, { where: { source: s } } as never, { duration: 17, baseDir: dir })));
    expect(got.map((c) => c.feed.points.length)).toStrictEqual([17, 17, 17]);
    expect(got.map((c) => c.feed.points[16]!.value)).toStrictEqual([29329, 5214, 21933]);
    expect(got[2]!.described).toContain('34 not matching where source=Renewables');
  });

  it('aggregation of the rows of a year: sum, mean, max, last', async () => {
    const first = async (agg: string) => (await load(IOWA, `#net_generation@year&agg=${agg}`)).record(0).value;
    // 2001: Fossil Fuels 35361, Nuclear Energy 3853, Renewables 1437.
    expect(await first('sum')).toBe(35361 + 3853 + 1437);
    expect(await first('mean')).toBeCloseTo((35361 + 3853 + 1437) / 3, 9);
    expect(await first('max')).toBe(35361);
    expect(await first('last')).toBe(1437);
    expect(describeFeedFile(await load(IOWA, '#net_generation@year&agg=sum'))).toBe('51 rows: 17 kept, 34 combined by sum with rows of the same time, sorted by time (the file was not in time order)');
  });

  it('resampling a daily record to 30-day steps: means of each step', async () => {
    const f = await load(join(ROOT, 'samples/data/seattle-weather.csv'), '#temp_max@date&resample=30d');
    expect(f.length).toBe(Math.ceil(1461 / 30));
    expect(f.record(1).dataTime - f.record(0).dataTime).toBe(30 * 86400);
    expect(describeFeedFile(f)).toMatch(/^1461 rows: 49 kept, 1412 combined by mean into steps of 30 d$/);
  });

  it('a categorical column (weather type) is read as text for a stream that maps categories', async () => {
    const c = await collectFeed('sky', `${join(ROOT, 'samples/data/seattle-weather.csv')}#weather@date`, {} as never, { duration: 10, baseDir: dir, text: true });
    expect(new Set(c.feed.points.map((p) => p.value))).toStrictEqual(new Set(['drizzle', 'rain', 'sun', 'snow', 'fog']));
  });

  it('GeoJSON events filter on a property', async () => {
    const f = await load(join(ROOT, 'samples/data/earthquakes.json'), '#&format=geojson&where=type=earthquake&where=magType=mb');
    expect(f.length).toBeGreaterThan(10);
    for (const r of values(f)) expect(typeof r.value).toBe('number');
    await expect(load(join(ROOT, 'samples/data/earthquakes.json'), '#&format=geojson&where=magType=richter')).rejects.toThrow(/no records where magType=richter \(of 1707; values of magType: .*ml/);
  });

  it('GeoJSON quakes per day (resample=1d, agg=count) and the largest of each day (agg=max), checked against the file', async () => {
    const { readFileSync } = await import('node:fs');
    const QUAKES = join(ROOT, 'samples/data/earthquakes.json');
    const doc = JSON.parse(readFileSync(QUAKES, 'utf8')) as { features: Array<{ properties: { time: number; mag: number | null } }> };
    const events = doc.features.map((f) => ({ t: f.properties.time / 1000, mag: f.properties.mag }));
    const t0 = Math.min(...events.map((e) => e.t));
    const day = (t: number) => Math.floor((t - t0) / 86400);
    const days = Math.max(...events.map((e) => day(e.t))) + 1;
    const perDay = Array.from({ length: days }, (_, d) => events.filter((e) => day(e.t) === d));

    const counts = await load(QUAKES, '#&resample=1d&agg=count');
    expect(values(counts).map((r) => r.value)).toStrictEqual(perDay.map((d) => d.length));
    expect(values(counts).map((r) => r.dataTime)).toStrictEqual(perDay.map((_, d) => t0 + d * 86400));
    expect(describeFeedFile(counts)).toBe(`1707 rows: ${days} kept, ${1707 - days} combined by count into steps of 1 d`);

    const largest = await load(QUAKES, '#&value=mag&resample=1d&agg=max');
    expect(values(largest).map((r) => r.value)).toStrictEqual(perDay.map((d) => Math.max(...d.flatMap((e) => (typeof e.mag === 'number' ? [e.mag] : [])))));
    // The same grammar on a stream of a patch: the stream's agg and resample apply to JSON too.
    const viaStream = await collectFeed('perDay', QUAKES, { resample: 86400, agg: 'count' } as never, { duration: 10, baseDir: dir });
    expect(viaStream.feed.points.map((p) => p.value)).toStrictEqual(perDay.map((d) => d.length));
  });

  it('JSON agg/resample errors say what and where: nothing numeric, categories, an unknown agg', async () => {
    const path = write('labels.json', JSON.stringify([{ time: '2020-01-01', value: 'calm' }, { time: '2020-01-02', value: 'storm' }]));
    await expect(load(path, '#&resample=1d')).rejects.toThrow(`${path}: nothing to combine by mean: none of the 2 records has a time and a numeric value (first: record 1: not a number "calm"; name them with &time= and &value=)`);
    await expect(readFeedFile(path, parseSourceUri(path + '#&agg=max') as never, { text: true })).rejects.toThrow(`${path}: agg and resample combine numbers; a stream of categories cannot use them`);
    expect(() => parseSourceUri(path + '#&agg=median')).toThrow(/agg/);
    const mixed = write('mixed.ndjson', '{"time":"2020-01-01T00:00","value":1}\n{"time":"2020-01-01T06:00","value":"n/a"}\n{"time":"2020-01-01T12:00","value":3}\n{"value":9}\n');
    const f = await load(mixed, '#&resample=1d');
    expect(values(f)).toStrictEqual([{ dataTime: Date.UTC(2020, 0, 1) / 1000, value: 2 }]);
    expect(describeFeedFile(f)).toBe('4 rows: 1 kept, 1 combined by mean into steps of 1 d, 2 rejected (not a number: 1, bad time: 1; first: record 2: not a number "n/a")');
  });

  it('a missing column, an empty filter and an unparseable date each say what and where', async () => {
    await expect(load(IOWA, '#net_generation@year&where=fuel=Coal')).rejects.toThrow(`${IOWA}:1: no column "fuel" to filter on (where fuel=Coal; columns: year, source, net_generation)`);
    await expect(load(IOWA, '#net_generation@year&where=source=Coal')).rejects.toThrow(`${IOWA}: no rows where source=Coal (of 51 rows; values of source: Fossil Fuels, Nuclear Energy, Renewables)`);
    await expect(load(IOWA, '#generation@year')).rejects.toThrow(`${IOWA}: no column "generation" (columns: year, source, net_generation)`);
    const path = write('dates.csv', 'when,v\n13/45/2020,1\n14/45/2020,2\n');
    await expect(load(path, '#v@when')).rejects.toThrow(`${path}:2: cannot read the time "13/45/2020" in column "when" (expected a year, year-month`);
  });

  it('dates: year-month, epoch ms, a named time zone with daylight saving time, a fixed offset', async () => {
    const path = write('zones.csv', 'time,v\n2021-01-15T12:00,1\n2021-07-15T12:00,2\n');
    const paris = values(await load(path, '#v@time&tz=Europe/Paris'));
    expect(paris.map((r) => r.dataTime)).toStrictEqual([Date.UTC(2021, 0, 15, 11) / 1000, Date.UTC(2021, 6, 15, 10) / 1000]);
    const ny = values(await load(path, '#v@time&tz=-05:00'));
    expect(ny[0]!.dataTime).toBe(Date.UTC(2021, 0, 15, 17) / 1000);
    const ym = write('ym.csv', 'month,v\n2020-03,1\n2020-04,2\n');
    expect(values(await load(ym, '#v@month')).map((r) => r.dataTime)).toStrictEqual([Date.UTC(2020, 2, 1) / 1000, Date.UTC(2020, 3, 1) / 1000]);
    const ms = write('ms.csv', 'time,v\n1600000000000,1\n1600000060000,2\n');
    expect(values(await load(ms, '#v@time')).map((r) => r.dataTime)).toStrictEqual([1600000000, 1600000060]);
  });

  it('a file with no time column says it plays its rows in order', async () => {
    const path = write('untimed.csv', 'station,speed\n' + Array.from({ length: 40 }, (_, i) => `s${i},${(i % 7) + 0.5}`).join('\n') + '\n');
    const f = await load(path, '#speed');
    expect(Array.from({ length: 3 }, (_, i) => f.record(i))).toStrictEqual([{ dataTime: 0, value: 0.5 }, { dataTime: 1, value: 1.5 }, { dataTime: 2, value: 2.5 }]);
    expect(describeFeedFile(f)).toBe('40 rows: 40 kept, no time column: played in row order, one row a step');
  });
});
