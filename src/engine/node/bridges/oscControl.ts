/**
 * OSC control in: the address space a performer (TouchOSC, Open Stage Control,
 * a lighting desk, a script) uses to play the engine. Every address is listed
 * by {@link controlAddresses} (and served by OSCQuery); incoming address
 * patterns (`/eco/voice/*\/volume`) match them without regular expressions.
 *
 *   /eco/voice/<voice>/<param> f      volume dB, pan, detune, filter/frequency Hz, filter/q,
 *                                     density, octave, velocity, harmonicity, modulationIndex
 *   /eco/voice/<voice>/send/<bus> f   send level 0…1
 *   /eco/voice/<voice>/trigger [f]    a one-shot (velocity 0…1)
 *   /eco/bus/<bus>/<param> f          wet, feedback
 *   /eco/master/volume f              dB
 *   /eco/tempo f                      BPM
 *   /eco/scene s|i                    a scene by name or index
 *   /eco/scene/<name>                 that scene
 *   /eco/mute i                       1 mutes, 0 unmutes
 *   /eco/panic                        silence now (and blackout, all notes off)
 *   /eco/stream/<stream> f|s          injects a value into a stream
 *
 * A message in a bundle takes effect at its timetag (bounded to now…+60 s);
 * others at once. Wrong arguments are counted with what was wrong, never thrown.
 */
import type { Engine } from '../../audio/Engine.ts';
import type { OscMessage } from '../../core/osc/codec.ts';
import { OscAddressSpace } from '../../core/osc/pattern.ts';
import type { Patch } from '../../core/patchSchema.ts';
import { BUS_PARAMS, VOICE_PARAMS } from '../../core/targets.ts';
import { clockFor } from '../clock.ts';
import type { OscReceived } from '../osc/udp.ts';
import { acquireOscPort, type OscPortLease } from '../osc/ports.ts';
import { oscArgValue } from '../sources/osc.ts';

export interface ControlAddress {
  address: string;
  /** OSC type tags of the arguments ('' = none). */
  types: '' | 'f' | 'i' | 's';
  description: string;
  range?: readonly [number, number];
  /** Mapping target for setParameter, when the address sets one. */
  target?: string;
  /** Other actions. */
  action?: 'scene' | 'scene-named' | 'mute' | 'panic' | 'stream';
  name?: string;
}

/** The control address space of a patch. */
export function controlAddresses(patch: Patch): ControlAddress[] {
  const out: ControlAddress[] = [];
  for (const v of Object.keys(patch.voices)) {
    for (const [param, info] of Object.entries(VOICE_PARAMS))
      out.push({ address: `/eco/voice/${v}/${param.replace('.', '/')}`, types: 'f', description: `${v} ${param} (${info.unit})`, range: info.range, target: `${v}.${param}` });
    for (const bus of Object.keys(patch.buses))
      out.push({ address: `/eco/voice/${v}/send/${bus}`, types: 'f', description: `${v} send to ${bus} (0…1)`, range: [0, 1], target: `${v}.send.${bus}` });
    out.push({ address: `/eco/voice/${v}/trigger`, types: 'f', description: `${v}: play a one-shot (velocity 0…1)`, range: [0, 1], target: `${v}.trigger` });
  }
  for (const b of Object.keys(patch.buses))
    for (const [param, info] of Object.entries(BUS_PARAMS))
      out.push({ address: `/eco/bus/${b}/${param}`, types: 'f', description: `${b} ${param} (${info.unit})`, range: info.range, target: `${b}.${param}` });
  out.push({ address: '/eco/master/volume', types: 'f', description: 'Master level (dB)', range: [-60, 12], target: 'master.volume' });
  out.push({ address: '/eco/tempo', types: 'f', description: 'Tempo (BPM)', range: [20, 300], target: 'tempo' });
  out.push({ address: '/eco/scene', types: 's', description: `Scene by name or index (${Object.keys(patch.scenes).join(', ') || 'none'})`, action: 'scene' });
  for (const s of Object.keys(patch.scenes)) out.push({ address: `/eco/scene/${s}`, types: '', description: `Switch to scene ${s}`, action: 'scene-named', name: s });
  out.push({ address: '/eco/mute', types: 'i', description: '1 mutes the output, 0 unmutes', range: [0, 1], action: 'mute' });
  out.push({ address: '/eco/panic', types: '', description: 'Silence now: mute, all notes off, lights black', action: 'panic' });
  for (const s of Object.keys(patch.streams))
    out.push({ address: `/eco/stream/${s}`, types: 'f', description: `Inject a value into stream ${s}${patch.streams[s]!.unit ? ` (${patch.streams[s]!.unit})` : ''}`, action: 'stream', name: s });
  return out;
}

