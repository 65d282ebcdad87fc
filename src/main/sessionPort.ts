/**
 * One renderer's connection to the session: a `MessagePort` (Electron's
 * `MessagePortMain` in the app, a Node `MessagePort` in tests, both behind
 * {@link PortLike}) carrying the session protocol both ways, as a WebSocket
 * client of `ecosym serve` would. No TCP port is opened.
 *
 * Out: the host's status at once, `hello` with the snapshot as soon as the
 * session plays (again after each restart of the audio host), then replies,
 * events, telemetry and status changes. In: every message is checked before
 * the session sees it: its kind (an object or JSON text), its size, its rate;
 * the session validates the command itself (`parseCommand`). A bad message
 * gets an error reply; nothing a renderer sends can throw in main.
 */
import { errorReply, MAX_MESSAGE_CHARS, PROTOCOL_VERSION, stampClient, type HostStatus, type ServerMessage, type Snapshot } from '../shared/protocol.ts';
import type { SessionLink } from '../engine/node/session/link.ts';

/** The two ends a session port needs, whatever made it. */
export interface PortLike {
  postMessage(message: unknown): void;
  onMessage(fn: (data: unknown) => void): void;
  onClose(fn: () => void): void;
  close(): void;
}

export interface SessionPortOptions {
  /** Messages a second a renderer may send (default 200; a burst of as many is allowed). */
  maxPerSecond?: number;
  /** Monotonic clock, ms (tests). */
  nowMs?: () => number;
}

/** A link that can also say its status now (the audio host can). */
export type StatusLink = SessionLink & { readonly status?: HostStatus };

/** Why a message from a renderer was refused before reaching the session, or undefined when it may pass. */
export function portMessageProblem(data: unknown): string | undefined {
  if (typeof data === 'string') return data.length > MAX_MESSAGE_CHARS ? `message too large: ${data.length} characters (at most ${MAX_MESSAGE_CHARS})` : undefined;
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return `expected a command object or its JSON text, got ${data === null ? 'null' : Array.isArray(data) ? 'an array' : typeof data}`;
  const proto = Object.getPrototypeOf(data) as unknown;
  if (proto !== Object.prototype && proto !== null) return 'expected a plain object';
  let text: string;
  try {
    text = JSON.stringify(data);
  } catch (e) {
    // Structured clone carries what JSON cannot (cycles, BigInt): not a command either.
    return `not a JSON value: ${(e as Error)?.message ?? String(e)}`.slice(0, 200);
  }
  return text.length > MAX_MESSAGE_CHARS ? `message too large: ${text.length} characters of JSON (at most ${MAX_MESSAGE_CHARS})` : undefined;
}

let portCount = 0;

/** Connects a port to a session link. Returns the connection; it closes itself when the port closes. */
export function connectSessionPort(link: StatusLink, port: PortLike, opts: SessionPortOptions = {}) {
  const rate = opts.maxPerSecond ?? 200;
  const nowMs = opts.nowMs ?? (() => performance.now());
  let tokens = rate;
  let refilled = nowMs();
  let closed = false;
  /** The name the session knows this renderer by; `midi`: it sent MIDI, whose notes are let go when it closes. */
  const name = `port-${++portCount}`;
  let midi = false;
  const stats = { received: 0, refused: 0, sent: 0 };
  const send = (m: ServerMessage) => {
    if (closed) return;
    try {
      port.postMessage(m);
      stats.sent++;
    } catch {
      close();
    }
  };
  const hello = async () => {
    const r = await link.handle({ type: 'snapshot' });
    if (r.ok) send({ v: PROTOCOL_VERSION, type: 'hello', readOnly: false, snapshot: r.data as Snapshot });
  };
  const offs = [
    link.onEvent((event) => send({ type: 'event', event })),
    link.onTelemetry((frame) => send(frame)),
    link.onStatus?.((s) => {
      send(s);
      if (s.state === 'playing') void hello();
    }) ?? (() => undefined),
  ];
  const close = () => {
    if (closed) return;
    closed = true;
    for (const off of offs) off();
    // a window closed or reloaded with keys held: the session lets go of its notes
    if (midi) void link.handle({ type: 'midiRelease', client: name }).catch(() => undefined);
    try {
      port.close();
    } catch {
      // already closed
    }
  };
  port.onClose(close);
  port.onMessage((data) => {
    if (closed) return;
    stats.received++;
    const t = nowMs();
    tokens = Math.min(rate, tokens + ((t - refilled) / 1000) * rate);
    refilled = t;
    if (tokens < 1) {
      stats.refused++;
      return send(errorReply(undefined, `too many messages: at most ${rate} a second`));
    }
    tokens -= 1;
    const problem = portMessageProblem(data);
    if (problem) {
      stats.refused++;
      return send(errorReply(undefined, problem));
    }
    const command = stampClient(data, name);
    if (command !== data) midi = true;
    void link.handle(command).then(send, (e: unknown) => send(errorReply(undefined, String((e as Error)?.message ?? e))));
  });
  const status = link.status;
  if (status) send(status);
  if (!status || status.state === 'playing') void hello();
  return { close, stats, get closed() { return closed; } };
}
