/**
 * Music theory: note names, keys and modes, diatonic chords from roman numerals.
 * Pure; MIDI note numbers throughout (60 = C4, 69 = A4 = 440 Hz).
 */

/** Scale intervals in semitones above the tonic. */
export const MODES = {
  major: [0, 2, 4, 5, 7, 9, 11],
  ionian: [0, 2, 4, 5, 7, 9, 11],
  dorian: [0, 2, 3, 5, 7, 9, 10],
  phrygian: [0, 1, 3, 5, 7, 8, 10],
  lydian: [0, 2, 4, 6, 7, 9, 11],
  mixolydian: [0, 2, 4, 5, 7, 9, 10],
  minor: [0, 2, 3, 5, 7, 8, 10],
  aeolian: [0, 2, 3, 5, 7, 8, 10],
  locrian: [0, 1, 3, 5, 6, 8, 10],
  'harmonic-minor': [0, 2, 3, 5, 7, 8, 11],
  'pentatonic-major': [0, 2, 4, 7, 9],
  'pentatonic-minor': [0, 3, 5, 7, 10],
  'whole-tone': [0, 2, 4, 6, 8, 10],
} as const satisfies Record<string, readonly number[]>;

export type ModeName = keyof typeof MODES;
export const MODE_NAMES = Object.keys(MODES) as ModeName[];

const PITCH_CLASS: Record<string, number> = { C: 0, D: 2, E: 4, F: 5, G: 7, A: 9, B: 11 };
const NOTE_RE = /^([A-Ga-g])(#|b|♯|♭)?(-?\d)?$/;

/** Parses a pitch class such as `"D"`, `"F#"`, `"Bb"` to 0–11, or undefined. */
export function parsePitchClass(name: string): number | undefined {
  const m = NOTE_RE.exec(name.trim());
  if (!m || m[3] !== undefined) return undefined;
  return pitchClassOf(m);
}

function pitchClassOf(m: RegExpExecArray): number {
  const base = PITCH_CLASS[m[1]!.toUpperCase()]!;
  const acc = m[2] === '#' || m[2] === '♯' ? 1 : m[2] === 'b' || m[2] === '♭' ? -1 : 0;
  return (base + acc + 12) % 12;
}

/** Parses a note such as `"C4"`, `"F#2"`, `"Bb5"` to a MIDI number, or undefined. */
export function noteToMidi(name: string): number | undefined {
  const m = NOTE_RE.exec(name.trim());
  if (!m || m[3] === undefined) return undefined;
  const base = PITCH_CLASS[m[1]!.toUpperCase()]!;
  const acc = m[2] === '#' || m[2] === '♯' ? 1 : m[2] === 'b' || m[2] === '♭' ? -1 : 0;
  return (Number(m[3]) + 1) * 12 + base + acc;
}

const SHARP_NAMES = ['C', 'C#', 'D', 'D#', 'E', 'F', 'F#', 'G', 'G#', 'A', 'A#', 'B'];

/** MIDI number to a note name with sharps: 61 → "C#4". */
export function midiToNote(midi: number): string {
  const m = Math.round(midi);
  return `${SHARP_NAMES[((m % 12) + 12) % 12]}${Math.floor(m / 12) - 1}`;
}

/** MIDI number to frequency in Hz, equal temperament, A4 = 440 Hz. */
export function midiToHz(midi: number): number {
  return 440 * Math.pow(2, (midi - 69) / 12);
}

/** A key: tonic pitch class (0–11) and mode. */
export interface Key {
  tonic: number;
  mode: ModeName;
}

/**
 * Parses `"D dorian"`, `"F# minor"`, `"C"` (major). Returns an error string when it cannot.
 */
export function parseKey(text: string): Key | string {
  const parts = text.trim().split(/\s+/);
  const tonic = parsePitchClass(parts[0] ?? '');
  if (tonic === undefined) return `"${parts[0] ?? ''}" is not a note name (expected C, D#, Bb, ...)`;
  const mode = (parts.slice(1).join('-') || 'major').toLowerCase();
  if (!Object.hasOwn(MODES, mode)) return `"${mode}" is not a known mode (expected one of ${MODE_NAMES.join(', ')})`;
  return { tonic, mode: mode as ModeName };
}

/**
 * The MIDI note of a scale degree (0-based, may be negative or beyond the scale
 * length, wrapping into neighbouring octaves) in a key, with degree 0 in `octave`.
 */
export function degreeToMidi(key: Key, degree: number, octave: number): number {
  const scale = MODES[key.mode];
  const n = scale.length;
  const oct = Math.floor(degree / n);
  const idx = degree - oct * n;
  return (octave + 1 + oct) * 12 + key.tonic + scale[idx]!;
}

const ROMAN = ['i', 'ii', 'iii', 'iv', 'v', 'vi', 'vii'];
const ROMAN_RE = /^(b|#)?(vii|iii|ii|iv|vi|v|i)(°|o|\+)?(7|9)?$/i;

/** A parsed chord symbol: scale degree (0-based) and how many stacked thirds. */
export interface ChordSymbol {
  degree: number;
  size: number;
}

/**
 * Parses a roman numeral (`"i"`, `"IV"`, `"v7"`, `"ii°"`) to a diatonic chord.
 * Case and quality marks are accepted for readability; the key's mode decides
 * the chord's quality (it is built from the scale's own thirds).
 */
export function parseChord(symbol: string): ChordSymbol | string {
  const m = ROMAN_RE.exec(symbol.trim());
  if (!m || m[1]) return `"${symbol}" is not a diatonic roman numeral (expected i … vii, optionally with 7 or 9)`;
  const degree = ROMAN.indexOf(m[2]!.toLowerCase());
  const size = m[4] === '9' ? 5 : m[4] === '7' ? 4 : 3;
  return { degree, size };
}

/** The MIDI notes of a diatonic chord on `chord.degree`, root in `octave`. */
export function chordNotes(key: Key, chord: ChordSymbol, octave: number): number[] {
  const notes: number[] = [];
  for (let i = 0; i < chord.size; i++) notes.push(degreeToMidi(key, chord.degree + 2 * i, octave));
  return notes;
}

/** Snaps a MIDI note to the nearest note of the key's scale (ties go down). */
export function snapToScale(key: Key, midi: number): number {
  const scale = MODES[key.mode];
  for (let d = 0; d < 12; d++) {
    for (const cand of [midi - d, midi + d]) {
      const pc = (((cand - key.tonic) % 12) + 12) % 12;
      if ((scale as readonly number[]).includes(pc)) return cand;
    }
  }
  return midi;
}
