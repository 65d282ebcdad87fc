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
 *   /eco/voice|bus/<name>/position f  where it is (degrees, or 0…1 on a line); set only a fixed one
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
 * Senders outside the allow-list are dropped and counted. Dispatch is bounded:
 * a packet's patterns may fan out to at most `maxPerPacket` matches, the engine
 * takes at most `maxPerSecond` changes (the latest per address waits for the
 * next second), and within a packet the last value per address and time wins;
 * excess is counted, so a flood never delays the scheduler.
 */
import type { Engine } from '../../audio/Engine.ts';
import type { OscMessage } from '../../core/osc/codec.ts';
import { OscAddressSpace } from '../../core/osc/pattern.ts';
import type { Patch } from '../../core/patchSchema.ts';
import { BUS_PARAMS, GLOBAL_PARAMS, SEND_PARAM, VOICE_PARAMS } from '../../core/targets.ts';
import { clockFor } from '../clock.ts';
import type { OscReceived } from '../osc/udp.ts';
import { acquireOscPort, type OscPortLease } from '../osc/ports.ts';
import { oscArgValue } from '../sources/osc.ts';
import { AllowList } from '../../core/osc/allow.ts';
import { fixedPlace, isPositioned, resolveLayout } from '../../core/spatial.ts';

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
  /** OSCQuery ACCESS, where it is not the default for its kind (1 read only, 3 read and write). */
  access?: 1 | 3;
}

