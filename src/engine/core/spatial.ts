/**
 * Where sound goes in a room: a patch's `output` section (how many channels,
 * laid out how) and the `position` of voices and buses, and the pure math of
 * equal-power panning across a layout. The audio graph that applies it is
 * audio/spatial.ts.
 *
 * Layouts, channel by channel (the order WAV files and sound cards use):
 * - `stereo`: L R.
 * - `quad`: FL FR BL BR, at −45°, 45°, −135°, 135°.
 * - `5.1`: FL FR C LFE BL BR; LFE gets nothing (it is no direction), the others
 *   sit at −30°, 30°, 0°, −110°, 110°.
 * - `ring`: N speakers in a circle, channel 1 in front (0°), then clockwise
 *   every 360/N degrees.
 * - `line`: N speakers along a path, channel 1 at 0, channel N at 1.
 * - `zones`: one channel per named zone, in order; positions name a zone (or
 *   move along them as along a line).
 *
 * Angles are degrees, 0 in front, clockwise (90 is right). A sound between two
 * speakers is panned across just those two with equal power: gains cos and sin
 * of the fraction of the way, so the summed power is 1 wherever it is.
 */
import { z } from 'zod';

export const LAYOUTS = ['stereo', 'quad', '5.1', 'ring', 'line', 'zones'] as const;
export type LayoutName = (typeof LAYOUTS)[number];

const SignalName = z.string().regex(/^[A-Za-z][A-Za-z0-9_-]*$/);

export const OutputSchema = z
  .strictObject({
    channels: z.number().int().min(1).max(32).optional().describe('Output channels (default: what the layout needs; ring and line: 8)'),
    layout: z.enum(LAYOUTS).default('stereo').describe('How the channels sit in the room'),
    zones: z.array(SignalName).min(1).max(32).optional().describe('layout "zones": the zone of each channel, in order'),
  })
  .superRefine((o, ctx) => {
    const fixed = FIXED_CHANNELS[o.layout];
    if (fixed !== undefined && o.channels !== undefined && o.channels !== fixed)
      ctx.addIssue({ code: 'custom', path: ['channels'], message: `layout "${o.layout}" has ${fixed} channels, not ${o.channels}` });
    if (o.layout === 'zones' && !o.zones) ctx.addIssue({ code: 'custom', path: ['zones'], message: 'layout "zones" needs zones: [name, …], one per channel' });
    if (o.layout === 'zones' && o.zones && o.channels !== undefined && o.channels !== o.zones.length)
      ctx.addIssue({ code: 'custom', path: ['channels'], message: `${o.zones.length} zones but ${o.channels} channels` });
    if (o.layout !== 'zones' && o.zones) ctx.addIssue({ code: 'custom', path: ['zones'], message: 'zones apply to layout "zones"' });
    if ((o.layout === 'ring' || o.layout === 'line') && o.channels !== undefined && o.channels < 2)
      ctx.addIssue({ code: 'custom', path: ['channels'], message: `a ${o.layout} needs at least 2 channels` });
  })
  .describe('Output channels and their layout in the room');
export type OutputSpec = z.output<typeof OutputSchema>;

const Place = z.number().describe('An angle in degrees (0 front, 90 right) or, on a line or zones, a place 0…1 along it');

export const PositionSchema = z
  .union([
    Place,
    z.strictObject({ speaker: z.number().int().min(1).max(32).describe('At this channel\'s speaker (1 = the first)') }),
    z.strictObject({ zone: SignalName.describe('In this zone (layout "zones")') }),
    z.strictObject({
      orbit: z.number().refine((s) => s !== 0 && Math.abs(s) >= 0.1 && Math.abs(s) <= 86400, { message: 'seconds per turn: 0.1…86400, negative to turn the other way' }).describe('Seconds per turn around a circle (negative: anticlockwise); on a line, there and back'),
      from: Place.default(0),
    }),
    z.strictObject({
      drift: z.number().min(1).max(86400).describe('Seconds over which the position wanders (a slow, smooth random walk)'),
      from: Place.default(0),
      width: z.number().min(0).max(360).default(90).describe('How far it wanders either side of `from` (degrees, or a fraction of a line)'),
    }),
    z.strictObject({
      follow: SignalName.describe('A signal (0…1) that places the sound'),
      range: z.tuple([z.number(), z.number()]).optional().describe('Where signal 0 and 1 put it (default: all the way round, or the whole line)'),
      glide: z.number().min(0).max(60).default(0).describe('Seconds to glide to a new place (0: at once)'),
    }),
  ])
  .describe('Where the sound is: fixed, mapped from a signal (follow), or moving (orbit, drift)');
export type PositionSpec = z.output<typeof PositionSchema>;

const FIXED_CHANNELS: Partial<Record<LayoutName, number>> = { stereo: 2, quad: 4, '5.1': 6 };

