/**
 * The generative score: turns a patch's musical layer (tempo, key, chords,
 * rhythms, pitch rules, seeded chance) plus live modulations into note events
 * on a 16th-note grid. Pure: it knows nothing of audio or clocks; the engine
 * asks it for the events up to a time and plays them.
 */
import type { Patch, VoiceSpec } from './patchSchema.ts';
import { hash01, nameKey } from './random.ts';
import { euclid, parseStepPattern, stepSeconds, SUBDIVISIONS, type Subdivision } from './rhythm.ts';
import {
  chordNotes,
  degreeToMidi,
  MODES,
  noteToMidi,
  parseChord,
  parseKey,
  type ChordSymbol,
  type Key,
  type ModeName,
} from './theory.ts';

/** A note (or chord) to play. Times in seconds on the engine's clock. */
export interface NoteEvent {
  voice: string;
  /** MIDI note numbers. */
  notes: number[];
  time: number;
  duration: number;
  /** 0…1 */
  velocity: number;
  /** Global 16th-step index, for tracing and tests (-1: a triggered note, off the grid). */
  step: number;
}

/** A quarter-note beat of the sequencer's grid. */
export interface BeatEvent {
  /** Beats since the patch started (0, 1, 2…). */
  beat: number;
  bar: number;
  /** Engine time of the beat. */
  time: number;
  /** Tempo (BPM) at the beat. */
  tempo: number;
}

/** Live modulation of one voice, set by mappings and scenes. */
export interface VoiceMod {
  /** Density from a mapping (replaces the patch value), 0…1. */
  density?: number;
  /** Octave shift from a mapping (rounded to whole octaves). */
  octave?: number;
  /** Velocity from a mapping, 0…1. */
  velocity?: number;
  /** Scene factors. */
  sceneDensity: number;
  sceneOctave: number;
  /** No new notes from this time on (a scene muted the voice; Infinity = not muted). */
  mutedFrom: number;
}

interface VoicePlan {
  name: string;
  key: number;
  spec: VoiceSpec;
  /** Steps of the grid per rhythm step. */
  every: number;
  /** Velocity factor per rhythm step (0 = rest); empty for hold voices. */
  hits: number[];
  hold: boolean;
  hitCount: number;
  mod: VoiceMod;
}

/** Sequencer over a patch. Advance it with {@link Sequencer.advance}; it never looks back. */
export class Sequencer {
  /** Current tempo in BPM. */
  tempo: number;
  /** Tempo from a mapping; wins over scene and patch tempo. */
  mappedTempo?: number;
  sceneTempo?: number;
  readonly baseTempo: number;
  key: Key;
  readonly voices = new Map<string, VoicePlan>();
  private readonly chords: ChordSymbol[];
  private readonly barsPerChord: number;
  private readonly seed: number;
  private step = 0;
  private stepTime: number;
  /** When set, no step at or after this time is generated (a patch being swapped out). */
  stopAt = Infinity;
  /** Tempo of an external clock (MIDI clock in); wins over mappings, scenes and the patch. */
  externalTempo?: number;
  /** Transport stopped from this time on (an external clock's Stop) until {@link locate}. */
  holdFrom = Infinity;

  constructor(patch: Patch, startTime: number, seed = patch.seed) {
    this.seed = seed;
    this.tempo = patch.tempo;
    this.baseTempo = patch.tempo;
    const key = parseKey(patch.key);
    if (typeof key === 'string') throw new Error(key);
    this.key = key;
    this.chords = patch.harmony.progression.map((c) => {
      const parsed = parseChord(c);
      if (typeof parsed === 'string') throw new Error(parsed);
      return parsed;
    });
    this.barsPerChord = patch.harmony.barsPerChord;
    this.stepTime = startTime;
    for (const [name, spec] of Object.entries(patch.voices)) {
      const r = spec.rhythm;
      let hits: number[] = [];
      if (r.euclid) hits = euclid(r.euclid[0], r.euclid[1], r.rotate).map((h) => (h ? 1 : 0));
      else if (r.pattern) {
        const p = parseStepPattern(r.pattern);
        if (typeof p === 'string') throw new Error(p);
        const rot = ((r.rotate % p.length) + p.length) % p.length;
        hits = [...p.slice(rot), ...p.slice(0, rot)];
      }
      this.voices.set(name, {
        name,
        key: nameKey(name),
        spec,
        every: SUBDIVISIONS[r.every as Subdivision],
        hits,
        hold: r.hold === true,
        hitCount: 0,
        mod: { sceneDensity: 1, sceneOctave: 0, mutedFrom: Infinity },
      });
    }
  }

  /** The time of the next step to be generated. */
  get nextStepTime(): number {
    return this.stepTime;
  }

