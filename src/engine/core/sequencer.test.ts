import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parsePatchOrThrow, validatePatchObject, formatPatchError } from './patchLoader.ts';
import type { Patch } from './patchSchema.ts';
import { Sequencer, type NoteEvent } from './sequencer.ts';
import { MODE_NAMES, MODES, type ModeName } from './theory.ts';

const PATCH_DIR = fileURLToPath(new URL('../../../patches/', import.meta.url));

/** Builds a validated patch with the given voices (and top-level overrides). */
function patch(voices: Record<string, unknown>, over: Record<string, unknown> = {}): Patch {
  const r = validatePatchObject({ name: 'T', tempo: 120, key: 'C major', streams: { s: {} }, voices, ...over });
  if (!r.ok) throw new Error(r.errors.map(formatPatchError).join('\n'));
  return r.patch;
}

function collect(seq: Sequencer, until: number): NoteEvent[] {
  const out: NoteEvent[] = [];
  seq.advance(until, (e) => out.push(e));
  return out;
}

const BAR_120 = 2; // seconds per 4/4 bar at 120 BPM
const inScale = (mode: ModeName, tonic: number, m: number) => (MODES[mode] as readonly number[]).includes((((m - tonic) % 12) + 12) % 12);

/** A patch exercising every pitch rule and rhythm kind. */
const EVERYTHING = patch(
  {
    drone: { synth: 'fm', rhythm: { hold: true }, notes: { mode: 'chord', octave: 3 } },
    arp: { synth: 'synth', rhythm: { euclid: [5, 8], every: '8n' }, notes: { mode: 'arp-up', spread: 2 }, density: 0.8 },
    down: { synth: 'synth', rhythm: { pattern: 'x.X.-xx.', rotate: 3 }, notes: { mode: 'arp-down' }, density: 0.7 },
    lead: { synth: 'synth', rhythm: { euclid: [7, 16] }, notes: { mode: 'random', octave: 5, spread: 1 }, density: 0.6 },
    bass: { synth: 'mono', rhythm: { pattern: 'x..x..x.' }, notes: { mode: 'root', octave: 2 } },
    kick: { synth: 'membrane', rhythm: { euclid: [4, 16] }, notes: { mode: 'fixed', note: 'C2', octave: 2 } },
  },
  { key: 'D dorian', tempo: 97, seed: 99, harmony: { progression: ['i', 'iv', 'v7', 'VII'], barsPerChord: 1 } },
);

describe('determinism', () => {
  const bars = 64;
  const end = (bars * 16 * 60) / 97 / 4;

  it('same patch + seed → identical events over 64 bars however advance() is chunked (property)', () => {
    const whole = collect(new Sequencer(EVERYTHING, 0), end);
    expect(whole.length).toBeGreaterThan(1000);
    expect(Math.max(...whole.map((e) => e.step))).toBeGreaterThanOrEqual(bars * 16 - 2);
    fc.assert(
      fc.property(fc.array(fc.double({ min: 0.001, max: 7, noNaN: true }), { minLength: 1, maxLength: 200 }), (chunks) => {
        const seq = new Sequencer(EVERYTHING, 0);
        const out: NoteEvent[] = [];
        let t = 0;
        for (const c of chunks) {
          t = Math.min(end, t + c);
          seq.advance(t, (e) => out.push(e));
        }
        seq.advance(end, (e) => out.push(e));
        expect(out).toStrictEqual(whole);
      }),
      { numRuns: 25 },
    );
  });

  it('tiny regular windows (25 ms, like a realtime scheduler) give the same events', () => {
    const whole = collect(new Sequencer(EVERYTHING, 3), end + 3);
    const seq = new Sequencer(EVERYTHING, 3);
    const out: NoteEvent[] = [];
    for (let t = 3; t < end + 3; t += 0.025) seq.advance(t, (e) => out.push(e));
    seq.advance(end + 3, (e) => out.push(e));
    expect(out).toStrictEqual(whole);
  });

  it('a new Sequencer over the same patch repeats the same piece', () => {
    expect(collect(new Sequencer(EVERYTHING, 0), 60)).toStrictEqual(collect(new Sequencer(EVERYTHING, 0), 60));
  });

  it('another seed gives other events (chance and random pitches both change)', () => {
    const a = collect(new Sequencer(EVERYTHING, 0), 60);
    const b = collect(new Sequencer(EVERYTHING, 0, 100), 60);
    expect(b).not.toStrictEqual(a);
    const lead = (es: NoteEvent[]) => es.filter((e) => e.voice === 'lead');
    expect(lead(b).map((e) => e.step)).not.toStrictEqual(lead(a).map((e) => e.step));
    // the patch's seed is the default seed
    expect(collect(new Sequencer(EVERYTHING, 0, 99), 60)).toStrictEqual(a);
  });

  it('decisions are keyed by voice name, not position: adding a voice does not change the others', () => {
    const withExtra = patch(
      { extra: { synth: 'synth', rhythm: { euclid: [3, 8] }, density: 0.5 }, ...EVERYTHING.voices },
      { key: 'D dorian', tempo: 97, seed: 99, harmony: EVERYTHING.harmony },
    );
    const a = collect(new Sequencer(EVERYTHING, 0), 60);
    const b = collect(new Sequencer(withExtra, 0), 60).filter((e) => e.voice !== 'extra');
    expect(b).toStrictEqual(a);
  });
});

