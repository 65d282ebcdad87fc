/**
 * OSC in as data: messages to an address (or matching an address pattern)
 * on a UDP port become a stream's values, taken from one argument. A bundle's
 * timetag is the value's data time. Decoding, limits and malformed packets are
 * the OSC layer's (src/engine/node/osc/udp.ts): nothing a packet holds can
 * throw here.
 */
import type { OscArg } from '../../core/osc/codec.ts';
import { hasWildcards, matchAddress, matchCompiled, tryCompilePattern, type OscPattern } from '../../core/osc/pattern.ts';
import type { SourceSpec } from '../../core/sources/uri.ts';
import { acquireOscPort, type OscPortLease } from '../osc/ports.ts';
import { guarded, type Source, type SourceSink } from './types.ts';

type OscSpec = Extract<SourceSpec, { kind: 'osc' }>;

/** The plain value of an OSC argument (numbers, text, booleans as 1/0); undefined for anything else. */
export function oscArgValue(arg: OscArg | undefined): number | string | undefined {
  if (!arg) return undefined;
  switch (arg.type) {
    case 'i':
    case 'f':
    case 'd':
      return arg.value;
    case 'h':
      return Number(arg.value);
    case 's':
    case 'S':
      return arg.value;
    case 'T':
      return 1;
    case 'F':
      return 0;
    default:
      return undefined;
  }
}

export class OscSource implements Source {
  private lease: OscPortLease | undefined;
  private unlisten: (() => void) | undefined;
  private readonly sink: SourceSink;
  /** Our address as a pattern, compiled once (undefined: a plain address, or a malformed pattern that matches nothing). */
  private readonly pattern: OscPattern | undefined;
  private readonly plain: boolean;
  readonly stats = { messages: 0 };

  constructor(
    readonly spec: OscSpec,
    sink: SourceSink,
  ) {
    this.sink = guarded(sink);
    this.plain = !hasWildcards(spec.address);
    const compiled = this.plain ? undefined : tryCompilePattern(spec.address);
    this.pattern = compiled && !(compiled instanceof Error) ? compiled : undefined;
  }

  /** True when an incoming address is this source's: its pattern against ours, or ours against it. */
  matches(address: string): boolean {
    if (!this.plain) return this.pattern !== undefined && matchCompiled(this.pattern, address);
    // Most incoming addresses are plain: compare; only an incoming pattern needs compiling.
    return hasWildcards(address) ? matchAddress(address, this.spec.address) : address === this.spec.address;
  }

  start(): void {
    this.sink.connecting();
    const lease = acquireOscPort(this.spec.host, this.spec.port);
    this.lease = lease;
    lease.ready.catch((e) => this.sink.error(new Error(`cannot listen for OSC on ${this.spec.host}:${this.spec.port}: ${(e as Error).message}`)));
    this.unlisten = lease.port.onMessage((r) => {
      if (!this.matches(r.message.address)) return;
      this.stats.messages++;
      const value = oscArgValue(r.message.args[this.spec.arg]);
      this.sink.records([{ value: value ?? null, dataTime: r.time ?? NaN, data: { address: r.message.address } }]);
    });
  }

  async stop(): Promise<void> {
    this.unlisten?.();
    await this.lease?.release();
  }
}
