/**
 * The library and authoring commands on a real session (sink none): the
 * library listing, duplicating a built-in, uploading a data file bound to a
 * stream, reading, validating and saving a patch (a broken save keeps the old
 * patch sounding; a fixed one hot-swaps), and the stream preview.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadPatchFile, PATCHES_DIR, PROJECT_ROOT } from '../files.ts';
import { readFeedFile } from '../sources/paced.ts';
import { collectStreams, type Collected } from '../sources/collect.ts';
import { checkPatchText } from './library.ts';
import { parseSourceUri } from '../../core/sources/uri.ts';
import { Session } from './Session.ts';
import type { Reply } from '../../../shared/protocol.ts';
import type { LibraryEntry, TextError } from './library.ts';
import type { StreamPreview } from './preview.ts';
import { until } from '../../../../tests/support/wait.ts';

const root = mkdtempSync(join(tmpdir(), 'ecosym-author-'));
const userDir = join(root, 'patches');
mkdirSync(userDir);
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A held sine chord (it sounds at once and steadily), with a co2 stream. */
function patchYaml(name: string, extra = ''): string {
  return `name: ${name}
tempo: 90
streams:
  co2: { unit: ppm, default: 400, valid: [0, 2000] }
signals:
  level: { from: co2, range: [300, 500] }
voices:
  pad:
    synth: synth
    oscillator: sine
    volume: -6
    envelope: { attack: 0.3, release: 1 }
    notes: { mode: chord, octave: 3 }
    rhythm: { hold: true }
${extra}`;
}
const fileA = join(userDir, 'alpha.yaml');
writeFileSync(fileA, patchYaml('alpha'));

let session: Session;

async function ok<T = unknown>(cmd: unknown): Promise<T> {
  const r: Reply = await session.handle(cmd);
  if (!r.ok) throw new Error(`${JSON.stringify(cmd).slice(0, 200)}: ${r.error}`);
  return r.data as T;
}

async function fails(cmd: unknown): Promise<string> {
  const r = await session.handle(cmd);
  if (r.ok) throw new Error(`${JSON.stringify(cmd).slice(0, 200)} was accepted`);
  return r.error;
}

const level = () => session.snapshot().rmsDb ?? -Infinity;

beforeAll(async () => {
  session = await Session.open({ patch: loadPatchFile(fileA), sink: 'none', cacheDir: false, midi: false, patchesDir: userDir, loopSeconds: 60, watch: { debounceMs: 50 } });
  await session.start();
  await until(() => level() > -40, 'the pad to sound', 30_000);
}, 60_000);
afterAll(async () => {
  await session?.stop();
});

describe('library', () => {
  it('lists the built-in patches with description and streams, and the user folder', async () => {
    const lib = await ok<{ userDir: string; patches: LibraryEntry[] }>({ type: 'library' });
    expect(lib.userDir).toBe(resolve(userDir));
    const builtin = lib.patches.filter((p) => p.builtin);
    // Every patch of patches/ (by file name), and only those.
    const files = readdirSync(PATCHES_DIR).filter((f) => f.endsWith('.yaml')).sort();
    expect(files.length).toBeGreaterThanOrEqual(3);
    expect(builtin.map((p) => p.key)).toEqual(files.map((f) => `builtin:${f.replace(/\.yaml$/, '')}`));
    const pulse = builtin.find((p) => p.key === 'builtin:carbon-pulse')!;
    expect(pulse).toMatchObject({ name: 'Carbon Pulse', ref: { id: 'carbon-pulse' } });
    expect(pulse.description).toMatch(/Mauna Loa/);
    expect(pulse.streams).toEqual([
      expect.objectContaining({ name: 'co2', unit: 'ppm', file: { path: join(PROJECT_ROOT, 'samples/data/co2-concentration.csv'), exists: true, bytes: expect.any(Number) } }),
    ]);
    const user = lib.patches.filter((p) => !p.builtin);
    expect(user).toEqual([expect.objectContaining({ key: 'user:alpha.yaml', name: 'alpha', ref: { path: fileA } })]);
  });

  it('duplicates a built-in into the user folder under a free name; the copy finds its data and plays', async () => {
    const first = await ok<{ path: string }>({ type: 'duplicate', builtin: 'carbon-pulse' });
    const second = await ok<{ path: string }>({ type: 'duplicate', builtin: 'carbon-pulse' });
    expect(first.path).toBe(join(resolve(userDir), 'carbon-pulse.yaml'));
    expect(second.path).toBe(join(resolve(userDir), 'carbon-pulse-2.yaml'));
    const text = readFileSync(first.path, 'utf8');
    // Comments and layout kept; the relative data path made absolute.
    expect(text).toContain('A rhythmic set driven by the Mauna Loa CO2 record');
    expect(text).toContain(`source: ${join(PROJECT_ROOT, 'samples/data/co2-concentration.csv')}#CO2@Date`);
    expect(readdirSync(userDir).filter((f) => f.includes('.tmp'))).toEqual([]);
    const lib = await ok<{ patches: LibraryEntry[] }>({ type: 'library' });
    const copy = lib.patches.find((p) => p.key === 'user:carbon-pulse.yaml')!;
    expect(copy.error).toBeUndefined();
    expect(copy.streams[0]!.file!.exists).toBe(true);
    expect(await fails({ type: 'duplicate', builtin: 'nope' })).toMatch(/no built-in patch "nope"/);
    rmSync(second.path);
  });
});

