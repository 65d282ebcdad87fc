/**
 * An OSC port over UDP (node:dgram): receives, validates and delivers OSC
 * messages with their sender and resolved bundle time, and sends packets.
 *
 * Nothing a peer sends can stop it: every datagram is decoded by our own codec
 * (core/osc/codec.ts, not osc-js; see docs/RELIABILITY.md), malformed and oversize
 * ones are counted and dropped, socket errors are counted and reported, and an
 * exception in a listener or method goes to `onError` while delivery carries on
 * with the next message. Times come from bundle timetags:
 * - not in a bundle, or "immediately": `time` undefined (now);
 * - in the past on arrival: delivered at once, `late: true`;
 * - more than `maxFutureSeconds` (default 60) ahead: dropped and counted;
 * - otherwise delivered at once with its `time` for the caller to schedule (the
 *   engine schedules on the audio clock).
 * Address patterns are matched by the listener (OscControl has its own
 * address space), not here.
 */
import dgram from 'node:dgram';
import { isIP } from 'node:net';
import {
  encodePacket,
  isOscBundle,
  resolveOscLimits,
  timetagToEpochSeconds,
  tryDecodePacket,
  type OscLimits,
  type OscMessage,
  type OscPacket,
  type OscTimetag,
} from '../../core/osc/codec.ts';

/** Where a datagram came from. */
export interface OscSender {
  address: string;
  port: number;
  family: string;
}

/** One delivered message. */
export interface OscReceived {
  message: OscMessage;
  sender: OscSender;
  /**
   * When the message is due, Unix epoch seconds, from its bundle's timetag
   * (a nested bundle is never due before the bundle around it); undefined for
   * "now" (not in a bundle, or the immediate timetag).
   */
  time: number | undefined;
  /** The timetag of the innermost bundle holding the message, as sent. */
  timetag?: OscTimetag;
  /** The time had passed when the datagram arrived; delivered at once. */
  late: boolean;
}

/** Counters since the port was created. */
export interface OscUdpStats {
  /** Datagrams received. */
  received: number;
  /** Messages handed to listeners. */
  delivered: number;
  /** Datagrams the decoder rejected (oversize ones not included). */
  malformed: number;
  /** Datagrams larger than limits.maxPacketBytes, dropped before decoding. */
  oversize: number;
  /** Messages not delivered: too far in the future. */
  dropped: number;
  /** Messages whose time was beyond maxFutureSeconds. */
  farFuture: number;
  /** Messages whose time had passed on arrival. */
  late: number;
  /** Exceptions thrown by listeners. */
  handlerErrors: number;
  /** Errors reported by the socket after it was open. */
  socketErrors: number;
  /** Sends that failed. */
  sendErrors: number;
  /** The last malformed/oversize/socket fault, for logs. */
  lastError?: string;
}

/** What an error passed to `onError` came from. */
export type OscErrorSource =
  | { kind: 'handler'; received: OscReceived }
  | { kind: 'socket' }
  | { kind: 'send'; host: string; port: number }
  | { kind: 'internal' };

export interface OscUdpPortOptions {
  /** Decode limits (defaults: 64 KiB packets, depth 8, … see OscLimits). */
  limits?: Partial<OscLimits>;
  /** How far ahead a timetag may lie, seconds; later messages are dropped. Default 60. */
  maxFutureSeconds?: number;
  /** The clock, Unix epoch seconds. Default Date.now() / 1000. */
  now?: () => number;
  /** Called for every delivered message. */
  onMessage?: (received: OscReceived) => void;
  /** Called with exceptions from listeners, socket and send errors (already counted). */
  onError?: (error: unknown, source: OscErrorSource) => void;
}

export interface OscUdpOpenOptions {
  /** Interface to bind. Default '127.0.0.1'; an IPv6 literal makes a udp6 socket. */
  host?: string;
  /** Port to bind; 0 (default) lets the system choose: read it from the result or `port`. */
  port?: number;
}

function describe(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}

