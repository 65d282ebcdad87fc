/**
 * Standard MIDI files of what the engine played (`ecosym render --midi`),
 * written with @tonejs/midi: one track per voice on its channel, with the
 * tempo as it went.
 *
 * Times map to ticks through the engine's own beats: beat k sits at tick
 * k·PPQ, and the tempo of beat k is the one that brings beat k + 1 exactly
 * where the engine played it. So every note lands on its tick even when a
 * mapping changed the tempo in the middle of a beat, and a reader following
 * the file's tempo map finds the engine's times again (to a tick).
 */
import tonejsMidi from '@tonejs/midi';
import type { EngineEvent } from '../../audio/Engine.ts';
import type { NoteEvent } from '../../core/sequencer.ts';

const { Midi } = tonejsMidi;

export interface MidiFileOptions {
  /** Track order: the patch's voices. */
  voices: readonly string[];
  /** Voice → channel 0–15 (others: their index in `voices`, mod 16). */
  channels?: ReadonlyMap<string, number>;
  /** Name in the file header. */
  name?: string;
}

/** Collects note and beat events (give it the engine's events), then writes the file. */
export class MidiFileRecorder {
  readonly notes: NoteEvent[] = [];
  private readonly beats: Array<{ time: number; tempo: number }> = [];

  event(e: EngineEvent): void {
    if (e.type === 'note') this.notes.push(e);
    else if (e.type === 'beat' && Number.isFinite(e.time) && e.tempo > 0) this.beats.push({ time: e.time, tempo: e.tempo });
  }

  /** Beats in time order, one per instant (a patch swap can emit a few out of order). */
  private grid(): Array<{ time: number; tempo: number }> {
    const sorted = [...this.beats].sort((a, b) => a.time - b.time);
    const out: typeof sorted = [];
    for (const b of sorted) if (!out.length || b.time - out[out.length - 1]!.time > 1e-6) out.push(b);
    if (!out.length || out[0]!.time > 0) out.unshift({ time: 0, tempo: out[0]?.tempo ?? 120 });
    return out;
  }

  toBytes(opts: MidiFileOptions): Uint8Array {
    const midi = new Midi();
    const ppq = midi.header.ppq;
    const grid = this.grid();
    const ticksAt = (t: number): number => {
      let lo = 0;
      let hi = grid.length - 1;
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if (grid[mid]!.time <= t) lo = mid;
        else hi = mid - 1;
      }
      const b = grid[lo]!;
      const next = grid[lo + 1];
      const beatSeconds = next ? next.time - b.time : 60 / b.tempo;
      return Math.max(0, lo * ppq + (ppq * (t - b.time)) / beatSeconds);
    };
    if (opts.name) midi.header.name = opts.name;
    midi.header.timeSignatures.push({ ticks: 0, timeSignature: [4, 4] });
    let last = NaN;
    grid.forEach((b, k) => {
      const next = grid[k + 1];
      const bpm = next ? 60 / (next.time - b.time) : b.tempo;
      if (!(Math.abs(bpm - last) <= 1e-9 * bpm)) midi.header.tempos.push({ ticks: k * ppq, bpm });
      last = bpm;
    });
    midi.header.update();
    opts.voices.forEach((voice, i) => {
      const track = midi.addTrack();
      track.name = voice;
      track.channel = opts.channels?.get(voice) ?? i % 16;
      for (const e of this.notes) {
        if (e.voice !== voice) continue;
        const start = Math.round(ticksAt(e.time));
        const end = Math.round(ticksAt(e.time + e.duration));
        // The encoder floors velocity·127: give it the middle of the step.
        const v = Math.max(1, Math.min(127, Math.round(e.velocity * 127)));
        for (const n of e.notes) track.addNote({ midi: Math.max(0, Math.min(127, Math.round(n))), ticks: start, durationTicks: Math.max(1, end - start), velocity: (v + 0.5) / 127 });
      }
    });
    return midi.toArray();
  }
}
