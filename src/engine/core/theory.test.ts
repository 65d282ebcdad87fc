import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  chordNotes,
  degreeToMidi,
  midiToHz,
  midiToNote,
  MODE_NAMES,
  MODES,
  noteToMidi,
  parseChord,
  parseKey,
  parsePitchClass,
  snapToScale,
  type Key,
} from './theory.ts';

const C_MAJOR: Key = { tonic: 0, mode: 'major' };
const D_DORIAN: Key = { tonic: 2, mode: 'dorian' };

describe('note names', () => {
  it('noteToMidi: A4 = 69, C4 = 60, Bb3 = 58, F#2 = 42', () => {
    expect(noteToMidi('A4')).toBe(69);
    expect(noteToMidi('C4')).toBe(60);
    expect(noteToMidi('Bb3')).toBe(58);
    expect(noteToMidi('F#2')).toBe(42);
    expect(noteToMidi('C-1')).toBe(0);
    expect(noteToMidi('G9')).toBe(127);
    expect(noteToMidi('a4')).toBe(69);
    expect(noteToMidi(' C4 ')).toBe(60);
    expect(noteToMidi('F♯2')).toBe(42);
    expect(noteToMidi('B♭3')).toBe(58);
  });

  it('accidentals cross the octave boundary by pitch, not by name', () => {
    expect(noteToMidi('Cb4')).toBe(59); // = B3
    expect(noteToMidi('B#3')).toBe(60); // = C4
  });

  it('noteToMidi rejects what is not a note with an octave', () => {
    for (const bad of ['', 'C', 'H4', 'C##4', 'Cx4', '4C', 'C4.5', 'do4']) expect(noteToMidi(bad), bad).toBeUndefined();
  });

  it('parsePitchClass takes names without an octave only', () => {
    expect(parsePitchClass('D')).toBe(2);
    expect(parsePitchClass('F#')).toBe(6);
    expect(parsePitchClass('Bb')).toBe(10);
    expect(parsePitchClass('Cb')).toBe(11);
    expect(parsePitchClass('B#')).toBe(0);
    expect(parsePitchClass('C4')).toBeUndefined();
    expect(parsePitchClass('X')).toBeUndefined();
  });

  it('midiToNote names with sharps', () => {
    expect(midiToNote(69)).toBe('A4');
    expect(midiToNote(60)).toBe('C4');
    expect(midiToNote(58)).toBe('A#3');
    expect(midiToNote(42)).toBe('F#2');
    expect(midiToNote(61)).toBe('C#4');
    expect(midiToNote(0)).toBe('C-1');
    expect(midiToNote(59.6)).toBe('C4'); // rounds
  });

  it('midiToNote and noteToMidi round-trip over 0…127 (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 127 }), (m) => {
        expect(noteToMidi(midiToNote(m))).toBe(m);
      }),
    );
  });

  it('midiToHz: A4 = 440, A5 = 880, C4 ≈ 261.63', () => {
    expect(midiToHz(69)).toBe(440);
    expect(midiToHz(81)).toBe(880);
    expect(midiToHz(57)).toBe(220);
    expect(midiToHz(60)).toBeCloseTo(261.6255653, 6);
    expect(midiToHz(noteToMidi('Bb3')!)).toBeCloseTo(233.0818808, 6);
    expect(midiToHz(noteToMidi('F#2')!)).toBeCloseTo(92.4986057, 6);
  });
});