describe('rhythm', () => {
  it('euclid [3, 8] hits steps 0, 3, 6 of every 8, at step times, with a one-step duration', () => {
    const seq = new Sequencer(patch({ v: { synth: 'synth', rhythm: { euclid: [3, 8] }, notes: { mode: 'fixed', note: 'C4' } } }), 10);
    const es = collect(seq, 10 + 2 * BAR_120);
    expect(es.map((e) => e.step)).toStrictEqual([0, 3, 6, 8, 11, 14, 16, 19, 22, 24, 27, 30]);
    expect(es[1]).toStrictEqual({ voice: 'v', notes: [60], time: 10.375, duration: 0.125, velocity: 0.7, step: 3 });
    expect(es.map((e) => e.time)).toStrictEqual(es.map((e) => 10 + e.step * 0.125));
  });

  it('every: 8n stretches the pattern over the grid; rotate turns it', () => {
    const seq = new Sequencer(
      patch({
        slow: { synth: 'synth', rhythm: { euclid: [3, 8], every: '8n' }, notes: { length: 2 } },
        rot: { synth: 'synth', rhythm: { euclid: [3, 8], rotate: 1 } },
      }),
      0,
    );
    const es = collect(seq, 2 * BAR_120);
    expect(es.filter((e) => e.voice === 'slow').map((e) => e.step)).toStrictEqual([0, 6, 12, 16, 22, 28]);
    expect(es.filter((e) => e.voice === 'slow')[0]!.duration).toBe(2 * 2 * 0.125); // length 2 × 8n
    expect(es.filter((e) => e.voice === 'rot').map((e) => e.step)).toStrictEqual([2, 5, 7, 10, 13, 15, 18, 21, 23, 26, 29, 31]);
  });

  it('step patterns: x and X set the velocity, rests play nothing', () => {
    const seq = new Sequencer(patch({ v: { synth: 'synth', rhythm: { pattern: 'X.x-' }, velocity: 0.8 } }), 0);
    const es = collect(seq, 1);
    expect(es.map((e) => e.step)).toStrictEqual([0, 2, 4, 6]);
    expect(es[0]!.velocity).toBeCloseTo(0.8, 12);
    expect(es[1]!.velocity).toBeCloseTo(0.6, 12);
  });

  it('hold voices play the chord at each chord change, held until the next', () => {
    const p = patch(
      { pad: { synth: 'fm', rhythm: { hold: true }, notes: { mode: 'chord', octave: 3 } } },
      { key: 'D dorian', harmony: { progression: ['i', 'iv'], barsPerChord: 2 } },
    );
    const es = collect(new Sequencer(p, 0), 8 * BAR_120);
    expect(es).toStrictEqual([
      { voice: 'pad', notes: [50, 53, 57], time: 0, duration: 4, velocity: 0.7, step: 0 }, // D F A
      { voice: 'pad', notes: [55, 59, 62], time: 4, duration: 4, velocity: 0.7, step: 32 }, // G B D
      { voice: 'pad', notes: [50, 53, 57], time: 8, duration: 4, velocity: 0.7, step: 64 },
      { voice: 'pad', notes: [55, 59, 62], time: 12, duration: 4, velocity: 0.7, step: 96 },
    ]);
  });

  it('chords are cut to the voice pool (poly)', () => {
    const p = patch({ pad: { synth: 'fm', poly: 3, rhythm: { hold: true }, notes: { mode: 'chord' } } }, { harmony: { progression: ['V9'], barsPerChord: 1 } });
    expect(collect(new Sequencer(p, 0), 0.1)[0]!.notes).toStrictEqual([67, 71, 74]); // G B D of G B D F A
  });
});