/**
 * An OSC endpoint on one UDP socket.
 *
 * @example
 * const port = new OscUdpPort({ onError: (e, src) => log(src.kind, e) });
 * port.onMessage((rx) => rx.message.address === '/wind/speed' && setWind(rx.message.args, rx.time));
 * const { port: bound } = await port.open({ host: '0.0.0.0', port: 9000 });
 * await port.send({ address: '/ack', args: [] }, '192.168.1.20', 9001);
 * await port.close();
 */
export class OscUdpPort {
  private socket: dgram.Socket | undefined;
  private closing: Promise<void> | undefined;
  private readonly limits: OscLimits;
  private readonly maxFutureSeconds: number;
  private readonly now: () => number;
  private readonly listeners = new Set<(received: OscReceived) => void>();
  private readonly onError: OscUdpPortOptions['onError'];
  private readonly counters: OscUdpStats = {
    received: 0,
    delivered: 0,
    malformed: 0,
    oversize: 0,
    dropped: 0,
    farFuture: 0,
    late: 0,
    handlerErrors: 0,
    socketErrors: 0,
    sendErrors: 0,
  };

  constructor(options: OscUdpPortOptions = {}) {
    this.limits = resolveOscLimits(options.limits);
    this.maxFutureSeconds = options.maxFutureSeconds ?? 60;
    this.now = options.now ?? (() => Date.now() / 1000);
    this.onError = options.onError;
    if (options.onMessage) this.listeners.add(options.onMessage);
  }

  /** The bound port, once open. */
  get port(): number | undefined {
    if (!this.socket || this.closing) return undefined;
    try {
      return this.socket.address().port;
    } catch {
      return undefined; // not bound yet
    }
  }

  get isOpen(): boolean {
    return this.port !== undefined;
  }