describe('parseKey', () => {
  it('parses tonic and mode', () => {
    expect(parseKey('D dorian')).toStrictEqual({ tonic: 2, mode: 'dorian' });
    expect(parseKey('F# minor')).toStrictEqual({ tonic: 6, mode: 'minor' });
    expect(parseKey('Bb Lydian')).toStrictEqual({ tonic: 10, mode: 'lydian' });
    expect(parseKey('  A   minor ')).toStrictEqual({ tonic: 9, mode: 'minor' });
  });

  it('a bare tonic is major', () => {
    expect(parseKey('C')).toStrictEqual({ tonic: 0, mode: 'major' });
    expect(parseKey('Eb')).toStrictEqual({ tonic: 3, mode: 'major' });
  });

  it('multi-word modes join with a hyphen', () => {
    expect(parseKey('E harmonic minor')).toStrictEqual({ tonic: 4, mode: 'harmonic-minor' });
    expect(parseKey('G pentatonic-major')).toStrictEqual({ tonic: 7, mode: 'pentatonic-major' });
  });

  it('every listed mode parses', () => {
    for (const mode of MODE_NAMES) expect(parseKey(`C ${mode}`)).toStrictEqual({ tonic: 0, mode });
  });

  it('returns an error sentence for a bad tonic', () => {
    expect(parseKey('H minor')).toBe('"H" is not a note name (expected C, D#, Bb, ...)');
    expect(parseKey('C4 major')).toBe('"C4" is not a note name (expected C, D#, Bb, ...)');
    expect(parseKey('')).toBe('"" is not a note name (expected C, D#, Bb, ...)');
  });

  it('returns an error sentence listing the modes for a bad mode', () => {
    const err = parseKey('C blues');
    expect(typeof err).toBe('string');
    expect(err).toBe(`"blues" is not a known mode (expected one of ${MODE_NAMES.join(', ')})`);
    expect(err as string).toContain('dorian');
  });

  // BUG (theory.ts:280): `mode in MODES` also finds Object.prototype members, so "C constructor",
  // "C toString", "C __proto__" parse as keys whose mode is not a scale (the schema accepts them
  // and degreeToMidi then yields NaN). Sequencer.setMode (sequencer.ts:136) has the same test.
  // Fix: `Object.hasOwn(MODES, mode)`.
  it('rejects Object.prototype member names as modes', () => {
    for (const bad of ['C constructor', 'C toString', 'C hasOwnProperty', 'C __proto__']) expect(typeof parseKey(bad), bad).toBe('string');
  });
});

describe('degreeToMidi', () => {
  it('degree 0 is the tonic in the octave', () => {
    expect(degreeToMidi(C_MAJOR, 0, 4)).toBe(60);
    expect(degreeToMidi(D_DORIAN, 0, 4)).toBe(62);
    expect(degreeToMidi({ tonic: 9, mode: 'minor' }, 0, 2)).toBe(45); // A2
  });

  it('walks the scale', () => {
    expect([0, 1, 2, 3, 4, 5, 6].map((d) => degreeToMidi(C_MAJOR, d, 4))).toStrictEqual([60, 62, 64, 65, 67, 69, 71]);
    expect([0, 1, 2, 3, 4, 5, 6].map((d) => degreeToMidi(D_DORIAN, d, 3))).toStrictEqual([50, 52, 53, 55, 57, 59, 60]);
  });

  it('degrees above the scale wrap into higher octaves', () => {
    expect(degreeToMidi(C_MAJOR, 7, 4)).toBe(72);
    expect(degreeToMidi(C_MAJOR, 9, 4)).toBe(76);
    expect(degreeToMidi(C_MAJOR, 14, 4)).toBe(84);
    expect(degreeToMidi({ tonic: 0, mode: 'pentatonic-minor' }, 5, 4)).toBe(72);
    expect(degreeToMidi({ tonic: 0, mode: 'pentatonic-minor' }, 6, 4)).toBe(75);
  });

  it('negative degrees wrap into lower octaves', () => {
    expect(degreeToMidi(C_MAJOR, -1, 4)).toBe(59); // B3
    expect(degreeToMidi(C_MAJOR, -6, 4)).toBe(50); // D3
    expect(degreeToMidi(C_MAJOR, -7, 4)).toBe(48); // C3
    expect(degreeToMidi(C_MAJOR, -8, 4)).toBe(47); // B2
    expect(degreeToMidi(D_DORIAN, -1, 4)).toBe(60); // C4, the 7th degree of D dorian below D4
  });

  it('n degrees up is one octave up, and every result is in the scale (property)', () => {
    fc.assert(
      fc.property(fc.constantFrom(...MODE_NAMES), fc.integer({ min: 0, max: 11 }), fc.integer({ min: -30, max: 30 }), fc.integer({ min: 1, max: 6 }), (mode, tonic, degree, octave) => {
        const key: Key = { tonic, mode };
        const n = MODES[mode].length;
        const m = degreeToMidi(key, degree, octave);
        expect(degreeToMidi(key, degree + n, octave)).toBe(m + 12);
        expect(degreeToMidi(key, degree, octave + 1)).toBe(m + 12);
        expect(degreeToMidi(key, degree + 1, octave)).toBeGreaterThan(m);
        expect((MODES[mode] as readonly number[]).includes((((m - tonic) % 12) + 12) % 12)).toBe(true);
      }),
    );
  });
});