  /** The chord sounding at a global step. */
  chordAt(step: number): ChordSymbol {
    const bar = Math.floor(step / 16);
    return this.chords[Math.floor(bar / this.barsPerChord) % this.chords.length]!;
  }

  /** The current chord's root as MIDI in an octave (for one-shots). */
  rootAt(octave: number): number {
    return chordNotes(this.key, this.chordAt(Math.max(0, this.step - 1)), octave)[0]!;
  }

  /** Sets the mode (keeps the tonic), for `key.mode` mappings. */
  setMode(mode: ModeName): void {
    if (Object.hasOwn(MODES, mode)) this.key = { tonic: this.key.tonic, mode };
  }

  /**
   * Generates every step starting before `until`, calling `emit` for each note
   * event, and `onBeat` on every quarter note (for clocks, lights and OSC).
   */
  advance(until: number, emit: (e: NoteEvent) => void, onBeat?: (b: BeatEvent) => void): void {
    const end = Math.min(until, this.stopAt, this.holdFrom);
    while (this.stepTime < end) {
      this.tempo = this.externalTempo ?? this.mappedTempo ?? this.sceneTempo ?? this.baseTempo;
      const dt = stepSeconds(this.tempo);
      if (onBeat && this.step % 4 === 0) onBeat({ beat: this.step / 4, bar: Math.floor(this.step / 16), time: this.stepTime, tempo: this.tempo });
      for (const v of this.voices.values()) {
        const e = this.voiceStep(v, this.step, this.stepTime, dt);
        if (e) emit(e);
      }
      this.step++;
      this.stepTime += dt;
    }
  }

  /** The index of the next step to be generated (16th notes from the top). */
  get nextStep(): number {
    return this.step;
  }

  /**
   * Moves the transport: step `step` (16th notes from the top) plays at `time`,
   * and generation goes on from there (an external clock's Start, Continue or
   * song position). Steps already generated past `time` stay scheduled.
   */
  locate(step: number, time: number): void {
    if (!Number.isInteger(step) || step < 0 || !Number.isFinite(time)) return;
    this.step = step;
    this.stepTime = time;
    this.holdFrom = Infinity;
  }

  private voiceStep(v: VoicePlan, step: number, time: number, dt: number): NoteEvent | undefined {
    if (time >= v.mod.mutedFrom) return undefined;
    const spec = v.spec;
    let accent: number;
    let duration: number;
    if (v.hold) {
      const span = 16 * this.barsPerChord;
      if (step % span !== 0) return undefined;
      accent = 1;
      duration = span * dt;
    } else {
      if (step % v.every !== 0) return undefined;
      const local = step / v.every;
      accent = v.hits[local % v.hits.length]!;
      if (accent <= 0) return undefined;
      duration = spec.notes.length * v.every * dt;
    }
    const density = Math.min(1, (v.mod.density ?? spec.density) * v.mod.sceneDensity);
    if (hash01(this.seed, v.key, step, 1) >= density) return undefined;
    const octave = spec.notes.octave + Math.round(v.mod.octave ?? 0) + v.mod.sceneOctave;
    const notes = this.pickNotes(v, step, Math.max(0, Math.min(8, octave)));
    v.hitCount++;
    const velocity = Math.max(0, Math.min(1, (v.mod.velocity ?? spec.velocity) * accent));
    return { voice: v.name, notes: notes.slice(0, spec.poly), time, duration, velocity, step };
  }

  private pickNotes(v: VoicePlan, step: number, octave: number): number[] {
    const n = v.spec.notes;
    const chord = this.chordAt(step);
    switch (n.mode) {
      case 'chord':
        return chordNotes(this.key, chord, octave);
      case 'root':
        return [chordNotes(this.key, chord, octave)[0]!];
      case 'fixed':
        return [noteToMidi(n.note!)! + 12 * (octave - n.octave)];
      case 'arp-up':
      case 'arp-down': {
        const tones: number[] = [];
        for (let o = 0; o <= n.spread; o++) tones.push(...chordNotes(this.key, chord, octave + o));
        if (n.mode === 'arp-down') tones.reverse();
        return [tones[v.hitCount % tones.length]!];
      }
      case 'random': {
        const oct = octave + Math.floor(hash01(this.seed, v.key, step, 3) * (n.spread + 1));
        const r = hash01(this.seed, v.key, step, 2);
        if (r < 0.6) {
          const tones = chordNotes(this.key, chord, oct);
          return [tones[Math.floor(hash01(this.seed, v.key, step, 4) * tones.length)]!];
        }
        const degrees = MODES[this.key.mode].length;
        return [degreeToMidi(this.key, Math.floor(hash01(this.seed, v.key, step, 5) * degrees), oct)];
      }
    }
  }
}
