/**
 * Mapping targets: what a signal can drive, parsed from strings such as
 * `"pad.filter.frequency"`, `"hall.wet"`, `"master.volume"`, `"tempo"`, `"scene"`.
 * Pure; the schema uses it to validate, the engine to wire.
 */
import type { Curve } from './conditioning.ts';

/**
 * The one table of continuous parameters: for each, its unit, the default
 * range a mapping spans (`range`), and the limits a value is clamped to
 * wherever it is applied (`limits`: a mapping, OSC, OSCQuery's RANGE, MIDI, a
 * session command). A value outside `limits` is clamped, never refused.
 */
type ParamInfo = { unit: string; range: [number, number]; limits: [number, number]; curve: Curve };

/** Continuous parameters a voice exposes. */
export const VOICE_PARAMS = {
  volume: { unit: 'dB', range: [-40, 0], limits: [-80, 12], curve: 'lin' },
  pan: { unit: '-1..1', range: [-1, 1], limits: [-1, 1], curve: 'lin' },
  detune: { unit: 'cents', range: [-50, 50], limits: [-2400, 2400], curve: 'lin' },
  'filter.frequency': { unit: 'Hz', range: [200, 8000], limits: [20, 20000], curve: 'exp' },
  'filter.q': { unit: 'Q', range: [0.5, 8], limits: [0.1, 30], curve: 'lin' },
  density: { unit: '0..1', range: [0, 1], limits: [0, 1], curve: 'lin' },
  octave: { unit: 'octaves', range: [-1, 1], limits: [-3, 3], curve: 'lin' },
  velocity: { unit: '0..1', range: [0.2, 1], limits: [0, 1], curve: 'lin' },
  harmonicity: { unit: 'ratio', range: [0.5, 4], limits: [0.1, 20], curve: 'lin' },
  modulationIndex: { unit: 'index', range: [1, 20], limits: [0, 100], curve: 'lin' },
} as const satisfies Record<string, ParamInfo>;
export type VoiceParam = keyof typeof VOICE_PARAMS;

/** Continuous parameters a bus exposes. */
export const BUS_PARAMS = {
  wet: { unit: '0..1', range: [0, 1], limits: [0, 1], curve: 'lin' },
  feedback: { unit: '0..1', range: [0, 0.85], limits: [0, 0.95], curve: 'lin' },
} as const satisfies Record<string, ParamInfo>;
export type BusParam = keyof typeof BUS_PARAMS;

/** Global continuous parameters. */
export const GLOBAL_PARAMS = {
  'master.volume': { unit: 'dB', range: [-30, 0], limits: [-60, 12], curve: 'lin' },
  tempo: { unit: 'BPM', range: [60, 140], limits: [20, 300], curve: 'lin' },
} as const satisfies Record<string, ParamInfo>;

/** A voice's send level to a bus. */
export const SEND_PARAM = { unit: '0..1', range: [0, 1], limits: [0, 1], curve: 'lin' } as const satisfies ParamInfo;

/** Clamps a value to a parameter's limits. */
export function clampTo(info: { readonly limits: readonly [number, number] }, value: number): number {
  return Math.min(info.limits[1], Math.max(info.limits[0], value));
}

/** A resolved mapping target. */
export type Target =
  | { kind: 'voice'; voice: string; param: VoiceParam }
  | { kind: 'send'; voice: string; bus: string }
  | { kind: 'trigger'; voice: string }
  | { kind: 'bus'; bus: string; param: BusParam }
  | { kind: 'master' }
  | { kind: 'tempo' }
  | { kind: 'mode' }
  | { kind: 'scene' };

/** Names a patch may not use for voices or buses, because targets use them. */
export const RESERVED_NAMES = ['master', 'tempo', 'key', 'scene'];

/**
 * Parses a target string against the patch's voice and bus names.
 * Returns the target, or an error sentence saying what was expected.
 */
export function parseTarget(text: string, voices: readonly string[], buses: readonly string[]): Target | string {
  if (text === 'master.volume') return { kind: 'master' };
  if (text === 'tempo') return { kind: 'tempo' };
  if (text === 'key.mode') return { kind: 'mode' };
  if (text === 'scene') return { kind: 'scene' };
  const dot = text.indexOf('.');
  const head = dot < 0 ? text : text.slice(0, dot);
  const rest = dot < 0 ? '' : text.slice(dot + 1);
  if (voices.includes(head)) {
    if (rest === 'trigger') return { kind: 'trigger', voice: head };
    if (rest.startsWith('send.')) {
      const bus = rest.slice(5);
      if (!buses.includes(bus)) return `"${text}" sends to unknown bus "${bus}" (buses: ${list(buses)})`;
      return { kind: 'send', voice: head, bus };
    }
    if (Object.hasOwn(VOICE_PARAMS, rest)) return { kind: 'voice', voice: head, param: rest as VoiceParam };
    return `"${text}": voice "${head}" has no parameter "${rest}" (expected one of ${list([...Object.keys(VOICE_PARAMS), 'send.<bus>', 'trigger'])})`;
  }
  if (buses.includes(head)) {
    if (Object.hasOwn(BUS_PARAMS, rest)) return { kind: 'bus', bus: head, param: rest as BusParam };
    return `"${text}": bus "${head}" has no parameter "${rest}" (expected one of ${list(Object.keys(BUS_PARAMS))})`;
  }
  return `"${text}" names no voice, bus or global target (voices: ${list(voices)}; buses: ${list(buses)}; globals: master.volume, tempo, key.mode, scene)`;
}

/** The table entry of a continuous target (unit, default mapping range, limits, curve). */
export function targetInfo(t: Target): ParamInfo | undefined {
  const d =
    t.kind === 'voice'
      ? VOICE_PARAMS[t.param]
      : t.kind === 'bus'
        ? BUS_PARAMS[t.param]
        : t.kind === 'send'
          ? SEND_PARAM
          : t.kind === 'master'
            ? GLOBAL_PARAMS['master.volume']
            : t.kind === 'tempo'
              ? GLOBAL_PARAMS.tempo
              : undefined;
  return d ? { unit: d.unit, range: [d.range[0], d.range[1]], limits: [d.limits[0], d.limits[1]], curve: d.curve } : undefined;
}

/** Default range, curve and unit for a continuous target. */
export function targetDefaults(t: Target): { range: [number, number]; curve: Curve; unit: string } | undefined {
  const d = targetInfo(t);
  return d ? { range: d.range, curve: d.curve, unit: d.unit } : undefined;
}

/** The canonical string of a target, for display and OSC addresses. */
export function targetName(t: Target): string {
  switch (t.kind) {
    case 'voice':
      return `${t.voice}.${t.param}`;
    case 'send':
      return `${t.voice}.send.${t.bus}`;
    case 'trigger':
      return `${t.voice}.trigger`;
    case 'bus':
      return `${t.bus}.${t.param}`;
    case 'master':
      return 'master.volume';
    case 'tempo':
      return 'tempo';
    case 'mode':
      return 'key.mode';
    case 'scene':
      return 'scene';
  }
}

function list(names: readonly string[]): string {
  return names.length ? names.join(', ') : 'none';
}