describe('pitch rules', () => {
  it('arp-up and arp-down walk the chord tones over the spread', () => {
    const p = patch({
      up: { synth: 'synth', rhythm: { euclid: [8, 8] }, notes: { mode: 'arp-up', octave: 4, spread: 1 } },
      down: { synth: 'synth', rhythm: { euclid: [8, 8] }, notes: { mode: 'arp-down', octave: 4, spread: 1 } },
    });
    const es = collect(new Sequencer(p, 0), 8 * 0.125);
    expect(es.filter((e) => e.voice === 'up').map((e) => e.notes[0])).toStrictEqual([60, 64, 67, 72, 76, 79, 60, 64]);
    expect(es.filter((e) => e.voice === 'down').map((e) => e.notes[0])).toStrictEqual([79, 76, 72, 67, 64, 60, 79, 76]);
  });

  it('root follows the progression; fixed keeps its note', () => {
    const p = patch(
      {
        bass: { synth: 'mono', rhythm: { pattern: 'x' }, notes: { mode: 'root', octave: 2 } },
        kick: { synth: 'membrane', rhythm: { pattern: 'x' }, notes: { mode: 'fixed', note: 'A1', octave: 1 } },
      },
      { key: 'A minor', harmony: { progression: ['i', 'vi', 'iii', 'vii'], barsPerChord: 1 } },
    );
    const es = collect(new Sequencer(p, 0), 4 * BAR_120);
    const atBars = (v: string) => es.filter((e) => e.voice === v && e.step % 16 === 0).map((e) => e.notes);
    expect(atBars('bass')).toStrictEqual([[45], [53], [48], [55]]); // A2 F3 C3 G3
    expect(new Set(es.filter((e) => e.voice === 'kick').map((e) => e.notes[0]))).toStrictEqual(new Set([33]));
  });

  it('octave modulation (mapping and scene) shifts by whole octaves, clamped to 0…8', () => {
    const p = patch({ v: { synth: 'synth', rhythm: { pattern: 'x' }, notes: { mode: 'fixed', note: 'C4', octave: 4 } } });
    const seq = new Sequencer(p, 0);
    const v = seq.voices.get('v')!;
    const at = (until: number) => collect(seq, until).map((e) => e.notes[0]);
    expect(at(0.125)).toStrictEqual([60]);
    v.mod.octave = 1.4; // rounds to 1
    expect(at(0.25)).toStrictEqual([72]);
    v.mod.sceneOctave = -3;
    expect(at(0.375)).toStrictEqual([36]);
    v.mod.octave = 9;
    v.mod.sceneOctave = 0;
    expect(at(0.5)).toStrictEqual([108]); // octave clamped to 8
  });

  it('random notes stay in the key’s scale, for every mode and seed (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), fc.constantFrom(...MODE_NAMES), fc.constantFrom('C', 'F#', 'Bb', 'E'), (seed, mode, tonic) => {
        const p = patch(
          { r: { synth: 'synth', rhythm: { euclid: [16, 16] }, notes: { mode: 'random', octave: 3, spread: 2 } } },
          { key: `${tonic} ${mode}`, seed, harmony: { progression: ['i', 'iv', 'v7', 'ii'], barsPerChord: 1 } },
        );
        const seq = new Sequencer(p, 0);
        const es = collect(seq, 8 * BAR_120);
        expect(es).toHaveLength(128);
        for (const e of es) {
          expect(e.notes).toHaveLength(1);
          expect(inScale(mode, seq.key.tonic, e.notes[0]!)).toBe(true);
          // octave 3 (C3 = 48) plus up to 2 octaves of spread, plus chord tones up to a 7th above
          expect(e.notes[0]).toBeGreaterThanOrEqual(48);
          expect(e.notes[0]).toBeLessThan(108);
        }
      }),
      { numRuns: 60 },
    );
  });

  it('random mode favours chord tones (≈ 60 % chord picks plus scale picks that land on them)', () => {
    const p = patch({ r: { synth: 'synth', rhythm: { euclid: [16, 16] }, notes: { mode: 'random', spread: 0 } } }, { key: 'C major', harmony: { progression: ['i'], barsPerChord: 1 } });
    const es = collect(new Sequencer(p, 0), 64 * BAR_120);
    const chordTones = es.filter((e) => [0, 4, 7].includes(e.notes[0]! % 12)).length / es.length;
    // 0.6 + 0.4 × 3/7 ≈ 0.77
    expect(chordTones).toBeGreaterThan(0.72);
    expect(chordTones).toBeLessThan(0.82);
  });

  it('setMode keeps the tonic and changes the notes’ scale', () => {
    const p = patch({ r: { synth: 'synth', rhythm: { euclid: [16, 16] }, notes: { mode: 'random', spread: 1 } } }, { key: 'D dorian' });
    const seq = new Sequencer(p, 0);
    seq.setMode('lydian');
    expect(seq.key).toStrictEqual({ tonic: 2, mode: 'lydian' });
    for (const e of collect(seq, 16 * BAR_120)) expect(inScale('lydian', 2, e.notes[0]!)).toBe(true);
    seq.setMode('nonsense' as ModeName);
    expect(seq.key.mode).toBe('lydian');
  });
});

