/**
 * What a patch sends over OSC to a rig (a lighting desk, TouchDesigner,
 * Resolume, QLC+): signal and stream values at a set rate (when they change,
 * and once a second regardless), notes, beats, bars, scene changes, threshold
 * crossings and mute/panic, each on the address the patch names, with values
 * mapped into the range the receiver wants. Pure: produces timed messages; the
 * Node bridge sends them (in real time) and `render --osc-log` writes them.
 */
import type { OscArg, OscMessage } from './osc/codec.ts';
import { methodAddressProblem } from './osc/pattern.ts';

export type OscOutSource =
  | { kind: 'signal'; name: string }
  | { kind: 'stream'; name: string }
  | { kind: 'note'; voice?: string }
  | { kind: 'beat' }
  | { kind: 'bar' }
  | { kind: 'scene' }
  | { kind: 'threshold'; signal: string }
  | { kind: 'mute' };

/** Parses `signal:NAME`, `stream:NAME`, `note[:VOICE]`, `beat`, `bar`, `scene`, `threshold:SIGNAL`, `mute`. */
export function parseOscOutSource(text: string): OscOutSource | string {
  const [kind, name, ...rest] = text.split(':');
  const bad = `"${text}": expected signal:NAME, stream:NAME, note[:VOICE], beat, bar, scene, threshold:SIGNAL or mute`;
  if (rest.length) return bad;
  switch (kind) {
    case 'signal':
    case 'stream':
    case 'threshold':
      if (!name) return `"${text}": name the ${kind === 'threshold' ? 'signal' : kind}, like ${kind}:warmth`;
      return kind === 'threshold' ? { kind, signal: name } : { kind, name };
    case 'note':
      return name ? { kind, voice: name } : { kind };
    case 'beat':
    case 'bar':
    case 'scene':
    case 'mute':
      return name ? `"${text}": ${kind} takes no name` : { kind };
    default:
      return bad;
  }
}

/** Checks an OSC address for sending: a valid method address (no wildcards). */
export function oscAddressProblem(address: string): string | undefined {
  return methodAddressProblem(address);
}

export interface OscOutSpec {
  address: string;
  from: OscOutSource;
  /** Continuous values: the output for 0 and 1 (signals) or the raw value passes (streams, when absent). Notes: velocity range. */
  range?: [number, number];
  /** Send integers ('i') instead of floats. */
  int: boolean;
}

export interface TimedOscMessage {
  /** Engine time the message belongs to. */
  time: number;
  message: OscMessage;
}

/** Engine events the plan reacts to (a structural subset of the engine's). */
export type OscOutEvent =
  | { type: 'note'; voice: string; notes: number[]; velocity: number; duration: number; time: number }
  | { type: 'beat'; beat: number; bar: number; tempo: number; time: number }
  | { type: 'scene'; scene: string; time: number }
  | { type: 'threshold'; signal: string; state: 'on' | 'off'; time: number }
  | { type: 'mute'; muted: boolean; panic: boolean; time: number };

/** Seconds after which an unchanged continuous value is sent again. */
export const REFRESH_SECONDS = 1;

export class OscOutPlan {
  private readonly last = new Map<OscOutSpec, { value: number; time: number }>();

  constructor(readonly specs: readonly OscOutSpec[]) {}

  private num(spec: OscOutSpec, x: number): OscArg {
    return spec.int ? { type: 'i', value: Math.round(x) | 0 } : { type: 'f', value: x };
  }

  /** Continuous values at `time` that changed (or are due a refresh). */
  sample(time: number, values: { signals: Readonly<Record<string, number>>; streams: Readonly<Record<string, number>> }): TimedOscMessage[] {
    const out: TimedOscMessage[] = [];
    for (const spec of this.specs) {
      const f = spec.from;
      if (f.kind !== 'signal' && f.kind !== 'stream') continue;
      const raw = f.kind === 'signal' ? values.signals[f.name] : values.streams[f.name];
      if (typeof raw !== 'number' || !Number.isFinite(raw)) continue;
      const x = f.kind === 'signal' && spec.range ? spec.range[0] + (spec.range[1] - spec.range[0]) * raw : raw;
      const prev = this.last.get(spec);
      const changed = !prev || (spec.int ? Math.round(prev.value) !== Math.round(x) : Math.abs(prev.value - x) > 1e-6);
      if (!changed && time - prev!.time < REFRESH_SECONDS) continue;
      this.last.set(spec, { value: x, time });
      out.push({ time, message: { address: spec.address, args: [this.num(spec, x)] } });
    }
    return out;
  }

  /** Messages an engine event causes. */
  event(e: OscOutEvent): TimedOscMessage[] {
    const out: TimedOscMessage[] = [];
    for (const spec of this.specs) {
      const f = spec.from;
      const send = (args: OscArg[]) => out.push({ time: e.time, message: { address: spec.address, args } });
      if (f.kind === 'note' && e.type === 'note' && (f.voice === undefined || f.voice === e.voice)) {
        const vel = spec.range ? spec.range[0] + (spec.range[1] - spec.range[0]) * e.velocity : e.velocity;
        for (const n of e.notes) send([{ type: 'i', value: n }, this.num(spec, vel), { type: 'f', value: e.duration }, ...(f.voice ? [] : [{ type: 's' as const, value: e.voice }])]);
      } else if (f.kind === 'beat' && e.type === 'beat') send([{ type: 'i', value: e.beat }, { type: 'i', value: e.bar }, { type: 'f', value: e.tempo }]);
      else if (f.kind === 'bar' && e.type === 'beat' && e.beat % 4 === 0) send([{ type: 'i', value: e.bar }]);
      else if (f.kind === 'scene' && e.type === 'scene') send([{ type: 's', value: e.scene }]);
      else if (f.kind === 'threshold' && e.type === 'threshold' && e.signal === f.signal) send([{ type: 'i', value: e.state === 'on' ? 1 : 0 }]);
      else if (f.kind === 'mute' && e.type === 'mute') send([{ type: 'i', value: e.muted ? 1 : 0 }, { type: 'i', value: e.panic ? 1 : 0 }]);
    }
    return out;
  }
}

/** One line of `render --osc-log`: `{"time":1.25,"address":"/eco/warmth","types":"f","args":[0.5]}`. */
export function oscLogLine(m: TimedOscMessage): string {
  const types = m.message.args.map((a) => a.type).join('');
  const args = m.message.args.map((a) => (typeof a.value === 'bigint' ? Number(a.value) : a.value));
  return JSON.stringify({ time: Number(m.time.toFixed(6)), address: m.message.address, types, args });
}