  /** Adds a listener for every delivered message; returns a function that removes it. */
  onMessage(listener: (received: OscReceived) => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /** A snapshot of the counters. */
  stats(): OscUdpStats {
    return { ...this.counters };
  }

  /** Binds the socket. Resolves with the bound address and port; rejects (and leaves nothing open) if binding fails. */
  open(options: OscUdpOpenOptions = {}): Promise<{ address: string; port: number }> {
    if (this.socket) return Promise.reject(new Error('OscUdpPort is already open (or was closed: make a new one)'));
    const host = options.host ?? '127.0.0.1';
    const portNumber = options.port ?? 0;
    // dgram would bind 70000 as 70000 & 0xffff = 4464: refuse instead.
    if (!Number.isInteger(portNumber) || portNumber < 0 || portNumber > 65535) {
      return Promise.reject(new RangeError(`OscUdpPort.open: port must be an integer 0..65535, got ${portNumber}`));
    }
    const socket = dgram.createSocket({ type: isIP(host) === 6 ? 'udp6' : 'udp4' });
    this.socket = socket;
    return new Promise((resolve, reject) => {
      let listening = false;
      // A failed open rejects only once its socket is released, so it leaves nothing behind.
      const fail = (error: unknown): void => {
        this.closing = new Promise((done) => {
          const released = (): void => {
            setImmediate(() =>
              setImmediate(() => {
                done();
                reject(error);
              }),
            );
          };
          try {
            socket.close(released);
          } catch {
            released();
          }
        });
      };
      socket.on('error', (error) => {
        if (!listening) {
          fail(error);
          return;
        }
        this.counters.socketErrors++;
        this.counters.lastError = `socket: ${describe(error)}`;
        this.report(error, { kind: 'socket' });
      });
      socket.on('message', (data, rinfo) => this.receive(data, rinfo));
      socket.once('listening', () => {
        listening = true;
        const a = socket.address();
        resolve({ address: a.address, port: a.port });
      });
      try {
        socket.bind(portNumber, host);
      } catch (error) {
        fail(error); // thrown before any event, e.g. a bad host argument
      }
    });
  }

  /**
   * Sends a packet (encoded here; an invalid packet throws OscEncodeError at
   * once) or ready-made bytes. Resolves true when sent, false when the socket
   * refused (counted in sendErrors and passed to onError); never rejects.
   */
  send(packet: OscPacket | Uint8Array, host: string, port: number): Promise<boolean> {
    const socket = this.socket;
    if (!socket || this.closing) throw new Error('OscUdpPort.send: the port is not open');
    const bytes = packet instanceof Uint8Array ? packet : encodePacket(packet);
    return new Promise((resolve) => {
      const failed = (error: unknown): void => {
        this.counters.sendErrors++;
        this.report(error, { kind: 'send', host, port });
        resolve(false);
      };
      try {
        socket.send(bytes, port, host, (error) => (error ? failed(error) : resolve(true)));
      } catch (error) {
        failed(error); // e.g. a bad port number, or the socket closed meanwhile
      }
    });
  }

  /** Closes the socket. Safe to call more than once. */
  close(): Promise<void> {
    if (this.closing) return this.closing;
    const socket = this.socket;
    if (!socket) return (this.closing = Promise.resolve());
    // The close callback comes before libuv has released the handle (that happens in the
    // loop's closing phase); two setImmediate turns later it is gone from getActiveResourcesInfo().
    const released = (resolve: () => void) => setImmediate(() => setImmediate(resolve));
    this.closing = new Promise((resolve) => {
      try {
        socket.close(() => released(resolve));
      } catch {
        released(resolve); // already closed
      }
    });
    return this.closing;
  }

  // ---------------------------------------------------------------- receive

  private receive(data: Buffer, rinfo: dgram.RemoteInfo): void {
    try {
      this.counters.received++;
      const sender: OscSender = { address: rinfo.address, port: rinfo.port, family: rinfo.family };
      if (data.byteLength > this.limits.maxPacketBytes) {
        this.counters.oversize++;
        this.counters.lastError = `oversize: ${data.byteLength} bytes from ${sender.address}:${sender.port} (limit ${this.limits.maxPacketBytes})`;
        return;
      }
      const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
      const result = tryDecodePacket(bytes, this.limits);
      if (!result.ok) {
        this.counters.malformed++;
        this.counters.lastError = `malformed from ${sender.address}:${sender.port}: ${result.error.message}`;
        return;
      }
      this.walk(result.packet, sender, undefined, undefined, this.now());
    } catch (e) {
      // Not expected (every step above catches its own faults); never let it reach the socket.
      this.counters.lastError = `internal: ${describe(e)}`;
      this.report(e, { kind: 'internal' });
    }
  }

  private walk(packet: OscPacket, sender: OscSender, time: number | undefined, timetag: OscTimetag | undefined, now: number): void {
    if (!isOscBundle(packet)) {
      this.route({ message: packet, sender, time, timetag, late: false }, now);
      return;
    }
    const own = timetagToEpochSeconds(packet.timetag);
    // OSC 1.0: a bundle inside a bundle is due no earlier than the one around it.
    const due = own === undefined ? time : time === undefined ? own : Math.max(own, time);
    for (const element of packet.elements) this.walk(element, sender, due, packet.timetag, now);
  }

  private route(received: OscReceived, now: number): void {
    const { time } = received;
    if (time !== undefined) {
      if (time - now > this.maxFutureSeconds) {
        this.counters.farFuture++;
        this.counters.dropped++;
        return;
      }
      if (time < now) {
        received.late = true;
        this.counters.late++;
      }
    }
    this.deliver(received);
  }

  private deliver(received: OscReceived): void {
    this.counters.delivered++;
    for (const listener of [...this.listeners]) {
      try {
        listener(received);
      } catch (e) {
        this.counters.handlerErrors++;
        this.report(e, { kind: 'handler', received });
      }
    }
  }

  private report(error: unknown, source: OscErrorSource): void {
    if (!this.onError) return;
    try {
      this.onError(error, source);
    } catch {
      // An error reporter that throws must not take the port down.
    }
  }
}