describe('author', () => {
  it('patchSource gives the playing patch, a built-in read-only, and no file outside the library', async () => {
    const mine = await ok<{ path: string; text: string; editable: boolean }>({ type: 'patchSource' });
    expect(mine).toMatchObject({ path: fileA, editable: true });
    expect(mine.text).toBe(readFileSync(fileA, 'utf8'));
    const built = await ok<{ path: string; editable: boolean; builtin: boolean }>({ type: 'patchSource', ref: { id: 'warming-stripes' } });
    expect(built).toMatchObject({ path: join(PATCHES_DIR, 'warming-stripes.yaml'), editable: false, builtin: true });
    expect(await fails({ type: 'patchSource', ref: { path: '/etc/passwd' } })).toMatch(/not a patch of the library/);
  });

  it('validate gives each error with its line, column and path', async () => {
    const text = patchYaml('alpha').replace('    volume: -6\n', '    volume: -6\n    wobble: 3\n');
    const r = await ok<{ ok: boolean; errors: TextError[] }>({ type: 'validate', text });
    expect(r.ok).toBe(false);
    const line = text.split('\n').findIndex((l) => l.includes('wobble')) + 1;
    expect(r.errors).toEqual([{ line, column: 5, path: 'voices.pad', message: expect.stringMatching(/unknown key "wobble"/) }]);
    // A source URI that does not parse is an error at its line, as loading would find it.
    const bad = patchYaml('alpha').replace('default: 400,', 'default: 400, source: "sim:wobble",');
    const r2 = await ok<{ errors: TextError[] }>({ type: 'validate', text: bad });
    expect(r2.errors).toEqual([expect.objectContaining({ line: 4, path: 'streams.co2.source', message: expect.stringMatching(/unknown simulation "wobble"/) })]);
    expect(await ok({ type: 'validate', text: patchYaml('fine') })).toEqual({ ok: true, errors: [] });
  });

  it('save of a broken patch writes nothing and the old patch sounds on; saved fixed, the session swaps to it', async () => {
    const before = readFileSync(fileA, 'utf8');
    const loads = session.snapshot().engine.loads;
    const broken = patchYaml('alpha-2').replace('  level: { from: co2', '  level: { form: co2');
    const r = await ok<{ saved: boolean; errors: TextError[] }>({ type: 'save', path: fileA, text: broken });
    expect(r.saved).toBe(false);
    expect(r.errors).toContainEqual({ line: 6, column: 12, path: 'signals.level', message: expect.stringMatching(/unknown key "form" \(did you mean "from"\?\)/) });
    expect(readFileSync(fileA, 'utf8')).toBe(before);
    expect(session.snapshot()).toMatchObject({ patch: { name: 'alpha' } });
    expect(session.snapshot().engine.loads).toBe(loads);
    // Still sounding, a second later.
    const t = session.snapshot().engine.time;
    await until(() => session.snapshot().engine.time > t + 1, 'a second of audio');
    expect(level()).toBeGreaterThan(-40);

    const fixed = patchYaml('alpha-2');
    const s = await ok<{ saved: boolean; path: string }>({ type: 'save', path: 'alpha.yaml', text: fixed, crossfade: 0.2 });
    expect(s).toMatchObject({ saved: true, path: fileA });
    expect(readFileSync(fileA, 'utf8')).toBe(fixed);
    expect(session.snapshot().patch).toMatchObject({ name: 'alpha-2', file: fileA });
    expect(session.snapshot().engine.loads).toBe(loads + 1);
    await until(() => level() > -40, 'the new patch to sound');
    // The session watches its patch: the echo of its own write is not a second swap,
    // while another program's write after it is.
    const t2 = session.snapshot().engine.time;
    await until(() => session.snapshot().engine.time > t2 + 1, 'a second of audio');
    writeFileSync(fileA, patchYaml('alpha-3'));
    await until(() => session.snapshot().patch?.name === 'alpha-3', 'the watcher to swap in the outside edit');
    expect(session.snapshot().engine.loads).toBe(loads + 2);
  });

  it('save writes only into the user folder or the opened patch', async () => {
    const outside = join(root, 'elsewhere.yaml');
    expect(await fails({ type: 'save', path: outside, text: patchYaml('x') })).toMatch(/not writable from here/);
    expect(existsSync(outside)).toBe(false);
    expect(await fails({ type: 'save', path: join(PATCHES_DIR, 'carbon-pulse.yaml'), text: patchYaml('x') })).toMatch(/built-in patches are read-only/);
    expect(await fails({ type: 'save', path: '../escape.yaml', text: patchYaml('x') })).toMatch(/not writable/);
    expect(existsSync(join(root, 'escape.yaml'))).toBe(false);
    expect(await fails({ type: 'save', path: 'notes.txt', text: patchYaml('x') })).toMatch(/\.yaml, \.yml or \.json/);
  });
});

