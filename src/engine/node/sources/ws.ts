/**
 * WebSocket feeds: JSON (or bare number) messages, selected by JSONPath, with
 * reconnection after a capped exponential backoff with jitter. Messages larger
 * than `maxBytes` are refused by the socket (and counted as errors).
 */
import WebSocket from 'ws';
import { backoffDelay } from '../../core/sources/status.ts';
import type { SourceSpec } from '../../core/sources/uri.ts';
import { decodePayload } from './payload.ts';
import { guarded, type Source, type SourceSink } from './types.ts';

type WsSpec = Extract<SourceSpec, { kind: 'ws' }>;

export class WsSource implements Source {
  private socket: WebSocket | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private failures = 0;
  private readonly sink: SourceSink;
  readonly stats = { connects: 0, messages: 0 };

  constructor(
    readonly spec: WsSpec,
    sink: SourceSink,
    private readonly random: () => number = Math.random,
    private readonly backoff = { base: 0.5, max: 30 },
  ) {
    this.sink = guarded(sink);
  }

  start(): void {
    this.connect();
  }

  private connect(): void {
    if (this.stopped) return;
    this.sink.connecting();
    const ws = new WebSocket(this.spec.url, { maxPayload: this.spec.maxBytes, handshakeTimeout: 10_000 });
    this.socket = ws;
    let failed = false;
    const retry = (e: unknown) => {
      if (failed || this.stopped) return;
      failed = true;
      if (e) this.sink.error(e);
      this.sink.disconnected?.(e);
      ws.removeAllListeners();
      ws.on('error', () => undefined);
      ws.terminate();
      this.timer = setTimeout(() => this.connect(), backoffDelay(this.failures++, this.backoff.base, this.backoff.max, this.random()) * 1000);
    };
    ws.on('open', () => {
      this.stats.connects++;
      this.failures = 0;
      this.sink.connected?.();
    });
    ws.on('message', (data, isBinary) => {
      this.stats.messages++;
      const text = isBinary ? Buffer.from(data as Buffer).toString('utf8') : data.toString();
      try {
        this.sink.records(decodePayload(text, this.spec));
      } catch (e) {
        this.sink.error(e);
      }
    });
    ws.on('error', (e) => retry(e));
    ws.on('close', (code, reason) => retry(new Error(`connection closed (${code}${reason.length ? ` ${reason.toString()}` : ''})`)));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    const ws = this.socket;
    if (!ws) return;
    ws.removeAllListeners();
    ws.on('error', () => undefined);
    ws.terminate();
  }
}
