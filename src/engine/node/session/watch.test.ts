/**
 * Hot reload: the file watcher on a real folder (an editor's save by rename,
 * several writes settling into one change), and a session watching its patch
 * file and data file with no audio device (`sink: 'none'`): a valid change is
 * swapped in and heard at its new tempo (onsets measured on a recording of the
 * output), a broken file is reported with its line while the old patch plays
 * on, and the fix is swapped in.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onsets } from '../../core/analysis.ts';
import { loadPatchFile } from '../files.ts';
import { FileWatcher } from './watch.ts';
import { Session } from './Session.ts';
import { SessionEvent as EventSchema, Snapshot, type SessionEvent } from '../../../shared/protocol.ts';
import { until } from '../../../../tests/support/wait.ts';
import { readWav } from '../../../../tests/support/recording.ts';

const dir = mkdtempSync(join(tmpdir(), 'ecosym-watch-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Saves as editors do: a new file beside it, renamed over the old one. */
function saveByRename(file: string, text: string): void {
  writeFileSync(`${file}.swp`, text);
  renameSync(`${file}.swp`, file);
}

describe('FileWatcher', () => {
  it('sees a save by rename and a save in place, each once, and ignores other files in the folder', async () => {
    const a = join(dir, 'w-a.yaml');
    const b = join(dir, 'w-b.csv');
    writeFileSync(a, 'one');
    writeFileSync(b, 'x');
    const seen: string[][] = [];
    const w = new FileWatcher({ debounceMs: 50, onChange: (c) => seen.push(c) });
    try {
      w.setFiles([a, b]);
      // An unrelated file first: had it counted, it would show up as a change of its own.
      writeFileSync(join(dir, 'w-other.txt'), 'noise');
      saveByRename(a, 'two');
      await until(() => seen.length >= 1, 'the rename save to be seen');
      // Several writes in a row settle into one change.
      writeFileSync(b, 'y');
      writeFileSync(b, 'yz');
      writeFileSync(b, 'yzw');
      await until(() => seen.length >= 2, 'the in-place writes to be seen');
      // The watch survives the rename: a second save by rename is seen too.
      saveByRename(a, 'three!');
      await until(() => seen.length >= 3, 'the second rename save to be seen');
      expect(seen).toEqual([[a], [b], [a]]);
    } finally {
      w.close();
    }
  });
});

/** A tick on every beat (quarter notes) at a tempo: onsets measure the tempo. */
function patchText(tempo: number | string): string {
  return `name: ticks
tempo: ${tempo}
streams:
  level:
    source: data.csv#value@time
    default: 5
    valid: [0, 100]
signals:
  loud: { from: level, range: [0, 10] }
voices:
  tick:
    synth: synth
    oscillator: sine
    volume: -6
    poly: 2
    envelope: { attack: 0.001, decay: 0.06, sustain: 0, release: 0.04 }
    notes: { mode: fixed, note: A5 }
    rhythm: { pattern: "x", every: 4n }
`;
}


/**
 * The beat heard in [from, to) seconds of a recording, at `bpm`: the shortest
 * interval between onsets is one beat, and nearly every interval is a whole
 * number of beats. (On a loaded machine a tick can come late and be dropped:
 * that makes an interval of two beats, never one of another tempo.)
 */
function expectBeat(x: Float32Array, sr: number, from: number, to: number, bpm: number, why: string): void {
  const t = onsets(x.subarray(Math.round(from * sr), Math.round(to * sr)), sr, 2, -40, 0.1);
  const d = t.slice(1).map((v, i) => v - t[i]!);
  const beat = 60 / bpm;
  expect(d.length, why).toBeGreaterThanOrEqual(3);
  expect(Math.min(...d), `${why}: intervals ${d.map((v) => v.toFixed(3)).join(' ')}`).toBeCloseTo(beat, 1);
  const whole = d.filter((v) => Math.abs(v / beat - Math.round(v / beat)) * beat < 0.05).length;
  expect(whole / d.length, `${why}: intervals ${d.map((v) => v.toFixed(3)).join(' ')}`).toBeGreaterThanOrEqual(0.8);
}