describe('modulation', () => {
  const dense = () => patch({ v: { synth: 'synth', rhythm: { euclid: [16, 16] } }, w: { synth: 'synth', rhythm: { euclid: [16, 16] }, density: 0 } });

  it('density 0 plays nothing, over 64 bars', () => {
    const es = collect(new Sequencer(dense(), 0), 64 * BAR_120);
    expect(es.filter((e) => e.voice === 'w')).toStrictEqual([]);
    expect(es.filter((e) => e.voice === 'v')).toHaveLength(64 * 16);
  });

  it('mod.density takes effect from the next step generated', () => {
    const seq = new Sequencer(dense(), 0);
    const v = seq.voices.get('v')!;
    const count = (until: number) => collect(seq, until).filter((e) => e.voice === 'v').length;
    expect(count(4 * BAR_120)).toBe(64);
    v.mod.density = 0;
    expect(count(8 * BAR_120)).toBe(0);
    v.mod.density = 0.5;
    const half = count(72 * BAR_120);
    expect(half).toBeGreaterThan(0.4 * 1024);
    expect(half).toBeLessThan(0.6 * 1024);
    v.mod.density = 0.25;
    v.mod.sceneDensity = 4; // a scene factor multiplies (capped at 1)
    expect(count(76 * BAR_120)).toBe(64);
    // the mapped density replaces the patch's density, so it can bring a silent voice in
    seq.voices.get('w')!.mod.density = 1;
    expect(collect(seq, 77 * BAR_120).filter((e) => e.voice === 'w')).toHaveLength(16);
  });

  it('a lower density keeps a subset of the hits of a higher one (same seed)', () => {
    const run = (density: number) => {
      const p = patch({ v: { synth: 'synth', rhythm: { euclid: [16, 16] }, density } });
      return new Set(collect(new Sequencer(p, 0), 16 * BAR_120).map((e) => e.step));
    };
    const lo = run(0.3);
    const hi = run(0.7);
    for (const s of lo) expect(hi.has(s)).toBe(true);
    expect(hi.size).toBeGreaterThan(lo.size);
  });

  it('mod.velocity replaces the patch velocity, scaled by the accent', () => {
    const seq = new Sequencer(patch({ v: { synth: 'synth', rhythm: { pattern: 'Xx' } } }), 0);
    seq.voices.get('v')!.mod.velocity = 0.4;
    expect(collect(seq, 0.25).map((e) => e.velocity)).toStrictEqual([0.4, 0.30000000000000004]);
  });

  it('mappedTempo changes the step spacing from the next step; it wins over the scene tempo', () => {
    const seq = new Sequencer(patch({ v: { synth: 'synth', rhythm: { euclid: [16, 16] } } }), 0);
    const times = (until: number) => collect(seq, until).map((e) => e.time);
    expect(times(0.5)).toStrictEqual([0, 0.125, 0.25, 0.375]);
    expect(seq.tempo).toBe(120);
    seq.mappedTempo = 60; // 0.25 s per 16th
    expect(times(1.5)).toStrictEqual([0.5, 0.75, 1, 1.25]);
    expect(seq.tempo).toBe(60);
    seq.sceneTempo = 240;
    expect(times(2.5)).toStrictEqual([1.5, 1.75, 2, 2.25]); // mapped still wins
    seq.mappedTempo = undefined;
    expect(times(2.75)).toStrictEqual([2.5, 2.5625, 2.625, 2.6875]); // scene tempo 240: 0.0625 s
    expect(seq.tempo).toBe(240);
    seq.sceneTempo = undefined;
    collect(seq, 3);
    expect(seq.tempo).toBe(seq.baseTempo);
  });

  it('a faster tempo shortens note durations and hold spans', () => {
    const p = patch({ pad: { synth: 'fm', rhythm: { hold: true }, notes: { mode: 'chord' } } }, { harmony: { progression: ['i'], barsPerChord: 1 } });
    const seq = new Sequencer(p, 0);
    expect(collect(seq, 0.01)[0]!.duration).toBe(2);
    seq.mappedTempo = 60;
    const next = collect(seq, 10);
    expect(next[0]).toMatchObject({ step: 16, duration: 4 });
    expect(next[0]!.time).toBeCloseTo(0.125 + 15 * 0.25, 12);
  });

  it('mutedFrom stops notes from that time on (and Infinity unmutes)', () => {
    const seq = new Sequencer(patch({ v: { synth: 'synth', rhythm: { euclid: [16, 16] } } }), 0);
    const v = seq.voices.get('v')!;
    v.mod.mutedFrom = 0.5;
    const es = collect(seq, 2);
    expect(es.map((e) => e.time)).toStrictEqual([0, 0.125, 0.25, 0.375]);
    v.mod.mutedFrom = Infinity;
    expect(collect(seq, 2.25).map((e) => e.time)).toStrictEqual([2, 2.125]);
  });

  it('stopAt: no step at or after it is generated', () => {
    const seq = new Sequencer(patch({ v: { synth: 'synth', rhythm: { euclid: [16, 16] } } }), 0);
    seq.stopAt = 0.5;
    expect(collect(seq, 10).map((e) => e.time)).toStrictEqual([0, 0.125, 0.25, 0.375]);
    expect(seq.nextStepTime).toBe(0.5);
  });
});

