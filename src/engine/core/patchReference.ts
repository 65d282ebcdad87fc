/**
 * The patch reference (`docs/patch-reference.md`, `ecosym schema --markdown`),
 * generated from the JSON Schema of the zod patch schema plus the target
 * tables, so it cannot drift from what the validator accepts. Hand-written
 * here: a sentence and a YAML example per section, voice type, note mode,
 * rhythm form, curve and bus type. A value the schema names with no text
 * here throws, so a new voice type or curve fails the reference test until
 * it is documented.
 */
import { patchJsonSchema } from './patchSchema.ts';
import { BUS_PARAMS, GLOBAL_PARAMS, SEND_PARAM, VOICE_PARAMS } from './targets.ts';
import { MODES } from './theory.ts';

type Json = Record<string, unknown>;

/** A YAML example: a fragment of a patch (top-level keys), checked by the tests against a small base patch. */
export interface ReferenceExample {
  title: string;
  /** As shown on the page. */
  shown: string;
  /** As a patch fragment (the shown text, under its voice when it is a voice's field). */
  yaml: string;
}

interface SectionDoc {
  key: string;
  title: string;
  text: string;
  example: string;
}

const SECTIONS: SectionDoc[] = [
  {
    key: 'streams',
    title: 'streams',
    text: 'Named inputs of timestamped numbers (or text, turned into numbers by a signal\'s `categories`). Each has a default source, which `--data STREAM=URI` overrides. File paths are relative to the patch.',
    example: `streams:
  temp:
    source: ../samples/data/global-temp.csv#temp@year
    unit: degC
    default: 0
    valid: [-5, 5]
    description: Global temperature anomaly; warmer is brighter.`,
  },
  {
    key: 'signals',
    title: 'signals',
    text: 'Each signal conditions one stream into a 0…1 control value: range, curve, smoothing, outlier rejection, thresholds. Mappings, OSC, MIDI and lighting read signals.',
    example: `signals:
  warmth: { from: temp, range: [-0.5, 1.2], curve: lin, smooth: 2s }
  heatwave: { from: temp, range: [-0.5, 1.2], threshold: { above: 0.8, hysteresis: 0.05, hold: 10s } }`,
  },
  {
    key: 'buses',
    title: 'buses',
    text: 'Shared effects. Voices send to them by name (`send: { hall: 0.3 }`); one effect per bus, however many voices send.',
    example: `buses:
  hall: { type: reverb, decay: 4, wet: 0.4 }
  echo: { type: delay, time: 8n., feedback: 0.4, wet: 0.3 }`,
  },
  {
    key: 'voices',
    title: 'voices',
    text: 'Instruments. Each has a synth type (see *Voice types*), a rhythm (exactly one of `euclid`, `pattern` or `hold`), a pitch rule (`notes`), a level and sends.',
    example: `voices:
  bells:
    synth: fm
    harmonicity: 3
    modulationIndex: 8
    notes: { mode: arp-up, octave: 5, spread: 1 }
    rhythm: { euclid: [5, 16], every: 16n }
    envelope: { attack: 0.005, decay: 0.4, sustain: 0.1, release: 1 }
    volume: -18
    send: { hall: 0.4 }`,
  },
  {
    key: 'mappings',
    title: 'mappings',
    text: 'Each mapping drives one target (see *Targets*) from one signal. Continuous targets glide; `scene` and `key.mode` choose by value or by a threshold\'s on/off.',
    example: `mappings:
  - { from: warmth, to: pad.filter.frequency, range: [300, 4000], curve: exp }
  - { from: warmth, to: tempo, range: [70, 110], glide: 2s }`,
  },
  {
    key: 'scenes',
    title: 'scenes',
    text: 'Named states of the piece: per-voice level offsets, mutes, density and register; switching crossfades over the scene\'s `fade`. `scene:` at the top picks the first one.',
    example: `scenes:
  calm: { fade: 6s }
  storm:
    fade: 3s
    tempo: 120
    voices:
      pad: { volume: 4, density: 2, octave: -1 }`,
  },
  {
    key: 'osc',
    title: 'osc',
    text: 'OSC control in (the /eco/… address space) and messages out to a rig.',
    example: `osc:
  in: { port: 9000 }
  out:
    targets: [127.0.0.1:7000]
    messages:
      - { address: /eco/warmth, from: signal:warmth }
      - { address: /eco/note, from: note }`,
  },
  {
    key: 'lighting',
    title: 'lighting',
    text: 'DMX over Art-Net or sACN: channels that follow signals, flashes fired by events. Blacks out on panic.',
    example: `lighting:
  artnet: { host: 127.0.0.1, universe: 0 }
  channels:
    - { channel: 1, from: warmth }
  flashes:
    - { channel: 2, on: beat, decay: 0.2s }`,
  },
  {
    key: 'midi',
    title: 'midi',
    text: 'MIDI in and out: notes that play voices, controllers that feed streams or drive targets, generated notes and signals out, clock.',
    example: `midi:
  controls:
    - { cc: 74, to: pad.filter.frequency }
  send:
    - { from: warmth, cc: 1 }
  clock: { out: true }`,
  },
  {
    key: 'master',
    title: 'master',
    text: 'The master chain after every voice and bus: a level, then a limiter and a hard ceiling the output never passes.',
    example: `master: { volume: -6, ceiling: -1 }`,
  },
  {
    key: 'output',
    title: 'output',
    text: 'The output layout: stereo by default, or more channels with voices and buses placed in it.',
    example: `output: { channels: 2 }`,
  },
];