/** A layout resolved to speakers: angles (circle) or places (line), one per channel. */
export interface Layout {
  name: LayoutName;
  channels: number;
  kind: 'circle' | 'line';
  /** Per channel: its angle (circle) or place 0…1 (line); null: not a direction (5.1's LFE). */
  speakers: (number | null)[];
  zones?: string[];
}

export function resolveLayout(spec: OutputSpec | undefined): Layout {
  const name = spec?.layout ?? 'stereo';
  switch (name) {
    case 'stereo':
      return { name, channels: 2, kind: 'circle', speakers: [-30, 30] };
    case 'quad':
      return { name, channels: 4, kind: 'circle', speakers: [-45, 45, -135, 135] };
    case '5.1':
      return { name, channels: 6, kind: 'circle', speakers: [-30, 30, 0, null, -110, 110] };
    case 'ring': {
      const n = spec?.channels ?? 8;
      return { name, channels: n, kind: 'circle', speakers: Array.from({ length: n }, (_, i) => (i * 360) / n) };
    }
    case 'line':
    case 'zones': {
      // (zones without names are refused by the schema; here they get one zone per channel)
      const zones = name === 'zones' ? (spec?.zones ?? Array.from({ length: spec?.channels ?? 2 }, (_, i) => `zone${i + 1}`)) : undefined;
      const n = zones ? zones.length : (spec?.channels ?? 8);
      return { name, channels: n, kind: 'line', speakers: Array.from({ length: n }, (_, i) => (n === 1 ? 0.5 : i / (n - 1))), ...(zones && { zones }) };
    }
  }
}

/** Degrees into (−180, 180]. */
export function wrapAngle(a: number): number {
  const w = (((a + 180) % 360) + 360) % 360 - 180;
  return w === -180 ? 180 : w;
}

/**
 * Equal-power gains, one per channel, for a sound at `place` (degrees on a
 * circle, 0…1 on a line). Only the two speakers either side of it sound; at a
 * speaker, only that one.
 */
export function panGains(layout: Layout, place: number): number[] {
  const gains = new Array<number>(layout.channels).fill(0);
  const idx = layout.speakers.map((s, i) => ({ s, i })).filter((x): x is { s: number; i: number } => x.s !== null);
  if (idx.length === 1) {
    gains[idx[0]!.i] = 1;
    return gains;
  }
  if (layout.kind === 'line') {
    const p = Math.min(1, Math.max(0, place));
    const sorted = idx.sort((a, b) => a.s - b.s);
    let k = 0;
    while (k < sorted.length - 2 && p > sorted[k + 1]!.s) k++;
    const a = sorted[k]!;
    const b = sorted[k + 1]!;
    const f = Math.min(1, Math.max(0, (p - a.s) / (b.s - a.s)));
    gains[a.i] = Math.cos((f * Math.PI) / 2);
    gains[b.i] = Math.sin((f * Math.PI) / 2);
    return gains;
  }
  if (layout.name === 'stereo') {
    const pan = stereoPan(layout, place);
    gains[0] = Math.cos(((pan + 1) * Math.PI) / 4);
    gains[1] = Math.sin(((pan + 1) * Math.PI) / 4);
    return gains;
  }
  // A circle: the speakers in clockwise order from 0°, and the gap that holds the angle.
  const around = idx.map((x) => ({ ...x, a: (((x.s % 360) + 360) % 360) })).sort((p, q) => p.a - q.a);
  const t = (((place % 360) + 360) % 360);
  for (let k = 0; k < around.length; k++) {
    const a = around[k]!;
    const b = around[(k + 1) % around.length]!;
    const span = (((b.a - a.a) % 360) + 360) % 360 || 360;
    const off = (((t - a.a) % 360) + 360) % 360;
    if (off <= span) {
      const f = off / span;
      gains[a.i] = Math.cos((f * Math.PI) / 2);
      gains[b.i] = Math.sin((f * Math.PI) / 2);
      return gains;
    }
  }
  return gains;
}

/**
 * Where a place of this layout falls on a stereo pair, −1 (left) … 1 (right):
 * what a fold-down to two channels pans by. On a circle, by how far right of
 * the front-back axis it is (speakers at ±30° or wider are fully left/right);
 * on a line, from its start (left) to its end (right).
 */
export function stereoPan(layout: Layout, place: number): number {
  if (layout.kind === 'line') return 2 * Math.min(1, Math.max(0, place)) - 1;
  return Math.max(-1, Math.min(1, Math.sin((place * Math.PI) / 180) / Math.sin(Math.PI / 6)));
}

/** Equal-power stereo gains [L, R] for a place on `layout`: the fold-down of a sound there. */
export function foldDownGains(layout: Layout, place: number): [number, number] {
  const pan = stereoPan(layout, place);
  return [Math.cos(((pan + 1) * Math.PI) / 4), Math.sin(((pan + 1) * Math.PI) / 4)];
}

