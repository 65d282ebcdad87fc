import { describe, expect, it } from 'vitest';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { parse as parseYaml } from 'yaml';
import { patchJsonSchema, PatchSchema } from './patchSchema.ts';
import {
  editDistance,
  formatPatchError,
  formatPath,
  parsePatchOrThrow,
  parsePatchText,
  PatchValidationError,
  validatePatchObject,
  type PatchError,
} from './patchLoader.ts';
import { MODE_NAMES } from './theory.ts';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const PATCH_DIR = `${ROOT}patches/`;
const SCHEMA_FILE = `${ROOT}schema/patch.schema.json`;
const BUILT_IN = readdirSync(PATCH_DIR).filter((f) => f.endsWith('.yaml') || f.endsWith('.yml') || f.endsWith('.json')).sort();

const ajv = new Ajv2020({ strict: false, allErrors: true });
const validateJson = ajv.compile(patchJsonSchema());

/** A small valid patch; each line number matters to the line tests below. */
const BASE = `name: Test
tempo: 90
key: D dorian
streams:
  temp: { unit: degC }
signals:
  warm: { from: temp, range: [0, 30] }
buses:
  hall: { type: reverb, wet: 0.4 }
voices:
  pad:
    synth: fm
    rhythm: { hold: true }
    send: { hall: 0.5 }
mappings:
  - { from: warm, to: pad.filter.frequency }
scenes:
  calm: { voices: { pad: { mute: false } } }
`;

const MINIMAL = { name: 'Min', streams: { s: {} }, voices: { pad: { synth: 'fm', rhythm: { hold: true } } } };

/** BASE with one substring replaced (which must exist). */
function broken(find: string, replace: string): string {
  if (!BASE.includes(find)) throw new Error(`test setup: "${find}" not in BASE`);
  return BASE.replace(find, replace);
}

/** BASE with extra fields on the signal `warm` (line 7). */
function sig(extra: string): string {
  return broken('range: [0, 30] }', `range: [0, 30]${extra} }`);
}

function errorsOf(text: string): PatchError[] {
  const r = parsePatchText(text, 'test.yaml');
  if (r.ok) throw new Error('expected the patch to be rejected');
  return r.errors;
}

describe('built-in patches', () => {
  it('there are built-in patches', () => {
    expect(BUILT_IN.length).toBeGreaterThanOrEqual(3);
  });

  it.each(BUILT_IN)('%s validates with parsePatchText', (file) => {
    const r = parsePatchText(readFileSync(PATCH_DIR + file, 'utf8'), file);
    expect(r.ok ? [] : r.errors.map(formatPatchError)).toStrictEqual([]);
    expect(r.ok && r.patch.name.length > 0).toBe(true);
  });

  it.each(BUILT_IN)('%s validates against the exported JSON Schema (ajv, draft 2020-12)', (file) => {
    const data: unknown = parseYaml(readFileSync(PATCH_DIR + file, 'utf8'));
    const ok = validateJson(data);
    expect(validateJson.errors ?? []).toStrictEqual([]);
    expect(ok).toBe(true);
  });

  it('carbon-pulse: durations and defaults come out resolved', () => {
    const p = parsePatchOrThrow(readFileSync(PATCH_DIR + 'carbon-pulse.yaml', 'utf8'), 'carbon-pulse.yaml');
    expect(p.signals.concentration).toStrictEqual({ from: 'co2', range: [315, 415], curve: 'lin', smooth: 0.5, clamp: true, invert: false });
    expect(p.signals.season!.range).toStrictEqual({ auto: 2 * 365.25 * 86400 });
    expect(p.signals.tipping!.threshold).toStrictEqual({ above: 0.85, hysteresis: 0.03, hold: 1 });
    expect(p.buses.echo).toStrictEqual({ type: 'delay', time: '8n.', feedback: 0.35, wet: 0.3 });
    expect(p.scenes.baseline).toStrictEqual({ fade: 2, voices: {} });
  });
});

