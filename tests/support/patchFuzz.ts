/**
 * Random valid patches for the audio fuzz (src/engine/audio/fuzz.test.ts and
 * `npm run bench -- --fuzz`), and the check every render of one must pass.
 *
 * The effect and synthesis parameters that can make a graph unstable (delay
 * time and feedback, reverb decay, chorus rate and depth, filter Q,
 * harmonicity, modulation index, detune, poly, tempo) span the ranges the
 * patch schema allows, read from its JSON Schema, so a wider range there is
 * fuzzed at once. What decides only whether a note is heard (volume, velocity,
 * density, envelope, register, filter cutoff) is kept audible on purpose: a
 * silent second in a render then means the engine lost the sound, not that
 * the patch asked for silence.
 */
import fc from 'fast-check';
import { patchJsonSchema, type Patch } from '../../src/engine/core/patchSchema.ts';
import { validatePatchObject } from '../../src/engine/core/patchLoader.ts';
import { nonFiniteCount, peak } from '../../src/engine/core/analysis.ts';
import type { StreamFeed } from '../../src/engine/node/render.ts';
import type { EngineEvent } from '../../src/engine/audio/Engine.ts';

type JsonNode = { properties?: Record<string, JsonNode>; additionalProperties?: JsonNode; anyOf?: JsonNode[]; minimum?: number; maximum?: number; enum?: string[] };

const schema = patchJsonSchema() as JsonNode;

/** The [minimum, maximum] the schema gives a number at `path` (names of properties; `*` for a record's values). */
export function schemaRange(...path: string[]): [number, number] {
  let node: JsonNode | undefined = schema;
  for (const key of path) node = key === '*' ? node?.additionalProperties : node?.properties?.[key];
  const num = node?.anyOf ? node.anyOf.find((n) => n.minimum !== undefined) : node;
  if (num?.minimum === undefined || num.maximum === undefined) throw new Error(`patch schema: no numeric range at ${path.join('.')}`);
  return [num.minimum, num.maximum];
}

/** The values the schema allows for a string at `path` (every enum of an anyOf). */
function schemaEnum(...path: string[]): string[] {
  let node: JsonNode | undefined = schema;
  for (const key of path) node = key === '*' ? node?.additionalProperties : node?.properties?.[key];
  const values = [...(node?.enum ?? []), ...(node?.anyOf ?? []).flatMap((n) => n.enum ?? [])];
  if (!values.length) throw new Error(`patch schema: no enum at ${path.join('.')}`);
  return values;
}

/**
 * A number spread evenly over [min, max], its ends one time in five. (fc.double and
 * fc.integer favour values near 0, down to subnormals: a feedback of 5e-323
 * says nothing about stability.)
 */
const num = ([min, max]: [number, number]) =>
  fc.oneof({ arbitrary: fc.noBias(fc.integer({ min: 0, max: 1e6 })).map((i) => min + ((max - min) * i) / 1e6), weight: 4 }, { arbitrary: fc.constantFrom(min, max), weight: 1 });
const int = ([min, max]: [number, number]) => fc.noBias(fc.integer({ min, max }));
const BUS = ['buses', '*'];
const VOICE = ['voices', '*'];

const bus = fc.oneof(
  fc.record({ type: fc.constant('delay'), wet: num(schemaRange(...BUS, 'wet')), time: fc.oneof(num(schemaRange(...BUS, 'time')), fc.constantFrom(...schemaEnum(...BUS, 'time'))), feedback: num(schemaRange(...BUS, 'feedback')) }),
  fc.record({ type: fc.constant('reverb'), wet: num(schemaRange(...BUS, 'wet')), decay: num(schemaRange(...BUS, 'decay')), preDelay: num(schemaRange(...BUS, 'preDelay')) }),
  fc.record({ type: fc.constant('chorus'), wet: num(schemaRange(...BUS, 'wet')), frequency: num(schemaRange(...BUS, 'frequency')), depth: num(schemaRange(...BUS, 'depth')) }),
);

const voice = (buses: string[]) =>
  fc.record({
    synth: fc.constantFrom('synth', 'fm', 'am', 'mono', 'pluck', 'membrane', 'metal', 'noise'),
    oscillator: fc.constantFrom(...schemaEnum(...VOICE, 'oscillator')),
    noise: fc.constantFrom('white', 'pink', 'brown'),
    poly: int(schemaRange(...VOICE, 'poly')),
    volume: num([-24, 6]),
    pan: num(schemaRange(...VOICE, 'pan')),
    detune: num(schemaRange(...VOICE, 'detune')),
    harmonicity: num(schemaRange(...VOICE, 'harmonicity')),
    modulationIndex: num(schemaRange(...VOICE, 'modulationIndex')),
    envelope: fc.record({ attack: num([0.001, 0.3]), decay: num([0.05, 2]), sustain: num([0.2, 1]), release: num([0.01, 3]) }),
    // A lowpass at any Q the schema allows; its cutoff above the notes (octaves 2…5 reach ~1 kHz).
    filter: fc.record({ type: fc.constant('lowpass'), frequency: num([1500, 20000]), q: num(schemaRange(...VOICE, 'filter', 'q')) }),
    notes: fc.record({ mode: fc.constantFrom('chord', 'arp-up', 'arp-down', 'random', 'root'), octave: fc.integer({ min: 2, max: 5 }), spread: fc.integer({ min: 0, max: 2 }), length: num([0.5, 8]) }),
    // At least one hit every 8 quarter notes.
    rhythm: fc.oneof(
      fc.record({ hold: fc.constant(true) }),
      fc.integer({ min: 1, max: 8 }).chain((steps) => fc.record({ euclid: fc.tuple(fc.integer({ min: 1, max: steps }), fc.constant(steps)), every: fc.constantFrom('16n', '8n', '4n') })),
    ),
    density: num([0.7, 1]),
    velocity: num([0.5, 1]),
    send: fc.record(Object.fromEntries(buses.map((b) => [b, num(schemaRange(...VOICE, 'send', '*'))])), { requiredKeys: [] }),
  });