/** The place of a fixed position on a layout; undefined for a moving one. Errors are strings. */
export function fixedPlace(layout: Layout, p: PositionSpec): number | string | undefined {
  if (typeof p === 'number') return p;
  if ('speaker' in p) {
    const s = layout.speakers[p.speaker - 1];
    if (s === undefined) return `speaker ${p.speaker}: the ${layout.name} layout has ${layout.channels} channels`;
    if (s === null) return `speaker ${p.speaker} is the LFE channel, not a direction`;
    return s;
  }
  if ('zone' in p) {
    const i = layout.zones?.indexOf(p.zone) ?? -1;
    if (i < 0) return layout.zones ? `unknown zone "${p.zone}" (zones: ${layout.zones.join(', ')})` : `zone "${p.zone}": the output has no zones`;
    return layout.speakers[i]!;
  }
  return undefined;
}

/** Smooth pseudo-random motion in −1…1: three incommensurate sines with phases from a seed. */
function wander(t: number, period: number, seed: number): number {
  let h = seed >>> 0 || 1;
  const next = () => {
    h ^= h << 13;
    h ^= h >>> 17;
    h ^= h << 5;
    return (h >>> 0) / 4294967296;
  };
  const ratios = [1, 1.618034, 2.718282];
  let sum = 0;
  for (const r of ratios) sum += Math.sin((2 * Math.PI * r * t) / period + 2 * Math.PI * next()) / ratios.length;
  return sum;
}

/**
 * The place of a position at `time` seconds after the patch started, given the
 * signal it follows (0…1) for `follow`. Pure: the same time gives the same place.
 */
export function placeAt(layout: Layout, p: PositionSpec, time: number, signal = 0.5, seed = 1): number {
  const fixed = fixedPlace(layout, p);
  if (typeof fixed === 'number') return fixed;
  if (typeof fixed === 'string') return layout.kind === 'line' ? 0.5 : 0;
  if (typeof p === 'number') return p;
  if ('orbit' in p) {
    const turns = time / p.orbit;
    if (layout.kind === 'circle') return p.from + 360 * turns;
    // On a line: there and back, once per period.
    const u = (((turns + p.from / 2) % 1) + 1) % 1;
    return u < 0.5 ? 2 * u : 2 - 2 * u;
  }
  if ('drift' in p) {
    const w = wander(time, p.drift, seed);
    return layout.kind === 'circle' ? p.from + p.width * w : Math.min(1, Math.max(0, p.from + (p.width / 360) * w));
  }
  if ('follow' in p) {
    const [lo, hi] = p.range ?? (layout.kind === 'circle' ? [-180, 180] : [0, 1]);
    return lo + (hi - lo) * Math.min(1, Math.max(0, signal));
  }
  return 0;
}

/** True when a position changes over time (it is scheduled as it moves). */
export function isMoving(p: PositionSpec | undefined): boolean {
  return typeof p === 'object' && ('orbit' in p || 'drift' in p || 'follow' in p);
}

/**
 * How a layout plays on a device with `available` channels: as itself when it
 * has room, folded down to stereo (each sound panned by {@link stereoPan})
 * when not. `note` says what happened, for the host to print.
 */
export function outputPlan(layout: Layout, available: number): { channels: number; folded: boolean; note?: string } {
  if (available >= layout.channels) return { channels: layout.channels, folded: false };
  const to = Math.min(2, available);
  return {
    channels: to,
    folded: true,
    note: `the patch is made for ${layout.channels} channels (${layout.name}); this output has ${available}: folded down to ${to === 1 ? 'mono' : 'stereo'}`,
  };
}

/** Whether a patch places its voices and buses on a layout: it has an output section, or any of them a position. */
export function isPositioned(p: { output?: unknown; voices: Record<string, { position?: unknown }>; buses: Record<string, { position?: unknown }> }): boolean {
  return p.output !== undefined || [...Object.values(p.voices), ...Object.values(p.buses)].some((v) => v.position !== undefined);
}

/** The cross-references of positions (speaker, zone, followed signal), for the patch schema. */
export function checkPositions(
  p: { output?: OutputSpec; voices: Record<string, { position?: PositionSpec }>; buses: Record<string, { position?: PositionSpec }>; signals: Record<string, unknown> },
  err: (path: (string | number)[], message: string) => void,
): void {
  const layout = resolveLayout(p.output);
  for (const kind of ['voices', 'buses'] as const)
    for (const [name, v] of Object.entries(p[kind])) {
      if (v.position === undefined) continue;
      const fixed = fixedPlace(layout, v.position);
      if (typeof fixed === 'string') err([kind, name, 'position'], fixed);
      if (typeof v.position === 'object' && 'follow' in v.position && !Object.hasOwn(p.signals, v.position.follow))
        err([kind, name, 'position', 'follow'], `unknown signal "${v.position.follow}" (signals: ${Object.keys(p.signals).join(', ') || 'none'})`);
    }
}