describe('signal conditioning fields', () => {
  const EVERY = `name: Every
streams:
  wind: { unit: m/s }
  sky: {}
signals:
  gusts:
    from: wind
    range: { auto: 24h, percentiles: [5, 95] }
    outliers: { window: 9, threshold: 2.5, action: replace }
    filter: { oneEuro: { minCutoff: 0.5, beta: 2 } }
    slew: 0.5
    threshold: { below: 0.1 }
  rising: { from: wind, derive: rate, rateUnit: h, range: [-5, 5], outliers: {} }
  weather: { from: sky, range: [0, 1], categories: { clear: 0, rain: 0.8, Snow: 1 }, threshold: { above: 0.9, hysteresis: 0.1 } }
voices:
  pad: { synth: fm, rhythm: { hold: true } }
mappings:
  - { from: gusts, to: pad.trigger }
`;

  it('a patch using every new field validates and resolves its defaults', () => {
    const p = parsePatchOrThrow(EVERY, 'every.yaml');
    expect(p.signals.gusts).toStrictEqual({
      from: 'wind',
      range: { auto: 86400, percentiles: [5, 95] },
      curve: 'lin',
      smooth: 0,
      filter: { oneEuro: { minCutoff: 0.5, beta: 2, dCutoff: 1 } },
      slew: 0.5,
      clamp: true,
      invert: false,
      outliers: { window: 9, threshold: 2.5, action: 'replace' },
      threshold: { below: 0.1, hysteresis: 0.05, hold: 0 },
    });
    expect(p.signals.rising).toMatchObject({ derive: 'rate', rateUnit: 'h', outliers: { window: 7, threshold: 3, action: 'reject' } });
    expect(p.signals.weather!.categories).toStrictEqual({ clear: 0, rain: 0.8, Snow: 1 });
    // the output is valid input giving the same output
    expect(PatchSchema.parse(p)).toStrictEqual(p);
  });

  it('the JSON Schema accepts it, and wants exactly one threshold level', () => {
    const data = parseYaml(EVERY) as { signals: Record<string, Record<string, unknown>> };
    expect(validateJson(data)).toBe(true);
    data.signals.gusts!.threshold = { hysteresis: 0.1 };
    expect(validateJson(data)).toBe(false);
    data.signals.gusts!.threshold = { above: 0.5, below: 0.1 };
    expect(validateJson(data)).toBe(false);
    data.signals.gusts!.threshold = { above: 0.5 };
    data.signals.gusts!.slw = 1;
    expect(validateJson(data)).toBe(false);
  });
});

