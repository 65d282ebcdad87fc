/** Files and simulations paced on a timer: speed, looping, once. */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileSource, SimSource } from './paced.ts';
import { parseSourceUri, type SourceSpec } from '../../core/sources/uri.ts';
import type { FeedRecord } from '../../core/sources/records.ts';
import { until } from '../../../../tests/support/wait.ts';

const stops: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const s of stops.splice(0)) await s();
});

function file(text: string, name: string, fragment: string, spread?: number) {
  const dir = mkdtempSync(join(tmpdir(), 'ecosym-paced-'));
  const path = join(dir, name);
  writeFileSync(path, text);
  const got: Array<FeedRecord & { at: number }> = [];
  const errors: string[] = [];
  const t0 = performance.now();
  const src = new FileSource(parseSourceUri(path + fragment) as Extract<SourceSpec, { kind: 'file' }>, path, {
    records: (rs) => got.push(...rs.map((r) => ({ ...r, at: (performance.now() - t0) / 1000 }))),
    error: (e) => errors.push((e as Error).message),
    connecting: () => {},
  }, spread);
  src.start();
  stops.push(() => src.stop());
  return { got, errors };
}

describe('FileSource', () => {
  it('plays at a speed: 1 data-hour per 0.1 s here', async () => {
    const csv = 'time,v\n' + [0, 1, 2, 3].map((h) => `${h * 3600},${h}`).join('\n');
    const f = file(csv, 'a.csv', '#v&speed=36000&loop=false');
    await until(() => f.got.length === 4, 'four values');
    expect(f.got.map((r) => r.value)).toEqual([0, 1, 2, 3]);
    const last = f.got[3]!.at - f.got[0]!.at;
    expect(last).toBeGreaterThan(0.25);
    expect(last).toBeLessThan(0.6);
  });

  it('loops, moving data times on by the series span each time round', async () => {
    const f = file('[{"time":10,"value":1},{"time":11,"value":2}]', 'a.json', '#&speed=20');
    await until(() => f.got.length >= 6, 'three loops');
    expect(f.got.slice(0, 6).map((r) => [r.value, r.dataTime])).toEqual([
      [1, 10],
      [2, 11],
      [1, 12],
      [2, 13],
      [1, 14],
      [2, 15],
    ]);
  });

  it('without a speed, spreads the file over the spread time', async () => {
    const f = file('time,v\n0,1\n1000,2\n2000,3\n', 'b.csv', '#v&loop=false', 0.3);
    await until(() => f.got.length === 3, 'three values');
    expect(f.got[2]!.at - f.got[0]!.at).toBeGreaterThan(0.15);
    expect(f.got[2]!.at - f.got[0]!.at).toBeLessThan(0.5);
  });

  it('reports a file with nothing usable as an error', async () => {
    const f = file('{"type":"FeatureCollection","features":[]}', 'e.geojson', '');
    await until(() => f.errors.length === 1, 'the error');
    expect(f.errors[0]).toMatch(/e\.geojson: no timed records/);
  });
});

describe('SimSource', () => {
  it('emits at its rate in real time, stamped with wall-clock data times', async () => {
    const got: FeedRecord[] = [];
    const src = new SimSource(parseSourceUri('sim:noise?rate=50') as Extract<SourceSpec, { kind: 'sim' }>, { records: (r) => got.push(...r), error: () => {}, connecting: () => {} });
    const t0 = Date.now() / 1000;
    src.start();
    stops.push(() => src.stop());
    await new Promise((r) => setTimeout(r, 500));
    expect(got.length).toBeGreaterThan(18);
    expect(got.length).toBeLessThan(32);
    expect(Math.abs(got[0]!.dataTime - t0)).toBeLessThan(0.1);
  });
});