describe('upload', () => {
  it('puts a CSV into the user folder under a safe name and binds a stream to it: its values reach the session', async () => {
    const csv = 'time,ppm\n' + Array.from({ length: 50 }, (_, i) => `${2000 + i},${(451 + (i % 3)).toFixed(0)}`).join('\n') + '\n';
    const r = await ok<{ path: string; uri: string; summary: string }>({ type: 'upload', name: '../../my co2;rm -rf.csv', text: csv, stream: 'co2', select: 'ppm' });
    expect(r.path).toBe(join(resolve(userDir), 'data', 'my-co2-rm-rf.csv'));
    expect(readFileSync(r.path, 'utf8')).toBe(csv);
    expect(r.summary).toMatch(/50 rows/);
    await until(() => [451, 452, 453].includes(session.snapshot().streams.co2!.raw as number), 'a value of the uploaded file');
    expect(session.snapshot().streams.co2!.uri).toBe(r.uri);

    expect(await fails({ type: 'upload', name: 'junk.csv', text: 'a,b\nx,y\n' })).toMatch(/junk\.csv/);
    expect(existsSync(join(userDir, 'data', 'junk.csv'))).toBe(false);
    expect(await fails({ type: 'upload', name: 'big.csv', text: 'x'.repeat(251 * 1024) })).toMatch(/over the .*-character limit/);
    expect(await fails({ type: 'upload', name: 'a.csv', text: csv, stream: 'nope' })).toMatch(/no stream "nope"/);
  });
});