describe('JSON Schema', () => {
  it('is draft 2020-12 with an $id and the required top-level keys', () => {
    const s = patchJsonSchema();
    expect(s.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(s.$id).toBe('https://eco-symphony.org/schema/patch.schema.json');
    expect(s.type).toBe('object');
    expect(s.required).toStrictEqual(['name', 'streams', 'voices']);
    expect(s.additionalProperties).toBe(false);
  });

  it('rejects what the zod schema rejects structurally (typo key, out-of-range tempo, bad enum)', () => {
    expect(validateJson({ ...MINIMAL, tempoo: 90 })).toBe(false);
    expect(validateJson({ ...MINIMAL, tempo: 400 })).toBe(false);
    expect(validateJson({ ...MINIMAL, voices: { pad: { synth: 'harp', rhythm: { hold: true } } } })).toBe(false);
    expect(validateJson({ name: 'x', streams: {} })).toBe(false); // no voices
    expect(validateJson(MINIMAL)).toBe(true);
  });

  it('is deterministic (same text every call)', () => {
    expect(JSON.stringify(patchJsonSchema())).toBe(JSON.stringify(patchJsonSchema()));
  });

  it('the committed schema/patch.schema.json is up to date', () => {
    const expected = JSON.stringify(patchJsonSchema(), null, 2) + '\n';
    if (!existsSync(SCHEMA_FILE)) {
      expect.fail('schema/patch.schema.json does not exist: run `npm run schema` and commit it (the patches point their $schema at it)');
    }
    const committed = readFileSync(SCHEMA_FILE, 'utf8');
    expect(committed === expected, 'schema/patch.schema.json is stale: run `npm run schema` and commit it').toBe(true);
  });
});

describe('defaults', () => {
  it('a minimal patch gets every default', () => {
    const r = validatePatchObject(MINIMAL);
    if (!r.ok) throw new Error(r.errors.map(formatPatchError).join('\n'));
    expect(r.patch).toStrictEqual({
      name: 'Min',
      description: '',
      seed: 1,
      tempo: 90,
      key: 'C minor',
      harmony: { progression: ['i'], barsPerChord: 2 },
      streams: { s: { default: 0, stale: { after: 600, then: 'hold', glide: 30, history: 21600 } } },
      signals: {},
      buses: {},
      voices: {
        pad: {
          synth: 'fm',
          poly: 4,
          volume: -12,
          pan: 0,
          detune: 0,
          notes: { mode: 'random', octave: 4, spread: 1, length: 1 },
          rhythm: { hold: true, every: '16n', rotate: 0 },
          density: 1,
          velocity: 0.7,
          send: {},
        },
      },
      mappings: [],
      scenes: {},
      master: { volume: -6, ceiling: -1 },
    });
  });

  it('master.ceiling defaults to -1 even when master is given', () => {
    const r = validatePatchObject({ ...MINIMAL, master: { volume: -3 } });
    expect(r.ok && r.patch.master).toStrictEqual({ volume: -3, ceiling: -1 });
  });

  it('signals default to range "auto", lin, no smoothing, clamp, no invert; thresholds to hysteresis 0.05', () => {
    const r = validatePatchObject({ ...MINIMAL, signals: { a: { from: 's' }, b: { from: 's', smooth: '250ms', threshold: { above: 0.5 } } } });
    if (!r.ok) throw new Error(r.errors.map(formatPatchError).join('\n'));
    expect(r.patch.signals.a).toStrictEqual({ from: 's', range: 'auto', curve: 'lin', smooth: 0, clamp: true, invert: false });
    expect(r.patch.signals.b!.smooth).toBe(0.25);
    expect(r.patch.signals.b!.threshold).toStrictEqual({ above: 0.5, hysteresis: 0.05, hold: 0 });
  });

  it('buses, filters, scenes and notes fill their defaults', () => {
    const r = validatePatchObject({
      ...MINIMAL,
      buses: { hall: { type: 'reverb' } },
      voices: { pad: { synth: 'fm', rhythm: { euclid: [3, 8] }, filter: {}, notes: { mode: 'chord' } } },
      scenes: { calm: {} },
    });
    if (!r.ok) throw new Error(r.errors.map(formatPatchError).join('\n'));
    expect(r.patch.buses.hall).toStrictEqual({ type: 'reverb', wet: 0.5 });
    expect(r.patch.voices.pad!.filter).toStrictEqual({ type: 'lowpass', frequency: 18000, q: 0.7 });
    expect(r.patch.voices.pad!.notes).toStrictEqual({ mode: 'chord', octave: 4, spread: 1, length: 1 });
    expect(r.patch.voices.pad!.rhythm).toStrictEqual({ euclid: [3, 8], every: '16n', rotate: 0 });
    expect(r.patch.scenes.calm).toStrictEqual({ fade: 4, voices: {} });
  });

  it('durations parse units', () => {
    const at = (smooth: unknown) => {
      const r = validatePatchObject({ ...MINIMAL, signals: { a: { from: 's', smooth } } });
      return r.ok ? r.patch.signals.a!.smooth : r.errors[0]!.message;
    };
    expect(at(2)).toBe(2);
    expect(at('250ms')).toBe(0.25);
    expect(at('30s')).toBe(30);
    expect(at('2m')).toBe(120);
    expect(at('1.5h')).toBe(5400);
    expect(at('1d')).toBe(86400);
    expect(at('-1s')).toMatch(/^expected a duration/);
    expect(at(-1)).toMatch(/expected a duration|>=0/);
  });
});

interface Case {
  what: string;
  text: string;
  path: string;
  line: number;
  /** Substrings the message must hold (what was expected, and what came). */
  says: string[];
}

const CASES: Case[] = [
  {
    what: 'a lighting channel from an unknown signal',
    text: BASE + 'lighting:\n  channels:\n    - { channel: 1, from: wrm }\n',
    path: 'lighting.channels[0].from',
    line: 21,
    says: ['unknown signal "wrm" (signals: warm)'],
  },
  {
    what: 'a 16-bit lighting channel at 512',
    text: BASE + 'lighting:\n  channels:\n    - { channel: 512, from: warm, bits: 16 }\n',
    path: 'lighting.channels[0].channel',
    line: 21,
    says: ['a 16-bit channel needs the next one too: at most 511'],
  },
  {
    what: 'a flash on an unknown voice',
    text: BASE + 'lighting:\n  flashes:\n    - { channel: 2, on: "note:pda" }\n',
    path: 'lighting.flashes[0].on',
    line: 21,
    says: ['unknown voice "pda" (voices: pad)'],
  },
  {
    what: 'a flash on a signal without a threshold',
    text: BASE + 'lighting:\n  flashes:\n    - { channel: 2, on: "threshold:warm" }\n',
    path: 'lighting.flashes[0].on',
    line: 21,
    says: ['"warm" is not a signal with a threshold'],
  },
  {
    what: 'a flash trigger that does not exist',
    text: BASE + 'lighting:\n  flashes:\n    - { channel: 2, on: strobe }\n',
    path: 'lighting.flashes[0].on',
    line: 21,
    says: ['expected note[:voice], beat, bar, threshold:signal or scene[:name]'],
  },
  {
    what: 'unknown target parameter',
    text: broken('to: pad.filter.frequency', 'to: pad.filter.freq'),
    path: 'mappings[0].to',
    line: 16,
    says: ['voice "pad" has no parameter "filter.freq"', 'expected one of volume, pan, detune, filter.frequency'],
  },
  { what: 'send to an unknown bus', text: broken('send: { hall: 0.5 }', 'send: { hal: 0.5 }'), path: 'voices.pad.send.hal', line: 14, says: ['unknown bus "hal" (buses: hall)'] },
  { what: 'signal from an unknown stream', text: broken('from: temp,', 'from: tmp,'), path: 'signals.warm.from', line: 7, says: ['unknown stream "tmp" (streams: temp)'] },
  {
    what: 'unknown key in a voice, with a hint',
    text: broken('    synth: fm\n', '    synth: fm\n    volme: -3\n'),
    path: 'voices.pad',
    line: 13,
    says: ['unknown key "volme" (did you mean "volume"?)'],
  },
  {
    what: 'unknown key in a rhythm, with a hint',
    text: broken('{ hold: true }', '{ hold: true, evry: 8n }'),
    path: 'voices.pad.rhythm',
    line: 13,
    says: ['unknown key "evry" (did you mean "every"?)'],
  },
  {
    what: 'a delay field on a reverb bus',
    text: broken('{ type: reverb, wet: 0.4 }', '{ type: reverb, wet: 0.4, feedback: 0.3 }'),
    path: 'buses.hall.feedback',
    line: 9,
    says: ['"feedback" applies to delay buses, not reverb'],
  },
  {
    what: 'two rhythm kinds',
    text: broken('{ hold: true }', '{ hold: true, euclid: [3, 8] }'),
    path: 'voices.pad.rhythm',
    line: 13,
    says: ['expected exactly one of euclid, pattern or hold; got euclid and hold'],
  },
  { what: 'no rhythm kind', text: broken('{ hold: true }', '{ every: 8n }'), path: 'voices.pad.rhythm', line: 13, says: ['expected exactly one of euclid, pattern or hold; got none'] },
  { what: 'euclid pulses above steps', text: broken('{ hold: true }', '{ euclid: [9, 8] }'), path: 'voices.pad.rhythm.euclid', line: 13, says: ['pulses (9) cannot exceed steps (8)'] },
  { what: 'a bad step pattern', text: broken('{ hold: true }', '{ pattern: "x.o." }'), path: 'voices.pad.rhythm.pattern', line: 13, says: ['expected a step pattern of x, X, . or -', '(got "x.o.")'] },
  { what: 'an unknown key', text: broken('key: D dorian', 'key: H dorian'), path: 'key', line: 3, says: ['expected a key like "D dorian"', 'dorian, phrygian', '(got "H dorian")'] },
  { what: 'an unknown mode in key', text: broken('key: D dorian', 'key: D blues'), path: 'key', line: 3, says: ['expected a key like "D dorian"', '(got "D blues")'] },
  {
    what: 'an unknown mode in key.mode steps',
    text: broken('to: pad.filter.frequency }', 'to: key.mode, steps: [dorian, blues] }'),
    path: 'mappings[0].steps[1]',
    line: 16,
    says: [`unknown mode "blues" (modes: ${MODE_NAMES.join(', ')})`],
  },
  { what: 'key.mode without steps', text: broken('to: pad.filter.frequency }', 'to: key.mode }'), path: 'mappings[0].steps', line: 16, says: ['key.mode needs steps: a list of modes'] },
  { what: 'a scene naming an unknown voice', text: broken('pad: { mute: false }', 'nope: { mute: false }'), path: 'scenes.calm.voices.nope', line: 18, says: ['unknown voice "nope" (voices: pad)'] },
  { what: 'tempo too high', text: broken('tempo: 90', 'tempo: 400'), path: 'tempo', line: 2, says: ['<=300', '(got 400)'] },
  { what: 'tempo too low', text: broken('tempo: 90', 'tempo: 10'), path: 'tempo', line: 2, says: ['>=20', '(got 10)'] },
  { what: 'tempo not a number', text: broken('tempo: 90', 'tempo: fast'), path: 'tempo', line: 2, says: ['expected number', '(got "fast")'] },
  { what: 'a typo in a top-level key', text: broken('tempo: 90', 'tempoo: 90'), path: '', line: 2, says: ['unknown key "tempoo" (did you mean "tempo"?)'] },
  { what: 'an unknown signal in a mapping', text: broken('{ from: warm, to:', '{ from: cold, to:'), path: 'mappings[0].from', line: 16, says: ['unknown signal "cold" (signals: warm)'] },
  { what: 'a scene mapping to an unknown scene', text: broken('to: pad.filter.frequency }', 'to: scene, steps: [calm, storm] }'), path: 'mappings[0].steps[1]', line: 16, says: ['unknown scene "storm" (scenes: calm)'] },
  { what: 'a scene mapping with nothing to switch to', text: broken('to: pad.filter.frequency }', 'to: scene }'), path: 'mappings[0]', line: 16, says: ['a scene mapping needs on/off scenes or steps'] },
  { what: 'on/off without a threshold', text: broken('to: pad.filter.frequency }', 'to: scene, on: calm }'), path: 'mappings[0].on', line: 16, says: ['on/off need a threshold on signal "warm"'] },
  { what: 'a bad duration', text: broken('range: [0, 30] }', 'range: [0, 30], smooth: 3 parsecs }'), path: 'signals.warm.smooth', line: 7, says: ['expected a duration', '"250ms"', '(got "3 parsecs")'] },
  { what: 'a sampler without samples', text: broken('synth: fm', 'synth: sampler'), path: 'voices.pad.samples', line: 11, says: ['a sampler needs samples'] },
  { what: 'an unknown synth', text: broken('synth: fm', 'synth: harp'), path: 'voices.pad.synth', line: 12, says: ['expected one of', '"fm"', '"sampler"'] },
  { what: 'a non-diatonic chord', text: broken('key: D dorian', 'key: D dorian\nharmony: { progression: [i, bVII] }'), path: 'harmony.progression[1]', line: 4, says: ['expected a roman numeral like "i", "IV", "v7"', '(got "bVII")'] },
  { what: 'a reserved voice name', text: broken('  pad:\n', '  master: { synth: fm, rhythm: { hold: true } }\n  pad:\n'), path: 'voices.master', line: 11, says: ['"master" is reserved; pick another name'] },
  { what: 'a name used by a voice and a bus', text: broken('  hall: { type', '  pad: { type: delay }\n  hall: { type'), path: 'buses.pad', line: 9, says: ['"pad" is both a voice and a bus'] },
  { what: 'a fixed note without a note', text: broken('    synth: fm\n', '    synth: fm\n    notes: { mode: fixed }\n'), path: 'voices.pad.notes.note', line: 13, says: ['mode "fixed" needs a note'] },
  { what: 'a wet level above 1', text: broken('wet: 0.4', 'wet: 1.4'), path: 'buses.hall.wet', line: 9, says: ['<=1', '(got 1.4)'] },
  { what: 'an unknown start scene', text: broken('tempo: 90', 'tempo: 90\nscene: storm'), path: 'scene', line: 3, says: ['unknown scene "storm" (scenes: calm)'] },
  { what: 'a missing name', text: broken('name: Test\n', ''), path: 'name', line: 1, says: ['expected string'] },
  // signal conditioning fields
  { what: 'a typo in a signal key', text: sig(', slw: 0.5'), path: 'signals.warm', line: 7, says: ['unknown key "slw" (did you mean "slew"?)'] },
  {
    what: 'a typo in the percentile range',
    text: broken('range: [0, 30] }', 'range: { auto: 24h, percentile: [5, 95] } }'),
    path: 'signals.warm.range',
    line: 7,
    says: ['unknown key "percentile" (did you mean "percentiles"?)'],
  },
  { what: 'percentiles out of order', text: broken('range: [0, 30] }', 'range: { auto: 24h, percentiles: [95, 5] } }'), path: 'signals.warm.range.percentiles', line: 7, says: ['expected lo < hi (got [95, 5])'] },
  { what: 'a percentile above 100', text: broken('range: [0, 30] }', 'range: { auto: 24h, percentiles: [5, 150] } }'), path: 'signals.warm.range.percentiles[1]', line: 7, says: ['<=100', '(got 150)'] },
  { what: 'a negative slew', text: sig(', slew: -1'), path: 'signals.warm.slew', line: 7, says: ['>0', '(got -1)'] },
  { what: 'a typo in the 1€ filter', text: sig(', filter: { oneEuro: { minCutof: 1 } }'), path: 'signals.warm.filter.oneEuro', line: 7, says: ['unknown key "minCutof" (did you mean "minCutoff"?)'] },
  { what: 'a 1€ filter with a zero cutoff', text: sig(', filter: { oneEuro: { dCutoff: 0 } }'), path: 'signals.warm.filter.oneEuro.dCutoff', line: 7, says: ['>0', '(got 0)'] },
  { what: 'smooth and a 1€ filter together', text: sig(', smooth: 2s, filter: { oneEuro: {} }'), path: 'signals.warm.filter', line: 7, says: ['use either smooth (EMA) or filter.oneEuro, not both'] },
  { what: 'a typo in outliers', text: sig(', outliers: { window: 7, treshold: 3 }'), path: 'signals.warm.outliers', line: 7, says: ['unknown key "treshold" (did you mean "threshold"?)'] },
  { what: 'an unknown outlier action', text: sig(', outliers: { action: drop }'), path: 'signals.warm.outliers.action', line: 7, says: ['"reject"', '"replace"', '(got "drop")'] },
  { what: 'an outlier window too small', text: sig(', outliers: { window: 2 }'), path: 'signals.warm.outliers.window', line: 7, says: ['>=3', '(got 2)'] },
  { what: 'an unknown derive', text: sig(', derive: slope'), path: 'signals.warm.derive', line: 7, says: ['expected "rate"', '(got "slope")'] },
  { what: 'an unknown rate unit', text: sig(', derive: rate, rateUnit: week'), path: 'signals.warm.rateUnit', line: 7, says: ['"min"', '"d"', '(got "week")'] },
  { what: 'a rate unit without derive', text: sig(', rateUnit: h'), path: 'signals.warm.rateUnit', line: 7, says: ['rateUnit needs derive: rate'] },
  { what: 'a threshold both above and below', text: sig(', threshold: { above: 0.8, below: 0.2 }'), path: 'signals.warm.threshold', line: 7, says: ['expected exactly one of above or below; got both'] },
  { what: 'a threshold with no level', text: sig(', threshold: { hysteresis: 0.1 }'), path: 'signals.warm.threshold', line: 7, says: ['expected exactly one of above or below; got none'] },
  { what: 'a threshold below out of range', text: sig(', threshold: { below: -0.1 }'), path: 'signals.warm.threshold.below', line: 7, says: ['>=0', '(got -0.1)'] },
  { what: 'categories equal ignoring case', text: sig(', categories: { Rain: 1, " rain": 0 }'), path: 'signals.warm.categories', line: 7, says: ['categories "Rain" and " rain" are the same ignoring case and spaces'] },
  { what: 'a category that is not a number', text: sig(', categories: { rain: wet }'), path: 'signals.warm.categories.rain', line: 7, says: ['expected number', '(got "wet")'] },
];

describe('broken patches', () => {
  it('BASE itself is valid (so each case breaks exactly one thing)', () => {
    const r = parsePatchText(BASE, 'base.yaml');
    expect(r.ok ? [] : r.errors.map(formatPatchError)).toStrictEqual([]);
  });

  it.each(CASES)('$what → $path (line $line)', ({ text, path, line, says }) => {
    const errors = errorsOf(text);
    const e = errors.find((x) => x.path === path);
    expect(e, `no error at "${path}"; got:\n${errors.map(formatPatchError).join('\n')}`).toBeDefined();
    for (const s of says) expect(e!.message).toContain(s);
    expect(e!.line).toBe(line);
    expect(e!.file).toBe('test.yaml');
    // one thing broken → one problem reported (the unknown synth also fails the enum only)
    expect(errors.map(formatPatchError)).toHaveLength(1);
  });

  it('an unknown key that replaces a required one reports both', () => {
    const errors = errorsOf(broken('synth: fm', 'synht: fm'));
    expect(errors.map((e) => e.path).sort()).toStrictEqual(['voices.pad', 'voices.pad.synth']);
    expect(errors.find((e) => e.path === 'voices.pad')!.message).toBe('unknown key "synht" (did you mean "synth"?)');
  });

  it('a typo for a threshold level reports the typo and the missing level', () => {
    const errors = errorsOf(sig(', threshold: { belw: 0.2 }'));
    expect(errors.map((e) => [e.line, e.path, e.message])).toStrictEqual([
      [7, 'signals.warm.threshold', 'unknown key "belw" (did you mean "below"?)'],
      [7, 'signals.warm.threshold', 'expected exactly one of above or below; got none'],
    ]);
  });

  it('an unknown key far from every known key has no hint', () => {
    const errors = errorsOf(broken('tempo: 90', 'tempo: 90\nzzzzzzzz: 1'));
    expect(errors).toStrictEqual([{ file: 'test.yaml', line: 3, column: 1, path: '', message: 'unknown key "zzzzzzzz"' }]);
  });

  it('every problem is reported, not only the first', () => {
    const errors = errorsOf(broken('tempo: 90', 'tempo: 400').replace('send: { hall: 0.5 }', 'send: { hal: 0.5 }').replace('from: temp,', 'from: tmp,'));
    expect(errors.map((e) => `${e.line}:${e.path}`).sort()).toStrictEqual(['14:voices.pad.send.hal', '2:tempo', '7:signals.warm.from']);
  });

  it('a YAML syntax error is one error with an empty path and a "syntax error" message', () => {
    const errors = errorsOf(broken('tempo: 90', 'tempo: 90\ntempo: 91'));
    expect(errors).toHaveLength(1);
    expect(errors[0]!.path).toBe('');
    expect(errors[0]!.message).toBe('syntax error: Map keys must be unique ("tempo" is repeated)');
    expect(errorsOf('name: [x\n')[0]!.message).toMatch(/^syntax error: /);
  });

  // BUG (patchLoader.ts:407 and :413): the document is parsed with `prettyErrors: false`, so yaml
  // never fills `e.linePos` and every syntax error comes out without a line. Fix: take the line
  // from the LineCounter: `line: lineCounter.linePos(e.pos[0]).line`.
  it('a YAML syntax error carries its line number', () => {
    expect(errorsOf(broken('tempo: 90', 'tempo: 90\ntempo: 91'))[0]!.line).toBe(3);
    expect(errorsOf(broken('key: D dorian', 'key: "D dorian'))[0]!.line).toBeGreaterThanOrEqual(3);
  });

  it('a document that is not a mapping is rejected', () => {
    expect(errorsOf('- a\n- b\n')).toStrictEqual([{ file: 'test.yaml', line: 1, path: '', message: 'expected a patch object (name, streams, voices, ...)' }]);
    expect(errorsOf('')[0]!.message).toBe('expected a patch object (name, streams, voices, ...)');
    expect(errorsOf('42')[0]!.message).toBe('expected a patch object (name, streams, voices, ...)');
  });

  it('JSON text is accepted too (YAML is a superset)', () => {
    const r = parsePatchText(JSON.stringify(MINIMAL), 'min.json');
    expect(r.ok).toBe(true);
  });

  it('a patch with no voices or no streams says so', () => {
    const r = validatePatchObject({ name: 'x', streams: {}, voices: {} });
    expect(r.ok ? [] : r.errors.map((e) => [e.path, e.message])).toStrictEqual([
      ['streams', 'a patch needs at least one stream'],
      ['voices', 'a patch needs at least one voice'],
    ]);
  });

  it('validatePatchObject reports paths without lines', () => {
    const r = validatePatchObject({ ...MINIMAL, tempo: 400 }, 'ipc');
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.errors).toHaveLength(1);
      expect(r.errors[0]).toMatchObject({ file: 'ipc', path: 'tempo' });
      expect(r.errors[0]!.line).toBeUndefined();
    }
  });

  it('parsePatchOrThrow throws a PatchValidationError listing file:line: path: message', () => {
    const text = broken('tempo: 90', 'tempo: 400');
    expect(() => parsePatchOrThrow(text, 'p.yaml')).toThrow(PatchValidationError);
    try {
      parsePatchOrThrow(text, 'p.yaml');
    } catch (e) {
      expect((e as PatchValidationError).errors).toHaveLength(1);
      expect((e as Error).message).toBe('p.yaml:2: tempo: Too big: expected number to be <=300 (got 400)');
    }
  });

  // BUG (patchLoader.ts:484 and :502): for a union that no branch matches, unionMessage() already
  // appends "(got …)" and toPatchError() appends it again: `range: 7` reads "… (got 7) (got 7)".
  // Fix: append `received(issue)` in only one place (e.g. drop it from unionMessage).
  it('a union mismatch names what came only once', () => {
    const e = errorsOf(broken('range: [0, 30]', 'range: 7'));
    expect(e).toHaveLength(1);
    expect(e[0]!.path).toBe('signals.warm.range');
    expect(e[0]!.message).toContain('none of the allowed forms matched');
    expect(e[0]!.message.match(/\(got 7\)/g)).toHaveLength(1);
  });

  // BUG (patchLoader.ts:500): the line of an unknown key is taken from the key's *value* node
  // (`lineOf([...path, key])` → doc.getIn returns the value), so when the value is a block
  // mapping or sequence the error points at the line after the key. Fix: look up the Pair in
  // the parent map and use `pair.key.range[0]`.
  // The same lookup makes any error about a block mapping (e.g. a reserved voice name) point at
  // the mapping's first entry instead of its key; the fix is the same (use the key's line).
  it('an unknown key with a block value is reported on the key’s own line', () => {
    const errors = errorsOf(broken('scenes:', 'scenez:'));
    expect(errors).toStrictEqual([{ file: 'test.yaml', line: 17, column: 1, path: '', message: 'unknown key "scenez" (did you mean "scenes"?)' }]);
  });

  it('an error about a block mapping is reported on its key’s line', () => {
    const errors = errorsOf(broken('  pad:\n', '  master:\n    synth: fm\n    rhythm: { hold: true }\n  pad:\n'));
    expect(errors).toStrictEqual([{ file: 'test.yaml', line: 11, column: 3, path: 'voices.master', message: '"master" is reserved; pick another name' }]);
  });

  // BUG (patchSchema.ts:312 and :317-318): cross-references use `in` / plain indexing on the
  // patch's records, so names of Object.prototype members ("constructor", "toString", …) pass
  // as existing streams and signals. Fix: `Object.hasOwn(p.streams, s.from)` and
  // `const sig = Object.hasOwn(p.signals, m.from) ? p.signals[m.from] : undefined`.
  // (A target such as "pad.constructor" and a key such as "C constructor" pass for the same
  // reason in targets.ts and theory.ts; see their tests.)
  it('names of Object.prototype members are not streams, signals, targets or modes', () => {
    expect(validatePatchObject({ ...MINIMAL, signals: { w: { from: 'constructor' } } }).ok).toBe(false);
    expect(validatePatchObject({ ...MINIMAL, signals: { w: { from: 's' } }, mappings: [{ from: 'toString', to: 'pad.volume' }] }).ok).toBe(false);
    expect(validatePatchObject({ ...MINIMAL, signals: { w: { from: 's' } }, mappings: [{ from: 'w', to: 'pad.constructor' }] }).ok).toBe(false);
    expect(validatePatchObject({ ...MINIMAL, key: 'C constructor' }).ok).toBe(false);
  });
});