/** Targets the fuzz maps data to, with the range swept: the whole schema range where it matters for stability. */
function mappingTargets(voices: string[], buses: Record<string, { type: string }>): Array<{ to: string; range: [number, number] }> {
  const out: Array<{ to: string; range: [number, number] }> = [{ to: 'tempo', range: schemaRange('tempo') }];
  for (const [b, spec] of Object.entries(buses)) {
    out.push({ to: `${b}.wet`, range: schemaRange(...BUS, 'wet') });
    if (spec.type === 'delay') out.push({ to: `${b}.feedback`, range: schemaRange(...BUS, 'feedback') });
  }
  for (const v of voices) {
    out.push({ to: `${v}.filter.q`, range: schemaRange(...VOICE, 'filter', 'q') });
    out.push({ to: `${v}.filter.frequency`, range: [1500, 20000] });
    out.push({ to: `${v}.detune`, range: schemaRange(...VOICE, 'detune') });
    out.push({ to: `${v}.harmonicity`, range: schemaRange(...VOICE, 'harmonicity') });
    out.push({ to: `${v}.modulationIndex`, range: schemaRange(...VOICE, 'modulationIndex') });
    out.push({ to: `${v}.pan`, range: schemaRange(...VOICE, 'pan') });
  }
  return out;
}

/** A random valid patch (validated by the schema: a generator bug fails loudly here). */
export const fuzzPatch: fc.Arbitrary<Patch> = fc
  .record({
    seed: fc.integer({ min: 0, max: 1e6 }),
    tempo: num(schemaRange('tempo')),
    buses: fc.uniqueArray(bus, { minLength: 0, maxLength: 3 }),
    voiceCount: fc.integer({ min: 1, max: 3 }),
  })
  .chain(({ seed, tempo, buses, voiceCount }) => {
    const busSpecs = Object.fromEntries(buses.map((b, i) => [`fx${i}`, b]));
    const busNames = Object.keys(busSpecs);
    const voiceNames = Array.from({ length: voiceCount }, (_, i) => `v${i}`);
    const targets = mappingTargets(voiceNames, busSpecs);
    return fc
      .record({
        voices: fc.tuple(...voiceNames.map(() => voice(busNames))),
        mappings: fc.uniqueArray(fc.constantFrom(...targets), { maxLength: 4, selector: (t) => t.to }),
        smooth: num([0, 2]),
      })
      .map(({ voices, mappings, smooth }) => {
        const input = {
          name: `fuzz-${seed}`,
          seed,
          tempo,
          key: 'C minor',
          streams: { s: { default: 0.5 } },
          signals: { x: { from: 's', range: [0, 1], smooth } },
          buses: busSpecs,
          voices: Object.fromEntries(voices.map((v, i) => [voiceNames[i]!, v])),
          mappings: mappings.map((m) => ({ from: 'x', ...m })),
        };
        const r = validatePatchObject(input, `fuzz-${seed}.json`);
        if (!r.ok) throw new Error(`fuzz generator made an invalid patch: ${JSON.stringify(r.errors)}\n${JSON.stringify(input)}`);
        return r.patch;
      });
  });

/** Data for the fuzz stream: a seeded walk over 0…1 with jumps, 4 values a second. */
export function fuzzFeed(seed: number, duration: number): StreamFeed[] {
  let s = seed >>> 0 || 1;
  const rand = () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
  let v = 0.5;
  const points = [];
  for (let t = 0; t <= duration; t += 0.25) {
    v = rand() < 0.05 ? rand() : Math.min(1, Math.max(0, v + (rand() - 0.5) * 0.2));
    points.push({ time: t, value: v });
  }
  return [{ stream: 's', points }];
}

/**
 * What must hold for a fuzz render: no non-finite sample, no audio fault (nor
 * any other engine error), and no silent second in which notes started
 * (every fuzz voice is audible by construction). Returns the problems found.
 */
export function fuzzProblems(channels: Float32Array[], sampleRate: number, events: EngineEvent[], errors: unknown[]): string[] {
  const problems: string[] = [];
  for (const [c, x] of channels.entries()) {
    const bad = nonFiniteCount(x);
    if (bad) problems.push(`channel ${c}: ${bad} non-finite samples`);
  }
  for (const e of errors.slice(0, 3)) problems.push(`engine error: ${(e as Error)?.message ?? String(e)}`);
  const onsets = events.filter((e): e is Extract<EngineEvent, { type: 'note' }> => e.type === 'note').map((e) => e.time);
  const x = channels[0]!;
  const seconds = Math.floor(x.length / sampleRate);
  for (let s = 0; s < seconds; s++) {
    if (!onsets.some((t) => t >= s && t < s + 0.75)) continue; // a note with a quarter second left to sound
    const p = Math.max(...channels.map((ch) => peak(ch, s * sampleRate, (s + 1) * sampleRate)));
    if (!(p > 1e-4)) {
      problems.push(`second ${s}: notes started but the output peaked at ${(20 * Math.log10(p)).toFixed(1)} dBFS (silent)`);
      break;
    }
  }
  return problems;
}
