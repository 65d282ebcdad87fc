/**
 * A render's notes as a standard MIDI file, parsed back with @tonejs/midi and
 * checked note by note against the engine's own note events, with the tempo
 * moving under a mapping (so the file's tempo map matters).
 */
import { describe, expect, it } from 'vitest';
import tonejsMidi from '@tonejs/midi';
import { PatchSchema } from '../../core/patchSchema.ts';
import { renderOffline } from '../render.ts';
import { MidiFileRecorder } from './file.ts';

const { Midi } = tonejsMidi;

const patch = PatchSchema.parse({
  name: 'File',
  tempo: 100,
  key: 'D dorian',
  streams: { s: { default: 0 } },
  signals: { x: { from: 's', range: [0, 1] } },
  mappings: [{ from: 'x', to: 'tempo', range: [90, 150] }],
  voices: {
    lead: { synth: 'synth', rhythm: { euclid: [5, 8] }, notes: { mode: 'random', octave: 5 }, density: 0.8 },
    pad: { synth: 'fm', rhythm: { hold: true }, notes: { mode: 'chord', octave: 3 } },
    hats: { synth: 'noise', rhythm: { pattern: 'xX' }, velocity: 0.5 },
  },
});

describe('MIDI file of a render', () => {
  it('one track per voice on its channel, every note at its time, length and velocity, through a changing tempo', async () => {
    const rec = new MidiFileRecorder();
    const duration = 12;
    // the tempo moves at odd times, so some changes land inside beats
    const points = Array.from({ length: 37 }, (_, i) => ({ time: i * 0.33, value: (i % 9) / 8 }));
    const beats: Array<{ time: number; tempo: number }> = [];
    const r = await renderOffline({
      patch,
      duration,
      sampleRate: 22050,
      data: [{ stream: 's', points }],
      onEvent: (e) => {
        rec.event(e);
        if (e.type === 'beat') beats.push(e);
      },
    });
    expect(r.errors).toStrictEqual([]);
    // some beats changed tempo inside them: their length is not 60 / their first tempo
    const inside = beats.slice(1).filter((b, i) => Math.abs(b.time - beats[i]!.time - 60 / beats[i]!.tempo) > 1e-6);
    expect(inside.length).toBeGreaterThan(3);
    const bytes = rec.toBytes({ voices: Object.keys(patch.voices), channels: new Map([['pad', 4]]), name: patch.name });

    const file = new Midi(bytes);
    expect(file.name).toBe('File');
    expect(file.tracks.map((t) => [t.name, t.channel])).toStrictEqual([
      ['lead', 0],
      ['pad', 4],
      ['hats', 2],
    ]);
    const tempos = file.header.tempos.map((t) => t.bpm);
    expect(Math.min(...tempos)).toBeLessThan(100);
    expect(Math.max(...tempos)).toBeGreaterThan(130);

    // one tick, in seconds, at time t
    const tick = (t: number) => {
      const k = file.header.secondsToTicks(t);
      return file.header.ticksToSeconds(k + 1) - file.header.ticksToSeconds(k);
    };
    for (const track of file.tracks) {
      const expected = rec.notes
        .filter((e) => e.voice === track.name)
        .flatMap((e) => e.notes.map((n) => ({ midi: n, time: e.time, duration: e.duration, velocity: Math.max(1, Math.round(e.velocity * 127)) })));
      expect(expected.length).toBeGreaterThan(3);
      const got = [...track.notes].sort((a, b) => a.ticks - b.ticks || a.midi - b.midi);
      expected.sort((a, b) => a.time - b.time || a.midi - b.midi);
      expect(got).toHaveLength(expected.length);
      got.forEach((n, i) => {
        const want = expected[i]!;
        expect(n.midi).toBe(want.midi);
        expect(Math.abs(n.time - want.time)).toBeLessThanOrEqual(tick(want.time) / 2 + 1e-9);
        expect(Math.abs(n.duration - want.duration)).toBeLessThanOrEqual(tick(want.time) + 1e-9);
        expect(Math.round(n.velocity * 127)).toBe(want.velocity);
      });
    }
    expect(file.tracks.reduce((s, t) => s + t.notes.length, 0)).toBe(r.notes);
  });

  it('a render with no notes still writes a valid file', () => {
    const file = new Midi(new MidiFileRecorder().toBytes({ voices: ['a'] }));
    expect(file.tracks).toHaveLength(1);
    expect(file.tracks[0]!.notes).toStrictEqual([]);
    expect(file.header.tempos[0]!.bpm).toBe(120);
  });
});