/** The control address space of a patch. */
export function controlAddresses(patch: Patch): ControlAddress[] {
  const out: ControlAddress[] = [];
  for (const v of Object.keys(patch.voices)) {
    for (const [param, info] of Object.entries(VOICE_PARAMS))
      out.push({ address: `/eco/voice/${v}/${param.replace('.', '/')}`, types: 'f', description: `${v} ${param} (${info.unit})`, range: info.limits, target: `${v}.${param}` });
    for (const bus of Object.keys(patch.buses))
      out.push({ address: `/eco/voice/${v}/send/${bus}`, types: 'f', description: `${v} send to ${bus} (0…1)`, range: SEND_PARAM.limits, target: `${v}.send.${bus}` });
    out.push({ address: `/eco/voice/${v}/trigger`, types: 'f', description: `${v}: play a one-shot (velocity 0…1)`, range: [0, 1], target: `${v}.trigger` });
  }
  for (const b of Object.keys(patch.buses))
    for (const [param, info] of Object.entries(BUS_PARAMS))
      out.push({ address: `/eco/bus/${b}/${param}`, types: 'f', description: `${b} ${param} (${info.unit})`, range: info.limits, target: `${b}.${param}` });
  // Positions (a patch with an output section or any position): read, and set where fixed.
  if (isPositioned(patch)) {
    const layout = resolveLayout(patch.output);
    const unit = layout.kind === 'line' ? '0…1 along the line' : 'degrees, 0 front, 90 right';
    const range = layout.kind === 'line' ? ([0, 1] as const) : ([-180, 360] as const);
    for (const [kind, specs] of [['voice', patch.voices], ['bus', patch.buses]] as const)
      for (const [name, spec] of Object.entries(specs)) {
        const fixed = typeof fixedPlace(layout, spec.position ?? 0) === 'number';
        out.push({
          address: `/eco/${kind}/${name}/position`,
          types: 'f',
          description: `${name}: where it is on the ${layout.name} layout (${unit})${fixed ? '' : '; it moves by itself: read only'}`,
          range,
          target: `${name}.position`,
          access: fixed ? 3 : 1,
        });
      }
  }
  out.push({ address: '/eco/master/volume', types: 'f', description: 'Master level (dB)', range: GLOBAL_PARAMS['master.volume'].limits, target: 'master.volume' });
  out.push({ address: '/eco/tempo', types: 'f', description: 'Tempo (BPM)', range: GLOBAL_PARAMS.tempo.limits, target: 'tempo' });
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

export interface OscControlOptions {
  /**
   * Senders accepted: IP addresses or CIDR ranges (patch `osc.in.allow`,
   * `--osc-allow`). Messages from others are dropped and counted in
   * `stats.foreign`. Undefined: every sender that can reach the socket.
   */
  allow?: readonly string[];
  /**
   * Most address-space matches one packet's messages may fan out to (a bundle
   * of 1,000 `/eco/voice/*\/volume` is 1,000 × voices). Messages past it are
   * dropped and counted in `stats.dropped`. Default 1024.
   */
  maxPerPacket?: number;
  /**
   * Most engine changes per second (after coalescing). Past it, the latest
   * control per address waits for the next second; those it replaces are
   * dropped and counted. Default 2000.
   */
  maxPerSecond?: number;
  /** Clock for the per-second budget, milliseconds. Default performance.now. */
  now?: () => number;
}

/** One control a packet asked for, waiting for the end of the packet. */
interface Pending {
  a: ControlAddress;
  msg: OscMessage;
  r: OscReceived;
}

export class OscControl {
  /**
   * applied: engine changes made; rejected: wrong arguments; unmatched: /eco/
   * addresses that name nothing; foreign: messages from senders outside the
   * allow-list; dropped: matches over the per-packet budget, and controls
   * over the per-second budget replaced before their turn came;
   * coalesced: changes superseded by a later message to the same address and
   * time in the same packet.
   */
  readonly stats = { applied: 0, rejected: 0, unmatched: 0, foreign: 0, dropped: 0, coalesced: 0, lastError: '' };
  private space = new OscAddressSpace<OscReceived>();
  private byAddress = new Map<string, ControlAddress>();
  private builtFor: Patch | undefined;
  private lease: OscPortLease | undefined;
  private unlisten: (() => void) | undefined;
  private readonly allow: AllowList | undefined;
  private readonly maxPerPacket: number;
  private readonly maxPerSecond: number;
  private readonly now: () => number;
  /** The packet being received: its controls by address and time (streams keep every value), and its fan-out so far. */
  private batch = new Map<string, Pending>();
  private batchSeq = 0;
  private fanOut = 0;
  private flushQueued = false;
  private windowStart = -Infinity;
  private windowCount = 0;
  /** Controls over the per-second budget, the latest per address, applied in the next second. */
  private readonly deferred = new Map<string, Pending>();
  private deferTimer: NodeJS.Timeout | undefined;
  /** Where the socket is bound, once listening. */
  bound: { address: string; port: number } | undefined;

  constructor(
    private readonly engine: Engine,
    /** Stream injection goes here (default: straight to the engine). */
    private readonly inject: (stream: string, value: number | string) => void = (s, v) => void engine.update(s, v),
    options: OscControlOptions = {},
  ) {
    this.allow = options.allow?.length ? new AllowList(options.allow) : undefined;
    this.maxPerPacket = options.maxPerPacket ?? 1024;
    this.maxPerSecond = options.maxPerSecond ?? 2000;
    this.now = options.now ?? (() => performance.now());
  }

  /** Listens on a UDP port (shared with OSC data sources on the same port); resolves with the bound port. */
  async listen(host: string, port: number): Promise<number> {
    this.lease = acquireOscPort(host, port);
    this.unlisten = this.lease.port.onMessage((r) => this.handle(r));
    this.bound = await this.lease.ready;
    return this.bound.port;
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
    this.byAddress = new Map();
    if (!patch) return;
    for (const a of controlAddresses(patch)) {
      this.byAddress.set(a.address, a);
      this.space.add(a.address, () => undefined);
    }
  }

  /**
   * Takes one received message (also called directly by tests). The messages of
   * one datagram arrive in one turn of the event loop; they are gathered and
   * applied together at its end (a microtask), one engine change per address
   * and time, so a bundle of 1,000 messages to the same parameters costs a few
   * engine calls, not thousands.
   */
  handle(r: OscReceived): void {
    try {
      if (this.allow && !this.allow.allows(r.sender.address)) {
        this.stats.foreign++;
        this.stats.lastError = `${r.message.address}: sender ${r.sender.address} is not in the allow-list`;
        return;
      }
      this.rebuild();
      const hits = this.space.match(r.message.address);
      if (hits.length === 0) {
        if (r.message.address.startsWith('/eco/')) this.stats.unmatched++;
        return;
      }
      if (this.fanOut + hits.length > this.maxPerPacket) {
        this.stats.dropped += hits.length;
        this.stats.lastError = `${r.message.address}: over the budget of ${this.maxPerPacket} matches per packet`;
        return;
      }
      this.fanOut += hits.length;
      for (const address of hits) {
        const a = this.byAddress.get(address)!;
        // Stream values are a series (each one counts); anything else: the last one for an address and time wins.
        const key = a.action === 'stream' ? `#${this.batchSeq++}` : `${address}@${r.time ?? 'now'}`;
        if (this.batch.has(key)) this.stats.coalesced++;
        this.batch.set(key, { a, msg: r.message, r });
      }
      if (!this.flushQueued) {
        this.flushQueued = true;
        queueMicrotask(() => this.flush());
      }
    } catch (e) {
      this.reject(r.message, (e as Error)?.message ?? String(e));
    }
  }

  /** Applies the gathered packet within the per-second budget. */
  private flush(): void {
    const batch = this.batch;
    this.batch = new Map();
    this.fanOut = 0;
    this.flushQueued = false;
    this.applyWithin(batch.values());
  }

  /**
   * Applies controls while the second's budget lasts. Over it, the latest
   * control per address waits for the next second (so a fader's last position
   * is never lost); one it replaces is dropped and counted.
   */
  private applyWithin(controls: Iterable<Pending>): void {
    const now = this.now();
    if (now - this.windowStart >= 1000) {
      this.windowStart = now;
      this.windowCount = 0;
    }
    for (const p of controls) {
      if (this.windowCount >= this.maxPerSecond) {
        const key = p.a.action === 'stream' ? `stream:${p.a.name}` : p.a.address;
        if (this.deferred.has(key)) this.stats.dropped++;
        this.deferred.set(key, p);
        this.stats.lastError = `${p.msg.address}: over the budget of ${this.maxPerSecond} changes per second (deferred)`;
        continue;
      }
      this.windowCount++;
      try {
        this.apply(p.a, p.msg, p.r);
      } catch (e) {
        this.reject(p.msg, (e as Error)?.message ?? String(e));
      }
    }
    if (this.deferred.size > 0 && !this.deferTimer) {
      this.deferTimer = setTimeout(
        () => {
          this.deferTimer = undefined;
          const waiting = [...this.deferred.values()];
          this.deferred.clear();
          this.applyWithin(waiting);
        },
        Math.max(1, 1000 - (now - this.windowStart)),
      );
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
    clearTimeout(this.deferTimer);
    this.deferred.clear();
    this.unlisten?.();
    await this.lease?.release();
  }
}