const TOP_EXAMPLE = `name: Slow Warming
description: Global temperature as a slowly brightening drone.
seed: 7
tempo: 72
key: D dorian
harmony: { progression: [i, IV, i, v], barsPerChord: 4 }`;

const SYNTH_DOCS: Record<string, { text: string; fields: string[]; example: string }> = {
  synth: {
    text: 'A subtractive synth: one oscillator through the amplitude envelope. Pads, leads.',
    fields: ['oscillator', 'envelope', 'filter'],
    example: `voices:
  pad: { synth: synth, oscillator: fattriangle, notes: { mode: chord, octave: 3 }, rhythm: { hold: true }, envelope: { attack: 2, release: 4 } }`,
  },
  fm: {
    text: 'Frequency modulation: bells, electric pianos, metallic tones. `harmonicity` sets the modulator ratio, `modulationIndex` its depth.',
    fields: ['oscillator', 'harmonicity', 'modulationIndex', 'envelope', 'filter'],
    example: `voices:
  bell: { synth: fm, harmonicity: 3.5, modulationIndex: 12, rhythm: { euclid: [3, 8] }, notes: { octave: 5 } }`,
  },
  am: {
    text: 'Amplitude modulation: hollow, vocal tones. `harmonicity` sets the modulator ratio.',
    fields: ['oscillator', 'harmonicity', 'envelope', 'filter'],
    example: `voices:
  choir: { synth: am, harmonicity: 1.5, notes: { mode: chord }, rhythm: { hold: true } }`,
  },
  mono: {
    text: 'A monophonic synth with its own filter envelope: basses and leads (use `poly: 1`).',
    fields: ['oscillator', 'envelope', 'filter'],
    example: `voices:
  bass: { synth: mono, oscillator: sawtooth, poly: 1, notes: { mode: root, octave: 2 }, rhythm: { pattern: "x..x..x." } }`,
  },
  pluck: {
    text: 'For now the same instrument as `synth` (one oscillator through the envelope; there is no string model yet): a short envelope with no sustain gives the plucked sound.',
    fields: ['oscillator', 'envelope', 'filter'],
    example: `voices:
  harp: { synth: pluck, oscillator: triangle, envelope: { attack: 0.002, decay: 0.3, sustain: 0, release: 0.2 }, notes: { mode: arp-up, octave: 4, spread: 2 }, rhythm: { euclid: [7, 16] } }`,
  },
  membrane: {
    text: 'A pitched membrane: kicks and toms (a fixed low note suits it).',
    fields: ['envelope', 'filter'],
    example: `voices:
  kick: { synth: membrane, notes: { mode: fixed, note: C1 }, rhythm: { pattern: "X...x...X...x..." } }`,
  },
  metal: {
    text: 'Inharmonic metallic partials: cymbals, gongs, alarms.',
    fields: ['harmonicity', 'modulationIndex', 'envelope', 'filter'],
    example: `voices:
  gong: { synth: metal, notes: { mode: fixed, note: C5 }, rhythm: { pattern: "x..............." }, volume: -24 }`,
  },
  noise: {
    text: 'Filtered noise: hats, wind, rain. `noise` picks the colour; pitch is ignored.',
    fields: ['noise', 'envelope', 'filter'],
    example: `voices:
  wind: { synth: noise, noise: pink, filter: { type: bandpass, frequency: 800, q: 2 }, rhythm: { hold: true } }`,
  },
  sampler: {
    text: 'Plays WAV files, repitched to the notes chosen: `samples` maps note names to files (relative to the patch, in samples/ or a --samples-dir folder).',
    fields: ['samples', 'envelope', 'filter'],
    example: `voices:
  drops:
    synth: sampler
    samples: { C6: ../samples/drops/drop-1.wav }
    rhythm: { euclid: [3, 16] }`,
  },
};

