/**
 * A patch's `midi` section made ready to play: checked against the patch
 * (voices, streams, signals, scenes, targets), with the ports given on the
 * command line and the bindings learned for this patch (its `.midi.json`
 * sidecar) merged in. Pure; channels here are 0–15.
 *
 * Problems (an unknown voice, a target that does not parse…) drop the entry
 * they are in and come back as sentences for the host to print: a typo in the
 * MIDI section must not keep the music from playing.
 */
import { z } from 'zod';
import { MidiControl, type Patch } from '../patchSchema.ts';
import { parseTarget } from '../targets.ts';
import type { MidiMessage } from './parser.ts';

export type MidiSpec = NonNullable<Patch['midi']>;
/** One control binding as written (channels 1–16). */
export type ControlBinding = z.output<typeof MidiControl>;

/** The MIDI setup of a playing patch. */
export interface MidiSetup {
  input?: string;
  output?: string;
  /** Incoming notes → voices; `channel` undefined = any channel. */
  play: Array<{ voice: string; channel?: number }>;
  /** Generated notes out: voice → channel. */
  channels: Map<string, number>;
  controls: ControlBinding[];
  send: Array<{ from: string; cc: number; channel: number; bits: 7 | 14 }>;
  clock: { in: boolean; out: boolean };
  /** Program (0–127, as sent) → scene. */
  programs: Map<number, string>;
}

/** An empty `midi` section (for patches without one, played with --midi-in/--midi-out). */
const EMPTY: MidiSpec = { controls: [], send: [], clock: { in: false, out: false } };

/** True when both bindings listen to the same controller (or bend) on the same channel. */
export function sameSource(a: ControlBinding, b: ControlBinding): boolean {
  return (a.bend === true ? b.bend === true : a.cc === b.cc) && a.channel === b.channel;
}

/** True when both bindings feed the same stream or drive the same target. */
export function sameDestination(a: ControlBinding, b: ControlBinding): boolean {
  return a.stream !== undefined ? a.stream === b.stream : a.to === b.to;
}

/** `learned` replaces whatever in `base` listens to the same control or drives the same thing. */
export function mergeBindings(base: readonly ControlBinding[], learned: readonly ControlBinding[]): ControlBinding[] {
  let out = [...base];
  for (const l of learned) out = [...out.filter((b) => !sameSource(b, l) && !sameDestination(b, l)), l];
  return out;
}

/** Resolves a patch's MIDI section with port overrides and learned bindings. */
export function resolveMidi(
  patch: Patch,
  overrides: { input?: string; output?: string } = {},
  learned: readonly ControlBinding[] = [],
): { setup: MidiSetup; problems: string[] } {
  const spec = patch.midi ?? EMPTY;
  const problems: string[] = [];
  const voices = Object.keys(patch.voices);
  const buses = Object.keys(patch.buses);
  const scenes = Object.keys(patch.scenes);
  const list = (xs: string[]) => xs.join(', ') || 'none';

  const play: MidiSetup['play'] = [];
  if (spec.play) {
    for (const [voice, ch] of Object.entries(spec.play)) {
      if (!voices.includes(voice)) problems.push(`midi.play.${voice}: unknown voice (voices: ${list(voices)})`);
      else play.push(ch === 'all' ? { voice } : { voice, channel: ch - 1 });
    }
  } else if (voices[0]) play.push({ voice: voices[0] });

  const channels = new Map<string, number>();
  if (spec.channels) {
    for (const [voice, ch] of Object.entries(spec.channels)) {
      if (!voices.includes(voice)) problems.push(`midi.channels.${voice}: unknown voice (voices: ${list(voices)})`);
      else channels.set(voice, ch - 1);
    }
  } else voices.slice(0, 16).forEach((v, i) => channels.set(v, i));

  const controls: ControlBinding[] = [];
  const all = mergeBindings(spec.controls, learned);
  all.forEach((c) => {
    const where = learned.includes(c) ? `learned binding (${describeSource(c)})` : `midi.controls[${spec.controls.indexOf(c)}]`;
    if (c.stream !== undefined) {
      if (!Object.hasOwn(patch.streams, c.stream)) return problems.push(`${where}: unknown stream "${c.stream}" (streams: ${list(Object.keys(patch.streams))})`);
    } else {
      const t = parseTarget(c.to ?? '', voices, buses);
      if (typeof t === 'string') return problems.push(`${where}: ${t}`);
      if (t.kind === 'scene' && scenes.length === 0) return problems.push(`${where}: "scene": the patch has no scenes`);
    }
    controls.push(c);
  });

  const send: MidiSetup['send'] = [];
  spec.send.forEach((s, i) => {
    if (!Object.hasOwn(patch.signals, s.from)) problems.push(`midi.send[${i}].from: unknown signal "${s.from}" (signals: ${list(Object.keys(patch.signals))})`);
    else send.push({ from: s.from, cc: s.cc, channel: s.channel - 1, bits: s.bits });
  });

  const programs = new Map<number, string>();
  if (spec.programs) {
    for (const [num, scene] of Object.entries(spec.programs)) {
      if (!scenes.includes(scene)) problems.push(`midi.programs.${num}: unknown scene "${scene}" (scenes: ${list(scenes)})`);
      else programs.set(Number(num) - 1, scene);
    }
  } else scenes.slice(0, 128).forEach((s, i) => programs.set(i, s));

  return {
    setup: {
      input: overrides.input ?? spec.input,
      output: overrides.output ?? spec.output,
      play,
      channels,
      controls,
      send,
      clock: { ...spec.clock },
      programs,
    },
    problems,
  };
}