describe('clock and harmony', () => {
  it('advance() generates every step starting before `until` (exclusive) and stops there', () => {
    const seq = new Sequencer(patch({ v: { synth: 'synth', rhythm: { euclid: [16, 16] } } }), 1);
    expect(seq.nextStepTime).toBe(1);
    expect(collect(seq, 1)).toStrictEqual([]);
    expect(collect(seq, 1.25).map((e) => e.step)).toStrictEqual([0, 1]);
    expect(seq.nextStepTime).toBe(1.25);
    expect(collect(seq, 1.25)).toStrictEqual([]);
    expect(collect(seq, 1.2500001).map((e) => e.step)).toStrictEqual([2]);
  });

  it('chordAt walks the progression bar by bar; rootAt gives the current root', () => {
    const p = patch({ v: { synth: 'synth', rhythm: { hold: true } } }, { key: 'C major', harmony: { progression: ['I', 'IV', 'V7'], barsPerChord: 2 } });
    const seq = new Sequencer(p, 0);
    expect([0, 31, 32, 63, 64, 95, 96].map((s) => seq.chordAt(s).degree)).toStrictEqual([0, 0, 3, 3, 4, 4, 0]);
    expect(seq.chordAt(64)).toStrictEqual({ degree: 4, size: 4 });
    expect(seq.rootAt(4)).toBe(60);
    collect(seq, 2 * BAR_120 + 0.01); // step 32 generated
    expect(seq.rootAt(4)).toBe(65);
    expect(seq.rootAt(2)).toBe(41);
  });

  it('the built-in patches all sequence without errors and stay in their keys for chord/root voices', () => {
    for (const file of ['carbon-pulse.yaml', 'seattle-drift.yaml', 'warming-stripes.yaml']) {
      const p = parsePatchOrThrow(readFileSync(PATCH_DIR + file, 'utf8'), file);
      const seq = new Sequencer(p, 0);
      const es = collect(seq, 60);
      expect(es.length, file).toBeGreaterThan(0);
      for (const e of es) {
        for (const n of e.notes) expect(Number.isInteger(n), `${file} ${e.voice}`).toBe(true);
        expect(e.velocity).toBeGreaterThan(0);
        expect(e.velocity).toBeLessThanOrEqual(1);
        expect(e.duration).toBeGreaterThan(0);
        const mode = p.voices[e.voice]!.notes.mode;
        if (mode === 'chord' || mode === 'root' || mode === 'random') for (const n of e.notes) expect(inScale(seq.key.mode, seq.key.tonic, n)).toBe(true);
      }
    }
  });

  it('rejects a patch object whose key or chords do not parse (when built without validation)', () => {
    const bad = { ...EVERYTHING, key: 'H minor' };
    expect(() => new Sequencer(bad, 0)).toThrow('"H" is not a note name');
    const badChord = { ...EVERYTHING, harmony: { progression: ['bVII'], barsPerChord: 1 } };
    expect(() => new Sequencer(badChord, 0)).toThrow('"bVII" is not a diatonic roman numeral');
  });
});