const NOTE_MODE_DOCS: Record<string, { text: string; example: string }> = {
  chord: { text: 'Every note of the current chord at once.', example: `notes: { mode: chord, octave: 3 }` },
  'arp-up': { text: 'The chord tones one by one, upwards, over `spread` octaves.', example: `notes: { mode: arp-up, octave: 4, spread: 2 }` },
  'arp-down': { text: 'The chord tones one by one, downwards.', example: `notes: { mode: arp-down, octave: 4, spread: 1 }` },
  random: { text: 'Random notes of the scale, weighted towards chord tones (seeded: the same each render).', example: `notes: { mode: random, octave: 4, spread: 1 }` },
  root: { text: 'The root of the current chord.', example: `notes: { mode: root, octave: 2 }` },
  fixed: { text: 'Always `note` (drums, alarms).', example: `notes: { mode: fixed, note: A1 }` },
};

const RHYTHM_DOCS: Record<string, { text: string; example: string }> = {
  euclid: { text: '`[pulses, steps]`: pulses spread as evenly as possible over the steps (Euclidean rhythm).', example: `rhythm: { euclid: [5, 16], every: 16n }` },
  pattern: { text: 'A step string: `x` hit, `X` accent, `.` or `-` rest.', example: `rhythm: { pattern: "X..x..x.", every: 8n }` },
  hold: { text: 'No steps: a note held from one chord change to the next (drones, pads).', example: `rhythm: { hold: true }` },
};

const CURVE_DOCS: Record<string, string> = {
  lin: 'Straight, y = x: equal steps of signal give equal steps of output.',
  exp: 'Slow start, fast end, y = (2^(4x) − 1) / 15 (loudness, density). In a mapping whose range has both ends above 0 it is geometric instead, lo·(hi/lo)^x: equal steps of signal give equal ratios, the right curve for frequencies (Hz).',
  log: 'Fast start, slow end, y = log2(1 + 15x) / 4: small signals already move the output a lot.',
};

const BUS_DOCS: Record<string, { text: string; example: string }> = {
  reverb: { text: 'A room: `decay` (s) and `preDelay` (s).', example: `buses:\n  hall: { type: reverb, decay: 5, preDelay: 0.03, wet: 0.4 }` },
  delay: { text: 'Echoes: `time` (seconds or a note value synced to tempo) and `feedback`.', example: `buses:\n  echo: { type: delay, time: 4n, feedback: 0.5, wet: 0.3 }` },
  chorus: { text: 'A slow pitch wobble that widens: `frequency` (Hz) and `depth`.', example: `buses:\n  wide: { type: chorus, frequency: 0.8, depth: 0.6, wet: 0.5 }` },
};

// ---------------------------------------------------------------- schema walking

function obj(v: unknown): Json | undefined {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : undefined;
}

function isDuration(s: Json): boolean {
  const any = s.anyOf as Json[] | undefined;
  return !!any && any.length === 2 && any.some((a) => a.type === 'number') && any.some((a) => a.type === 'string' && !a.enum);
}

/** The type of a schema node, as a reader writes it. */
function typeOf(s: Json): string {
  if (isDuration(s)) return 'duration';
  if (Array.isArray(s.enum)) return (s.enum as unknown[]).map((e) => `\`${String(e)}\``).join(' | ');
  if (s.const !== undefined) return `\`${String(s.const)}\``;
  const alts = (s.anyOf ?? s.oneOf) as Json[] | undefined;
  if (alts && !s.type) return [...new Set(alts.map(typeOf))].join(' | ');
  if (s.type === 'array') {
    if (Array.isArray(s.prefixItems)) return `[${(s.prefixItems as Json[]).map(typeOf).join(', ')}]`;
    const items = obj(s.items);
    return items ? `list of ${items.type === 'object' ? 'objects' : typeOf(items)}` : 'list';
  }
  if (s.type === 'object') return s.properties ? 'object' : obj(s.additionalProperties) ? `map of ${obj(s.additionalProperties)!.type === 'object' ? 'objects' : typeOf(obj(s.additionalProperties)!)}` : 'object';
  if (s.type === 'integer') return 'integer';
  if (Array.isArray(s.type)) return s.type.join(' | ');
  return typeof s.type === 'string' ? s.type : 'any';
}

