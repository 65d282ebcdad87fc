/* eslint-disable @typescript-eslint/no-explicit-any -- the tests edit a JSON Schema clone by path */
import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { patchJsonSchema, PatchSchema } from './patchSchema.ts';
import { patchReferenceExamples, patchReferenceMarkdown, schemaVocabulary } from './patchReference.ts';
import { BUS_PARAMS, GLOBAL_PARAMS, VOICE_PARAMS } from './targets.ts';
import { MODE_NAMES } from './theory.ts';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const REFERENCE_FILE = `${ROOT}docs/patch-reference.md`;
const md = patchReferenceMarkdown();

/** The patch each example is merged into: the names the examples use (temp, warmth, heatwave, pad, hall, calm, storm). */
const BASE = {
  name: 'Example',
  streams: { temp: { default: 0 } },
  signals: { warmth: { from: 'temp', range: [-1, 1] }, heatwave: { from: 'temp', range: [-1, 1], threshold: { above: 0.8 } } },
  buses: { hall: { type: 'reverb' } },
  voices: { pad: { synth: 'synth', rhythm: { hold: true } } },
  scenes: { calm: {}, storm: {} },
};

function merge(base: Record<string, unknown>, frag: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(frag)) {
    const b = out[k];
    if (Array.isArray(b) && Array.isArray(v)) out[k] = [...b, ...v];
    else if (b && typeof b === 'object' && !Array.isArray(b) && v && typeof v === 'object' && !Array.isArray(v)) {
      // One level deeper for voices (pad: { notes } / { rhythm } replaces those fields of the base pad).
      const inner: Record<string, unknown> = { ...(b as Record<string, unknown>) };
      for (const [n, e] of Object.entries(v as Record<string, unknown>)) {
        const prev = inner[n];
        inner[n] = prev && typeof prev === 'object' && e && typeof e === 'object' ? { ...(prev as object), ...(e as object) } : e;
      }
      out[k] = inner;
    } else out[k] = v;
  }
  return out;
}

describe('patch reference (docs/patch-reference.md)', () => {
  it('the committed docs/patch-reference.md is the generated one', () => {
    if (!existsSync(REFERENCE_FILE)) expect.fail('docs/patch-reference.md does not exist: run `npm run schema` and commit it');
    const committed = readFileSync(REFERENCE_FILE, 'utf8');
    expect(committed === md, 'docs/patch-reference.md is stale: run `npm run schema` (or `ecosym schema --markdown --out docs/patch-reference.md`) and commit it').toBe(true);
  });

  it('has a heading for every voice type, note mode, rhythm form, curve and bus type the schema names', () => {
    const v = schemaVocabulary();
    expect(v.synths).toEqual(expect.arrayContaining(['synth', 'fm', 'am', 'mono', 'pluck', 'membrane', 'metal', 'noise', 'sampler']));
    expect(v.curves).toEqual(['lin', 'exp', 'log']);
    expect(v.rhythmForms.sort()).toEqual(['euclid', 'hold', 'pattern']);
    const headings = new Set([...md.matchAll(/^### (.+)$/gm)].map((m) => m[1]));
    for (const name of [...v.synths, ...v.noteModes, ...v.rhythmForms, ...v.curves, ...v.busTypes]) expect(headings, `no "### ${name}"`).toContain(name);
    // The enums are read from the JSON Schema itself, not a copy.
    type Node = { properties: Record<string, Node>; additionalProperties: Node; enum: string[] };
    const voice = (patchJsonSchema().properties as unknown as Record<string, Node>).voices!.additionalProperties.properties;
    expect(v.synths).toEqual(voice.synth!.enum);
    expect(v.noteModes).toEqual(voice.notes!.properties.mode!.enum);
  });

  it('refuses to be generated while a voice type, curve or note mode of the schema has no text', () => {
    const withExtra = (edit: (p: Record<string, any>) => void) => {
      const schema = structuredClone(patchJsonSchema()) as Record<string, any>;
      edit(schema.properties);
      return () => patchReferenceMarkdown(schema);
    };
    expect(withExtra((p) => p.voices.additionalProperties.properties.synth.enum.push('harp'))).toThrow('voice type "harp" is in the schema but not documented');
    expect(withExtra((p) => p.signals.additionalProperties.properties.curve.enum.push('sine'))).toThrow('curve "sine" is in the schema but not documented');
    expect(withExtra((p) => p.voices.additionalProperties.properties.notes.properties.mode.enum.push('cluster'))).toThrow('note mode "cluster"');
    expect(withExtra((p) => p.buses.additionalProperties.properties.type.enum.push('phaser'))).toThrow('bus type "phaser"');
    expect(withExtra(() => undefined)()).toBe(md);
  });

  it('documents every section, and every target of the target tables', () => {
    const sections = Object.keys(patchJsonSchema().properties as object);
    for (const s of sections) expect(md.includes(`## ${s}`) || md.includes(`| \`${s}\``), `section ${s}`).toBe(true);
    for (const p of Object.keys(VOICE_PARAMS)) expect(md).toContain(`| \`<voice>.${p}\` |`);
    for (const p of Object.keys(BUS_PARAMS)) expect(md).toContain(`| \`<bus>.${p}\` |`);
    for (const p of Object.keys(GLOBAL_PARAMS)) expect(md).toContain(`| \`${p}\` |`);
    for (const t of ['<voice>.send.<bus>', '<voice>.trigger', 'key.mode', 'scene']) expect(md).toContain(`\`${t}\``);
  });

  it('gives each field its default, range and unit', () => {
    expect(md).toContain('| `tempo` | number | `90` | 20…300 | BPM |');
    expect(md).toContain('| `volume` | number | `-12` | -60…24 | dB |');
    expect(md).toContain('| `filter.frequency` | number | `18000` | 20…20000 | Hz |');
    // A duration keeps its default even though the JSON Schema cannot carry it.
    expect(md).toMatch(/\| `fade` \| duration \| 4s \| ≥ 0 \| s \|/);
    expect(md).toContain('| `maxRate` | number |  | > 0 |');
    expect(md).toContain('| `<voice>.filter.frequency` | Hz | 200…8000 | 20…20000 | exp |');
    // Every mode a key may use, with its scale.
    for (const m of MODE_NAMES) expect(md).toContain(`| \`${m}\` |`);
    expect(md).toContain('| `dorian` | 0 2 3 5 7 9 10 | C D D# F G A A# |');
  });

  it('every YAML example is a valid part of a patch', () => {
    const examples = patchReferenceExamples();
    expect(examples.length).toBeGreaterThan(30);
    for (const ex of examples) {
      expect(md, `example "${ex.title}" is not in the page`).toContain(ex.shown);
      const frag = parseYaml(ex.yaml) as Record<string, unknown>;
      const r = PatchSchema.safeParse(merge(BASE, frag));
      expect(r.success, `example "${ex.title}": ${r.success ? '' : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`).toBe(true);
    }
  });
});