describe('parseChord', () => {
  it('parses roman numerals to a degree and a size', () => {
    expect(parseChord('i')).toStrictEqual({ degree: 0, size: 3 });
    expect(parseChord('I')).toStrictEqual({ degree: 0, size: 3 });
    expect(parseChord('ii')).toStrictEqual({ degree: 1, size: 3 });
    expect(parseChord('iii')).toStrictEqual({ degree: 2, size: 3 });
    expect(parseChord('IV')).toStrictEqual({ degree: 3, size: 3 });
    expect(parseChord('v')).toStrictEqual({ degree: 4, size: 3 });
    expect(parseChord('vi')).toStrictEqual({ degree: 5, size: 3 });
    expect(parseChord('VII')).toStrictEqual({ degree: 6, size: 3 });
  });

  it('7 and 9 add thirds; quality marks are accepted', () => {
    expect(parseChord('v7')).toStrictEqual({ degree: 4, size: 4 });
    expect(parseChord('V9')).toStrictEqual({ degree: 4, size: 5 });
    expect(parseChord('ii°')).toStrictEqual({ degree: 1, size: 3 });
    expect(parseChord('viio7')).toStrictEqual({ degree: 6, size: 4 });
    expect(parseChord('III+')).toStrictEqual({ degree: 2, size: 3 });
    expect(parseChord(' iv ')).toStrictEqual({ degree: 3, size: 3 });
  });

  it('rejects non-diatonic and invalid symbols with a sentence', () => {
    for (const bad of ['bVII', '#iv', 'viii', 'iiii', 'x', '', 'V11', 'Cmaj7', 'iv6'])
      expect(parseChord(bad), bad).toBe(`"${bad}" is not a diatonic roman numeral (expected i … vii, optionally with 7 or 9)`);
  });
});

describe('chordNotes', () => {
  it('D dorian i = D F A', () => {
    const notes = chordNotes(D_DORIAN, parseChord('i') as { degree: number; size: number }, 4);
    expect(notes).toStrictEqual([62, 65, 69]);
    expect(notes.map(midiToNote)).toStrictEqual(['D4', 'F4', 'A4']);
  });

  it('builds chords from the scale’s own thirds', () => {
    expect(chordNotes(D_DORIAN, { degree: 3, size: 3 }, 3).map(midiToNote)).toStrictEqual(['G3', 'B3', 'D4']); // IV of dorian is major
    expect(chordNotes(C_MAJOR, { degree: 6, size: 3 }, 4).map(midiToNote)).toStrictEqual(['B4', 'D5', 'F5']); // vii°
    expect(chordNotes(C_MAJOR, { degree: 4, size: 4 }, 4).map(midiToNote)).toStrictEqual(['G4', 'B4', 'D5', 'F5']); // V7
    expect(chordNotes({ tonic: 9, mode: 'minor' }, { degree: 0, size: 5 }, 3).map(midiToNote)).toStrictEqual(['A3', 'C4', 'E4', 'G4', 'B4']); // i9
  });
});

describe('snapToScale', () => {
  it('leaves scale notes alone', () => {
    for (const m of [60, 62, 64, 65, 67, 69, 71, 72]) expect(snapToScale(C_MAJOR, m)).toBe(m);
  });

  it('snaps to the nearest scale note, ties going down', () => {
    expect(snapToScale(C_MAJOR, 61)).toBe(60); // C# → C (tie with D)
    expect(snapToScale(C_MAJOR, 66)).toBe(65); // F# → F (tie with G)
    expect(snapToScale(D_DORIAN, 63)).toBe(62); // D# → D
    const cPent: Key = { tonic: 0, mode: 'pentatonic-major' }; // C D E G A
    expect(snapToScale(cPent, 65)).toBe(64); // F → E (nearest)
    expect(snapToScale(cPent, 66)).toBe(67); // F# → G (nearest, upwards)
    expect(snapToScale(cPent, 70)).toBe(69); // A# → A (tie with C)
    expect(snapToScale(cPent, 71)).toBe(72); // B → C5
  });

  it('always returns a scale note at minimal distance (property)', () => {
    fc.assert(
      fc.property(fc.constantFrom(...MODE_NAMES), fc.integer({ min: 0, max: 11 }), fc.integer({ min: 0, max: 127 }), (mode, tonic, midi) => {
        const scale = MODES[mode] as readonly number[];
        const inScale = (m: number) => scale.includes((((m - tonic) % 12) + 12) % 12);
        const s = snapToScale({ tonic, mode }, midi);
        expect(inScale(s)).toBe(true);
        for (let d = 0; d < Math.abs(s - midi); d++) {
          expect(inScale(midi - d)).toBe(false);
          expect(inScale(midi + d)).toBe(false);
        }
      }),
    );
  });
});