describe('streamPreview', () => {
  const pulse = readFileSync(join(PATCHES_DIR, 'carbon-pulse.yaml'), 'utf8');

  it("gives a file stream's raw series and each signal as the engine conditions it, thresholds crossing where the data does", async () => {
    const p = await ok<StreamPreview>({ type: 'streamPreview', text: pulse, path: join(PATCHES_DIR, 'carbon-pulse.yaml'), stream: 'co2' });
    const spec = parseSourceUri('../samples/data/co2-concentration.csv#CO2@Date');
    const file = await readFeedFile(join(PROJECT_ROOT, 'samples/data/co2-concentration.csv'), spec as Extract<typeof spec, { kind: 'file' }>);
    expect(p.rows).toBe(file.length);
    expect(p.points).toBe(file.length); // under 2,000: every row
    expect(p.raw[0]).toBe(file.record(0).value);
    expect(p.signals.map((s) => s.name)).toEqual(['concentration', 'tipping', 'season']);
    const tipping = p.signals.find((s) => s.name === 'tipping')!;
    expect(tipping).toMatchObject({ range: [315, 415], threshold: { above: 0.85, hysteresis: 0.03 } });
    // No smoothing on tipping: each value is the raw one normalised and clamped.
    for (let i = 0; i < p.points; i++) expect(tipping.values[i]).toBeCloseTo(Math.min(1, Math.max(0, (p.raw[i]! - 315) / 100)), 9);
    // It switches on where CO2 first passes 315 + 0.85 × 100 = 400 ppm.
    const firstAbove = p.raw.findIndex((v) => v! >= 400);
    expect(tipping.events[0]).toEqual({ t: p.t[firstAbove], state: 'on' });
    // Smoothing lags: the smoothed signal's mean step is smaller than the raw one's.
    const concentration = p.signals.find((s) => s.name === 'concentration')!;
    const steps = (xs: Array<number | null>) => xs.slice(1).reduce<number>((a, x, i) => a + Math.abs(x! - xs[i]!), 0);
    expect(steps(concentration.values)).toBeLessThan(steps(tipping.values) * 0.9);
  });

  it('thins a long series to at most 2,000 points, keeping its extremes', async () => {
    const drift = readFileSync(join(PATCHES_DIR, 'seattle-drift.yaml'), 'utf8');
    const p = await ok<StreamPreview>({ type: 'streamPreview', text: drift, path: join(PATCHES_DIR, 'seattle-drift.yaml'), stream: 'temperature' });
    expect(p.rows).toBeGreaterThan(8000);
    expect(p.points).toBeLessThanOrEqual(2000);
    expect(p.t.length).toBe(p.points);
    for (const s of p.signals) expect(s.values.length).toBe(p.points);
    expect(p.t.every((t, i) => i === 0 || t > p.t[i - 1]!)).toBe(true);
    const spec = parseSourceUri(loadPatchFile(join(PATCHES_DIR, 'seattle-drift.yaml')).patch.streams.temperature!.source!);
    const file = await readFeedFile(join(PATCHES_DIR, (spec as { path: string }).path), spec as Extract<typeof spec, { kind: 'file' }>);
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = 0; i < file.length; i++) {
      const v = file.record(i).value as number;
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
    expect(Math.min(...(p.raw as number[]))).toBe(lo);
    expect(Math.max(...(p.raw as number[]))).toBe(hi);
  });

  it('the dated file streams of a patch preview at the speed of their shared time axis (as they play)', async () => {
    const path = join(PATCHES_DIR, 'four-chapters.yaml');
    const text = readFileSync(path, 'utf8');
    const yearly = await ok<StreamPreview>({ type: 'streamPreview', text, path, stream: 'anomaly' });
    const fiveYear = await ok<StreamPreview>({ type: 'streamPreview', text, path, stream: 'decade' });
    expect(yearly.rows).toBe(144);
    // 1880–2023 yearly (a loop to 2024) and 5-year means to 2020 (a loop to 2025): one axis, the union.
    expect(fiveYear.speed).toBe(yearly.speed);
    const alone = await ok<StreamPreview>({ type: 'streamPreview', text: text.replace(/\n {2}decade:[\s\S]*?(?=\nsignals:)/, '\n  decade: { default: 0 }\n'), path, stream: 'anomaly' });
    expect(alone.speed / yearly.speed).toBeCloseTo(144 / 145, 3);
  });

  /** The values and data times `render` feeds the engine for each stream of a patch text (over a 10-minute render, no thinning at these sizes). */
  async function rendered(text: string, path: string): Promise<Map<string, { values: unknown[]; times: number[] }>> {
    const r = checkPatchText(text, path);
    if (!r.ok) throw new Error(JSON.stringify(r.errors));
    const all = await collectStreams(r.pf.patch, r.pf.dir, new Map(), { duration: 600 });
    return new Map(
      [...all].map(([k, c]) => {
        if (c instanceof Error) throw c;
        const { points } = (c as Collected).feed;
        return [k, { values: points.map((p) => p.value), times: points.map((p) => p.dataTime!) }];
      }),
    );
  }

  it("reads a stream as render does: iowa-power's streams, each one source picked by the patch's `where:`", async () => {
    const path = join(PATCHES_DIR, 'iowa-power.yaml');
    const text = readFileSync(path, 'utf8');
    const feeds = await rendered(text, path);
    const raws: Array<Array<number | null>> = [];
    for (const stream of ['fossil', 'nuclear', 'renewables']) {
      const p = await ok<StreamPreview>({ type: 'streamPreview', text, path, stream });
      const feed = feeds.get(stream)!;
      // 17 years (2001–2017) of one source, not the 51 rows of all three.
      expect(feed.values.length).toBe(17);
      expect(p.rows).toBe(17);
      expect(p.raw).toEqual(feed.values);
      expect(p.t).toEqual(feed.times);
      expect(p.summary).toMatch(/17 values/);
      raws.push(p.raw);
    }
    // Three different series: fossil far above nuclear, renewables growing past it.
    expect(Math.min(...(raws[0] as number[]))).toBeGreaterThan(Math.max(...(raws[1] as number[])));
    expect(raws[2]!.at(-1)!).toBeGreaterThan(raws[2]![0]! * 5);
  });

  it("reads a stream's `resample:` and `agg:` patch fields (and its gate) as render does", async () => {
    const path = join(userDir, 'peaks.yaml');
    const csv = join(PROJECT_ROOT, 'samples/data/global-temp.csv');
    const text = `name: peaks
streams:
  peak: { source: "${csv}#temp@year", resample: 10y, agg: max, unit: degC, default: 0, valid: [0.05, 3] }
  yearly: { source: "${csv}#temp@year", unit: degC, default: 0 }
signals:
  warmth: { from: peak, range: [-0.5, 1.2] }
voices:
  pad: { synth: synth, notes: { mode: chord, octave: 3 }, rhythm: { hold: true } }
`;
    const feeds = await rendered(text, path);
    const peak = await ok<StreamPreview>({ type: 'streamPreview', text, path, stream: 'peak' });
    const yearly = await ok<StreamPreview>({ type: 'streamPreview', text, path, stream: 'yearly' });
    expect(yearly.rows).toBe(144);
    // 1880–2023 in 10-year maxima is 15 values, less the early decades whose peak is under the valid range.
    expect(peak.rows).toBeGreaterThan(5);
    expect(peak.rows).toBeLessThan(15);
    expect(peak.raw).toEqual(feeds.get('peak')!.values);
    expect(peak.t).toEqual(feeds.get('peak')!.times);
    expect(peak.summary).toMatch(/rejected \(out-of-range/);
    // Each decade's value is the greatest year of it (max, not mean).
    const years = new Map(yearly.t.map((t, i) => [new Date(t * 1000).getUTCFullYear(), yearly.raw[i]!]));
    const decade = new Date(peak.t.at(-2)! * 1000).getUTCFullYear();
    const inIt = [...years].filter(([y]) => y >= decade && y < decade + 10).map(([, v]) => v);
    expect(peak.raw.at(-2)).toBeCloseTo(Math.max(...inIt), 9);
    // Both dated streams on one time axis, as they play.
    expect(peak.speed).toBe(yearly.speed);
  });

  it('says what is wrong: an unknown stream, a live source, a patch with errors', async () => {
    expect(await fails({ type: 'streamPreview', text: pulse, stream: 'wind' })).toMatch(/no stream "wind"/);
    const live = patchYaml('x').replace('default: 400,', 'default: 400, source: "sim:walk",');
    expect(await fails({ type: 'streamPreview', text: live, stream: 'co2', path: 'other.yaml' })).toMatch(/comes from sim .* needs a data file/);
    expect(await fails({ type: 'streamPreview', text: 'name: x\nstreams: 3\n', stream: 'co2' })).toMatch(/the patch has errors: line 2/);
  });
});