describe('Session with watch', () => {
  const file = join(dir, 'ticks.yaml');
  const csv = join(dir, 'data.csv');
  let session: Session;
  const events: SessionEvent[] = [];
  const reloads = () => events.filter((e): e is Extract<SessionEvent, { type: 'reload' }> => e.type === 'reload');
  const seconds = () => session.snapshot().recording?.seconds ?? 0;

  beforeAll(async () => {
    writeFileSync(csv, 'time,value\n0,2\n1,4\n2,6\n3,8\n');
    writeFileSync(file, patchText(90));
    session = await Session.open({ patch: loadPatchFile(file), sink: 'none', cacheDir: false, midi: false, patchesDir: dir, watch: { crossfade: 0.2, debounceMs: 50 } });
    session.onEvent((e) => events.push(e));
    await session.start();
    await until(() => (session.snapshot().peakDb ?? -Infinity) > -30, 'the ticks to sound', 30_000);
  }, 60_000);
  afterAll(async () => {
    await session?.stop();
  });

  it('watches the patch and the data file it names', () => {
    const s = session.snapshot();
    expect(s.watch?.files.sort()).toEqual([csv, file].sort());
    expect(s.watch?.ok).toBe(true);
    expect(Snapshot.safeParse(s).error).toBeUndefined();
  });

  it('swaps in a valid change: the new tempo is in the snapshot and heard', async () => {
    const wav = join(dir, 'out', 'tempo.wav');
    expect((await session.handle({ type: 'record', action: 'start', path: 'tempo.wav' })).ok).toBe(true);
    await until(() => seconds() > 3, 'three seconds at 90 BPM', 30_000);
    const changedAt = seconds();
    saveByRename(file, patchText(150));
    await until(() => reloads().length === 1, 'the reload');
    const r = reloads()[0]!;
    expect(EventSchema.safeParse(r).error).toBeUndefined();
    expect(r).toMatchObject({ ok: true, file, changed: [file] });
    expect(session.snapshot().tempo).toBe(150);
    const swappedAt = seconds();
    await until(() => seconds() > swappedAt + 3.5, 'three seconds at 150 BPM', 30_000);
    expect((await session.handle({ type: 'record', action: 'stop' })).ok).toBe(true);
    const { left, sampleRate } = readWav(wav);
    // 90 BPM: a tick every 0.667 s; 150 BPM: every 0.4 s (after the 0.2 s crossfade).
    const late = `${session.snapshot().engine.lateNotes} late notes`;
    expectBeat(left, sampleRate, 0.2, changedAt, 90, `before the change, ${late}`);
    expectBeat(left, sampleRate, swappedAt + 0.5, swappedAt + 3.5, 150, `after the change, ${late}`);
  }, 90_000);

  it('reports a broken file with its line and path and keeps playing the old patch; the fix is swapped in', async () => {
    const before = reloads().length;
    // Line 2 is the tempo.
    saveByRename(file, patchText('"fast"'));
    await until(() => reloads().length === before + 1, 'the failed reload');
    const bad = reloads().at(-1)!;
    expect(bad.ok).toBe(false);
    expect(bad.errors).toContainEqual(expect.objectContaining({ file, line: 2, path: 'tempo' }));
    expect(session.snapshot().watch).toMatchObject({ ok: false, errors: bad.errors });
    // A full second of the meter's window after the failure: the old patch still sounds.
    const t = session.snapshot().engine.time;
    await until(() => session.snapshot().engine.time > t + 1.2, 'a second of audio');
    const { rms, peak } = session.outputLevels();
    expect(20 * Math.log10(rms)).toBeGreaterThan(-60);
    expect(20 * Math.log10(peak)).toBeGreaterThan(-30);
    expect(session.snapshot().tempo).toBe(150);

    // A patch that parses but names a source URI that does not: also refused, with its line.
    saveByRename(file, patchText(100).replace('data.csv#value@time', 'gopher://nowhere'));
    await until(() => reloads().length === before + 2, 'the second failed reload');
    expect(reloads().at(-1)!.errors).toContainEqual(expect.objectContaining({ file, line: 5, path: 'streams.level.source' }));
    expect(session.snapshot().tempo).toBe(150);

    saveByRename(file, patchText(120));
    await until(() => reloads().length === before + 3, 'the reload of the fix');
    expect(reloads().at(-1)).toMatchObject({ ok: true });
    expect(session.snapshot().tempo).toBe(120);
    expect(session.snapshot().watch).toMatchObject({ ok: true, errors: [] });
  }, 60_000);

  it('reloads when the data file changes', async () => {
    const before = reloads().length;
    writeFileSync(csv, 'time,value\n0,9\n1,9\n2,9\n3,9\n');
    await until(() => reloads().length === before + 1, 'the reload after the data changed');
    expect(reloads().at(-1)).toMatchObject({ ok: true, changed: [csv] });
    await until(() => session.snapshot().streams.level?.raw === 9, 'the new data to play');
  }, 30_000);
});