/** Furthest ahead a bundled control may be scheduled, seconds. */
const MAX_AHEAD = 60;

export class OscControl {
  readonly stats = { applied: 0, rejected: 0, unmatched: 0, lastError: '' };
  private space = new OscAddressSpace<OscReceived>();
  private builtFor: Patch | undefined;
  private lease: OscPortLease | undefined;
  private unlisten: (() => void) | undefined;

  constructor(
    private readonly engine: Engine,
    /** Stream injection goes here (default: straight to the engine). */
    private readonly inject: (stream: string, value: number | string) => void = (s, v) => void engine.update(s, v),
  ) {}

  /** Listens on a UDP port (shared with OSC data sources on the same port). */
  async listen(host: string, port: number): Promise<number> {
    this.lease = acquireOscPort(host, port);
    this.unlisten = this.lease.port.onMessage((r) => this.handle(r));
    const bound = await this.lease.ready;
    return bound.port;
  }

  /** The address space now (rebuilt when the playing patch changes). */
  addresses(): ControlAddress[] {
    return this.engine.patch ? controlAddresses(this.engine.patch) : [];
  }

  private rebuild(): void {
    const patch = this.engine.patch;
    if (patch === this.builtFor) return;
    this.builtFor = patch;
    this.space = new OscAddressSpace<OscReceived>();
    if (!patch) return;
    for (const a of controlAddresses(patch)) this.space.add(a.address, (msg, r) => this.apply(a, msg, r));
  }

  /** Handles one received message (also called directly by tests and the OSCQuery WebSocket). */
  handle(r: OscReceived): void {
    try {
      this.rebuild();
      if (this.space.dispatch(r.message, r) === 0 && r.message.address.startsWith('/eco/')) this.stats.unmatched++;
    } catch (e) {
      this.reject(r.message, (e as Error)?.message ?? String(e));
    }
  }

  private reject(msg: OscMessage, why: string): void {
    this.stats.rejected++;
    this.stats.lastError = `${msg.address}: ${why}`;
  }

  private when(r: OscReceived): number {
    const clock = clockFor(this.engine.context);
    const now = clock.now();
    if (r.time === undefined) return now;
    return Math.min(now + MAX_AHEAD, Math.max(now, clock.fromEpoch(r.time)));
  }

  private apply(a: ControlAddress, msg: OscMessage, r: OscReceived): void {
    const arg = oscArgValue(msg.args[0]);
    const time = this.when(r);
    if (a.target !== undefined) {
      const value = a.target.endsWith('.trigger') ? (typeof arg === 'number' ? arg : 0.9) : arg;
      if (typeof value !== 'number') return this.reject(msg, `expected a number (${a.types}), got ${msg.args[0]?.type ?? 'nothing'}`);
      const err = this.engine.setParameter(a.target, value, time);
      if (err) return this.reject(msg, err);
    } else if (a.action === 'scene') {
      const names = Object.keys(this.engine.patch?.scenes ?? {});
      const name = typeof arg === 'number' ? names[Math.round(arg)] : arg;
      if (name === undefined || !names.includes(name)) return this.reject(msg, `no scene ${JSON.stringify(arg ?? null)} (scenes: ${names.join(', ') || 'none'})`);
      this.engine.setScene(name, time);
    } else if (a.action === 'scene-named') this.engine.setScene(a.name!, time);
    else if (a.action === 'mute') {
      if (typeof arg !== 'number') return this.reject(msg, 'expected 1 (mute) or 0 (unmute)');
      this.engine.setMuted(arg !== 0, time);
    } else if (a.action === 'panic') this.engine.panic();
    else if (a.action === 'stream') {
      if (arg === undefined) return this.reject(msg, 'expected a value');
      this.inject(a.name!, arg);
    }
    this.stats.applied++;
  }

  async close(): Promise<void> {
    this.unlisten?.();
    await this.lease?.release();
  }
}