function rangeOf(s: Json): string {
  const bound = (v: unknown) => (typeof v === 'number' && Math.abs(v) < 1e15 ? v : undefined);
  const lo = bound(s.minimum ?? s.exclusiveMinimum);
  const hi = bound(s.maximum ?? s.exclusiveMaximum);
  if (lo === undefined && hi === undefined) {
    if (isDuration(s)) return '≥ 0';
    if (s.type === 'array' && Array.isArray(s.prefixItems)) {
      const parts = (s.prefixItems as Json[]).map(rangeOf);
      return parts.every((p) => p === '') ? '' : parts.join(', ');
    }
    return '';
  }
  const l = lo === undefined ? '' : String(lo);
  const h = hi === undefined ? '' : String(hi);
  if (lo !== undefined && hi !== undefined) return `${s.exclusiveMinimum !== undefined ? '>' : ''}${l}…${h}`;
  return lo !== undefined ? `${s.exclusiveMinimum !== undefined ? '>' : '≥'} ${l}` : `≤ ${h}`;
}

/** The unit, read from the description's wording (dB, Hz, BPM, cents, seconds, 0…1). */
function unitOf(s: Json, desc: string): string {
  if (isDuration(s)) return 's';
  // Only a number has a unit; a list, text or choice says what it holds in its description.
  if (s.type !== 'number' && s.type !== 'integer') return '';
  if (/\bin dB\b|\bdB\b/.test(desc)) return 'dB';
  if (/\bBPM\b/.test(desc)) return 'BPM';
  if (/\bcents\b/.test(desc)) return 'cents';
  if (/\bin Hz\b|\(Hz\)|\bHz\b/.test(desc)) return 'Hz';
  if (/^seconds\b|\bin seconds\b|\bseconds,/i.test(desc)) return 's';
  if (/\bdegrees\b/.test(desc)) return /0…1/.test(desc) ? 'degrees, or 0…1 on a line' : 'degrees';
  if (/\boctaves?\b/i.test(desc) && s.type === 'integer') return 'octaves';
  if (/−1…1|-1…1/.test(desc)) return '−1…1';
  if (/0…1\b/.test(desc)) return '0…1';
  return '';
}

function fmt(v: unknown): string {
  if (v === undefined) return '';
  const text = typeof v === 'string' && v !== '' ? v : JSON.stringify(v).replace(/"([A-Za-z_$][\w$]*)":/g, '$1: ').replace(/,/g, ', ');
  return `\`${text}\``;
}

/** A default the JSON Schema cannot carry (durations, given in seconds or with a unit), as the description states it. */
function defaultInText(desc: string): string {
  const m = /\(default:? ([^);]+)[);]/.exec(desc) ?? /\bdefault:? ([^();,]+)\)?$/.exec(desc);
  return m ? m[1]!.trim() : '';
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

interface Row {
  path: string;
  type: string;
  def: string;
  range: string;
  unit: string;
  desc: string;
}

/** The fields of an object schema as table rows, nested objects flattened to dotted paths. */
function rows(s: Json, prefix: string, out: Row[] = [], alternative = false): Row[] {
  const props = obj(s.properties) ?? {};
  const required = alternative ? [] : ((s.required as string[] | undefined) ?? []);
  for (const [name, raw] of Object.entries(props)) {
    const p = obj(raw)!;
    const path = prefix ? `${prefix}.${name}` : name;
    if (alternative && out.some((r) => r.path === path)) continue;
    const desc = String(p.description ?? '');
    out.push({
      path: path + (required.includes(name) && p.default === undefined ? ' *' : ''),
      type: typeOf(p),
      def: p.default !== undefined ? fmt(p.default) : defaultInText(desc),
      range: rangeOf(p),
      unit: unitOf(p, desc),
      desc,
    });
    if (p.type === 'object' && obj(p.properties)) rows(p, path, out);
    else if (p.type === 'object' && obj(p.additionalProperties)?.properties) rows(obj(p.additionalProperties)!, `${path}.<name>`, out);
    else if (p.type === 'array' && obj(p.items)?.properties) rows(obj(p.items)!, `${path}[]`, out);
    else if (!p.type && (p.anyOf as Json[] | undefined)?.some((a) => a.properties)) {
      // One of several forms: their fields, each once, none required (the forms are in the description).
      for (const alt of p.anyOf as Json[]) if (obj(alt.properties)) rows(alt, path, out, true);
    }
  }
  return out;
}