describe('beats', () => {
  it('reports every quarter note with its bar, time and tempo, whatever the windows', async () => {
    const { Sequencer } = await import('./sequencer.ts');
    const { PatchSchema } = await import('./patchSchema.ts');
    const patch = PatchSchema.parse({ name: 'b', tempo: 120, streams: { s: {} }, voices: { v: { synth: 'synth', rhythm: { euclid: [3, 8] } } } });
    const beats: Array<[number, number, number, number]> = [];
    const seq = new Sequencer(patch, 1);
    for (const until of [1.2, 1.21, 2.9, 3.5]) seq.advance(until, () => {}, (b) => beats.push([b.beat, b.bar, b.time, b.tempo]));
    expect(beats).toEqual([0, 1, 2, 3, 4].map((i) => [i, Math.floor(i / 4), 1 + i * 0.5, 120]));
  });
});

describe('transport from an external clock', () => {
  const ticker = () => patch({ t: { synth: 'synth', rhythm: { pattern: 'x' }, notes: { mode: 'root' } } });

  it('an external tempo wins over mapped, scene and patch tempo, and leaving it gives them back', () => {
    const seq = new Sequencer(ticker(), 0);
    seq.mappedTempo = 90;
    seq.sceneTempo = 100;
    seq.externalTempo = 150;
    const a = collect(seq, 1);
    expect(a[1]!.time - a[0]!.time).toBeCloseTo(60 / 150 / 4, 12);
    expect(seq.tempo).toBe(150);
    seq.externalTempo = undefined;
    const b = collect(seq, 2);
    expect(b[1]!.time - b[0]!.time).toBeCloseTo(60 / 90 / 4, 12);
  });

  it('holds from a time, and locate plays the given step at the given time', () => {
    const seq = new Sequencer(ticker(), 0);
    collect(seq, 0.3); // steps 0, 1, 2 (0.125 s apart at 120 BPM)
    seq.holdFrom = 0.5;
    expect(collect(seq, 3).map((e) => e.step)).toStrictEqual([3]); // step 3 at 0.375, none from 0.5 on
    expect(seq.nextStep).toBe(4);
    seq.locate(32, 10);
    expect(seq.holdFrom).toBe(Infinity);
    const beats: number[] = [];
    const notes: NoteEvent[] = [];
    seq.advance(10.3, (e) => notes.push(e), (b) => beats.push(b.beat));
    expect(notes.map((e) => [e.step, e.time])).toStrictEqual([
      [32, 10],
      [33, 10.125],
      [34, 10.25],
    ]);
    expect(beats).toStrictEqual([8]);
  });

  it('refuses a locate to a step or time that is not one', () => {
    const seq = new Sequencer(ticker(), 0);
    seq.locate(-1, 1);
    seq.locate(1.5, 1);
    seq.locate(3, NaN);
    expect(seq.nextStep).toBe(0);
    expect(seq.nextStepTime).toBe(0);
  });
});