/** "CC 74 on channel 2", "14-bit CC 1 on any channel", "pitch bend on channel 1". */
export function describeSource(c: ControlBinding): string {
  const what = c.bend ? 'pitch bend' : `${c.bits === 14 ? '14-bit ' : ''}CC ${c.cc}`;
  return `${what} on ${c.channel === undefined ? 'any channel' : `channel ${c.channel}`}`;
}

/** "stream wind", "pad.filter.frequency". */
export function describeDestination(c: ControlBinding): string {
  return c.stream !== undefined ? `stream ${c.stream}` : c.to!;
}

// ---------------------------------------------------------------- sidecar

/** The bindings learned for one patch, kept beside it as `<patch>.midi.json`. */
export const Sidecar = z.strictObject({
  version: z.literal(1),
  controls: z.array(MidiControl),
});

/** Reads a sidecar's text; returns the bindings or an error sentence. */
export function parseSidecar(text: string): ControlBinding[] | string {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    return `not JSON (${(e as Error).message})`;
  }
  const r = Sidecar.safeParse(data);
  if (!r.success) return r.error.issues.map((i) => `${i.path.join('.') || '(top)'}: ${i.message}`).join('; ');
  return r.data.controls;
}

/** A sidecar's text (stable, readable). */
export function sidecarText(controls: readonly ControlBinding[]): string {
  return JSON.stringify({ version: 1, controls }, null, 2) + '\n';
}

// ---------------------------------------------------------------- learn

/** What a learn session binds the next moved control to. */
export type LearnDestination = { to: string } | { stream: string };

/** Controllers never learned: NRPN/RPN selectors and channel mode messages. */
const NOT_LEARNABLE = new Set([98, 99, 100, 101, 120, 121, 122, 123, 124, 125, 126, 127]);

/**
 * MIDI learn: fed incoming messages, it names the first controller (or pitch
 * bend) that really moves: two different values from it. One stray message
 * (a device announcing its knobs on connect) does not bind. A controller 0–31
 * whose LSB (n + 32) follows it message for message binds as a 14-bit pair,
 * whichever of the two moved first.
 */
export class LearnSession {
  private readonly seen = new Map<string, Set<number>>();
  private readonly paired = new Set<string>();
  private lastCc: { channel: number; controller: number } | undefined;

  constructor(readonly destination: LearnDestination) {}

  /** Returns the binding once decided. */
  push(m: MidiMessage): ControlBinding | undefined {
    if (m.type === 'pitchBend') {
      this.lastCc = undefined;
      if (this.moved(`b${m.channel}`, m.value)) return this.binding({ bend: true, channel: m.channel + 1, bits: 7 });
      return undefined;
    }
    if (m.type !== 'cc' || NOT_LEARNABLE.has(m.controller)) return undefined;
    const { channel, controller } = m;
    if (controller >= 32 && controller < 64 && this.lastCc?.channel === channel && this.lastCc.controller === controller - 32)
      this.paired.add(`${channel}:${controller - 32}`);
    this.lastCc = { channel, controller };
    if (!this.moved(`c${channel}:${controller}`, m.value)) return undefined;
    const msb = controller < 64 ? controller & 31 : controller;
    if (controller < 64 && this.paired.has(`${channel}:${msb}`)) return this.binding({ cc: msb, channel: channel + 1, bits: 14 });
    return this.binding({ cc: controller, channel: channel + 1, bits: 7 });
  }

  private moved(key: string, value: number): boolean {
    let values = this.seen.get(key);
    if (!values) this.seen.set(key, (values = new Set()));
    values.add(value);
    return values.size >= 2;
  }

  private binding(source: { cc?: number; bend?: true; channel: number; bits: 7 | 14 }): ControlBinding {
    const b: ControlBinding = { ...source } as ControlBinding;
    if ('to' in this.destination) b.to = this.destination.to;
    else b.stream = this.destination.stream;
    return b;
  }
}