function table(rs: Row[]): string {
  const head = '| field | type | default | range | unit | description |\n|---|---|---|---|---|---|';
  return [head, ...rs.map((r) => `| \`${r.path.replace(' *', '')}\`${r.path.endsWith(' *') ? ' (required)' : ''} | ${cell(r.type)} | ${cell(r.def)} | ${cell(r.range)} | ${r.unit} | ${cell(r.desc)} |`)].join('\n');
}

function yaml(text: string): string {
  return '```yaml\n' + text + '\n```';
}

/** The entry schema of a section: the value of a map, the item of a list, or the object itself. */
function entrySchema(s: Json): Json {
  const alts = (s.anyOf ?? s.oneOf) as Json[] | undefined;
  if (alts && !s.type) return alts.find((a) => a.type === 'object') ?? s;
  if (s.type === 'array' && obj(s.items)) return obj(s.items)!;
  if (s.type === 'object' && !s.properties && obj(s.additionalProperties)) return obj(s.additionalProperties)!;
  return s;
}

function enumOf(s: Json | undefined, what: string): string[] {
  const e = s?.enum;
  if (!Array.isArray(e)) throw new Error(`patch reference: the schema no longer has an enum for ${what}`);
  return e.map(String);
}

function need<T>(docs: Record<string, T>, value: string, what: string): T {
  const d = Object.hasOwn(docs, value) ? docs[value] : undefined;
  if (!d) throw new Error(`patch reference: ${what} "${value}" is in the schema but not documented in src/engine/core/patchReference.ts`);
  return d;
}

/** Names the schema declares, for the reference's own checks and its tests. */
export function schemaVocabulary(schema: Json = patchJsonSchema()): { synths: string[]; curves: string[]; noteModes: string[]; busTypes: string[]; rhythmForms: string[]; sections: string[] } {
  const p = obj(schema.properties)!;
  const voice = entrySchema(obj(p.voices)!);
  const vp = obj(voice.properties)!;
  const signal = obj(entrySchema(obj(p.signals)!).properties)!;
  const bus = obj(entrySchema(obj(p.buses)!).properties)!;
  return {
    synths: enumOf(obj(vp.synth), 'voices.synth'),
    curves: enumOf(obj(signal.curve), 'signals.curve'),
    noteModes: enumOf(obj(obj(obj(vp.notes)!.properties)!.mode), 'voices.notes.mode'),
    busTypes: enumOf(obj(bus.type), 'buses.type'),
    rhythmForms: Object.keys(obj(obj(vp.rhythm)!.properties)!).filter((k) => k === 'euclid' || k === 'pattern' || k === 'hold'),
    sections: Object.keys(p),
  };
}

/** Every YAML example of the reference, in order. */
export function patchReferenceExamples(schema: Json = patchJsonSchema()): ReferenceExample[] {
  const v = schemaVocabulary(schema);
  const whole = (title: string, yaml: string): ReferenceExample => ({ title, shown: yaml, yaml });
  const ofVoice = (title: string, shown: string): ReferenceExample => ({ title, shown, yaml: `voices:\n  pad:\n    ${shown}` });
  const ex: ReferenceExample[] = [whole('top level', TOP_EXAMPLE)];
  for (const s of SECTIONS) ex.push(whole(s.title, s.example));
  for (const t of v.synths) ex.push(whole(`voice type ${t}`, need(SYNTH_DOCS, t, 'voice type').example));
  for (const m of v.noteModes) ex.push(ofVoice(`note mode ${m}`, need(NOTE_MODE_DOCS, m, 'note mode').example));
  for (const r of v.rhythmForms) ex.push(ofVoice(`rhythm ${r}`, need(RHYTHM_DOCS, r, 'rhythm form').example));
  for (const c of v.curves) ex.push(whole(`curve ${c}`, curveExample(c)));
  for (const b of v.busTypes) ex.push(whole(`bus ${b}`, need(BUS_DOCS, b, 'bus type').example));
  ex.push(whole('targets', TARGETS_EXAMPLE));
  ex.push(whole('keys and modes', KEYS_EXAMPLE));
  return ex;
}