describe('patch loader helpers', () => {
  it('formatPath', () => {
    expect(formatPath([])).toBe('');
    expect(formatPath(['voices', 'pad', 'filter', 'frequency'])).toBe('voices.pad.filter.frequency');
    expect(formatPath(['mappings', 2, 'to'])).toBe('mappings[2].to');
    expect(formatPath(['mappings', 0, 'steps', 1])).toBe('mappings[0].steps[1]');
    expect(formatPath(['voices', 'my-pad', 'send'])).toBe('voices.my-pad.send');
    expect(formatPath(['voices', 'pad', 'samples', 'C#4'])).toBe('voices.pad.samples["C#4"]');
    expect(formatPath(['a b'])).toBe('["a b"]');
  });

  it('formatPatchError', () => {
    expect(formatPatchError({ file: 'p.yaml', line: 3, path: 'key', message: 'bad' })).toBe('p.yaml:3: key: bad');
    expect(formatPatchError({ file: 'p.yaml', path: 'key', message: 'bad' })).toBe('p.yaml: key: bad');
    expect(formatPatchError({ file: 'p.yaml', line: 1, path: '', message: 'bad' })).toBe('p.yaml:1: bad');
  });

  it('editDistance (Levenshtein)', () => {
    expect(editDistance('', '')).toBe(0);
    expect(editDistance('tempo', 'tempo')).toBe(0);
    expect(editDistance('tempoo', 'tempo')).toBe(1);
    expect(editDistance('synht', 'synth')).toBe(2);
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('', 'abc')).toBe(3);
    expect(editDistance('abc', '')).toBe(3);
    expect(editDistance('flaw', 'lawn')).toBe(2);
  });

  it('PatchSchema is the one schema both loaders use (a parsed built-in re-validates to itself)', () => {
    for (const file of BUILT_IN) {
      const p = parsePatchOrThrow(readFileSync(PATCH_DIR + file, 'utf8'), file);
      // defaults and durations are idempotent: the output is valid input giving the same output
      expect(PatchSchema.parse(p)).toStrictEqual(p);
    }
  });
});