const KEYS_EXAMPLE = `key: F# minor
harmony: { progression: [i, VI, III, VII], barsPerChord: 2 }
mappings:
  - { from: warmth, to: key.mode, steps: [aeolian, dorian, mixolydian, lydian] }`;

const TARGETS_EXAMPLE = `mappings:
  - { from: warmth, to: pad.volume, range: [-30, -6] }
  - { from: warmth, to: pad.send.hall, range: [0.1, 0.6] }
  - { from: warmth, to: hall.wet }
  - { from: warmth, to: key.mode, steps: [lydian, dorian, aeolian] }
  - { from: heatwave, to: scene, on: storm, off: calm }
  - { from: heatwave, to: pad.trigger, note: C5 }`;

function curveExample(c: string): string {
  return `signals:\n  level: { from: temp, range: [-1, 1], curve: ${c} }\nmappings:\n  - { from: level, to: pad.filter.frequency, range: [200, 6000], curve: ${c} }`;
}

function paramTable(title: string, prefix: string, params: Record<string, { unit: string; range: readonly [number, number]; limits: readonly [number, number]; curve: string }>): string {
  const lines = [`| target | unit | default mapping range | limits | default curve |`, '|---|---|---|---|---|'];
  for (const [name, p] of Object.entries(params)) lines.push(`| \`${prefix}${name}\` | ${p.unit} | ${p.range[0]}…${p.range[1]} | ${p.limits[0]}…${p.limits[1]} | ${p.curve} |`);
  return `### ${title}\n\n${lines.join('\n')}`;
}

/** The reference as Markdown (stable: the same schema gives the same text); `schema` is for tests. */
export function patchReferenceMarkdown(schema: Json = patchJsonSchema()): string {
  const props = obj(schema.properties)!;
  const v = schemaVocabulary(schema);
  const out: string[] = [];
  const add = (...s: string[]) => out.push(...s.flatMap((x) => [x, '']));

  add(
    '# Patch reference',
    '<!-- Generated from src/engine/core/patchSchema.ts by `ecosym schema --markdown --out docs/patch-reference.md`; do not edit by hand. -->',
    'A patch is a YAML (or JSON) file: streams of data, signals conditioned from them, voices and buses that make the sound, mappings from signals to targets, and scenes. This page lists every field the validator accepts, with its default, range and unit, and a short example of each part. Fields marked *(required)* must be written; everything else has a default or is optional. Durations are seconds, or a string with a unit: `"250ms"`, `"30s"`, `"2m"`, `"1h"`. Names (streams, signals, voices, buses, scenes) start with a letter and hold letters, digits, `_` or `-`.',
    'Check a patch with `ecosym validate PATCH`; start one with `ecosym new NAME`. Editors validate and complete with the JSON Schema `schema/patch.schema.json` (`ecosym schema`).',
    '## Contents',
    ['- [Top level](#top-level)', ...SECTIONS.map((s) => `- [${s.title}](#${s.title})`), '- [Voice types](#voice-types)', '- [Note modes](#note-modes)', '- [Rhythm forms](#rhythm-forms)', '- [Curves](#curves)', '- [Bus types](#bus-types)', '- [Keys and modes](#keys-and-modes)', '- [Targets](#targets)'].join('\n'),
  );

  const sectionKeys = new Set(SECTIONS.map((s) => s.key));
  for (const key of Object.keys(props)) if (!sectionKeys.has(key) && obj(props[key])?.type === 'object' && obj(props[key])?.properties === undefined && key !== 'harmony')
    throw new Error(`patch reference: section "${key}" is in the schema but not documented in src/engine/core/patchReference.ts`);
  const topRows = rows({ ...schema, properties: Object.fromEntries(Object.entries(props).filter(([k]) => !sectionKeys.has(k) || k === 'master')) }, '');
  add('## Top level', table(topRows.filter((r) => !r.path.startsWith('master'))), yaml(TOP_EXAMPLE));

  for (const s of SECTIONS) {
    const node = obj(props[s.key]);
    if (!node) throw new Error(`patch reference: section "${s.key}" is documented but not in the schema`);
    const entry = entrySchema(node);
    const shape = node.type === 'array' ? `A list; each item:` : node.type === 'object' && !node.properties ? `A map from a name to:` : '';
    add(`## ${s.title}`, s.text);
    if (shape) add(shape);
    add(table(rows(entry, '')), yaml(s.example));
  }

  add('## Voice types', 'The `synth` field of a voice. Every voice also takes `poly`, `volume`, `pan`, `detune`, `notes`, `rhythm`, `density`, `velocity`, `send` and `position` (see *voices*).');
  for (const t of v.synths) {
    const d = need(SYNTH_DOCS, t, 'voice type');
    add(`### ${t}`, d.text, `Fields of its own: ${d.fields.map((f) => `\`${f}\``).join(', ')}.`, yaml(d.example));
  }
  add('## Note modes', '`notes.mode` of a voice: how pitches are chosen from the key and the current chord. `octave` sets the register, `spread` the octaves above it that arpeggios and random notes may use.');
  for (const m of v.noteModes) {
    const d = need(NOTE_MODE_DOCS, m, 'note mode');
    add(`### ${m}`, d.text, yaml(d.example));
  }
  add('## Rhythm forms', '`rhythm` of a voice: exactly one of these, with `every` (the length of one step, default `16n`) and `rotate`.');
  for (const r of v.rhythmForms) {
    const d = need(RHYTHM_DOCS, r, 'rhythm form');
    add(`### ${r}`, d.text, yaml(d.example));
  }
  add('## Curves', 'The `curve` of a signal (applied after normalising to 0…1) and of a mapping (how the signal spreads over the target\'s range).');
  for (const c of v.curves) add(`### ${c}`, need(CURVE_DOCS, c, 'curve'), yaml(curveExample(c)));
  add('## Bus types', 'The `type` of a bus. `wet` (0…1) is the return level of every bus.');
  for (const b of v.busTypes) {
    const d = need(BUS_DOCS, b, 'bus type');
    add(`### ${b}`, d.text, yaml(d.example));
  }

  const NOTE = ['C', 'C#', 'D', 'D#', 'E', 'F', 'F#', 'G', 'G#', 'A', 'A#', 'B'];
  add(
    '## Keys and modes',
    '`key` is a tonic and a mode (`"D dorian"`, `"F# minor"`); `harmony.progression` names chords by scale degree in roman numerals, `i` … `vii` (case is for readability: the chord is built from the scale\'s own thirds, so the mode decides major or minor; `7` adds the seventh, `9` the ninth); a `key.mode` mapping picks among modes by value. The modes, with their scale on C:',
    ['| mode | semitones above the tonic | on C |', '|---|---|---|', ...Object.entries(MODES).map(([m, steps]) => `| \`${m}\` | ${steps.join(' ')} | ${steps.map((st) => NOTE[st]).join(' ')} |`)].join('\n'),
    yaml(KEYS_EXAMPLE),
  );
  add(
    '## Targets',
    'What a mapping\'s `to` names. Continuous targets glide (`glide`, default 0.05 s) to `range` mapped by `curve`; without them, the defaults below. A value beyond the limits is clamped, never refused. `<voice>` and `<bus>` are names from the patch; `master`, `tempo`, `key` and `scene` are reserved.',
    paramTable('Voice parameters: `<voice>.<param>`', '<voice>.', VOICE_PARAMS),
    paramTable('Sends: `<voice>.send.<bus>`', '<voice>.send.', { '<bus>': SEND_PARAM }),
    paramTable('Bus parameters: `<bus>.<param>`', '<bus>.', BUS_PARAMS),
    paramTable('Global', '', GLOBAL_PARAMS),
    '### Events and choices',
    [
      '| target | what it does |',
      '|---|---|',
      '| `<voice>.trigger` | plays one note (`note`, default the chord root) each time the signal\'s threshold turns on; from a signal without a threshold, one note for each value its stream sends (an event feed: one note per quake), its velocity the value mapped through `range` (default 0…1) |',
      '| `key.mode` | picks a mode from `steps` by the signal\'s value (e.g. `[lydian, ionian, dorian, aeolian, phrygian]`) |',
      '| `scene` | picks a scene from `steps` by value, or `on` / `off` scenes from the signal\'s threshold |',
    ].join('\n'),
    yaml(TARGETS_EXAMPLE),
  );
  return out.join('\n').replace(/\n{3,}/g, '\n\n').trimEnd() + '\n';
}
