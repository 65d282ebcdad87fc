/** WebSocket feeds against a real `ws` server on loopback: messages, bad messages, drops and reconnection. */
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import { WsSource } from './ws.ts';
import { parseSourceUri, type SourceSpec } from '../../core/sources/uri.ts';
import type { FeedRecord } from '../../core/sources/records.ts';
import { until } from '../../../../tests/support/wait.ts';

const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

async function server(port = 0) {
  const wss = new WebSocketServer({ host: '127.0.0.1', port });
  await new Promise<void>((r) => wss.once('listening', () => r()));
  const clients: WebSocket[] = [];
  wss.on('connection', (c) => clients.push(c));
  const close = () => new Promise<void>((r) => {
    for (const c of wss.clients) c.terminate();
    wss.close(() => r());
  });
  cleanup.push(close);
  return { wss, clients, port: (wss.address() as { port: number }).port, close };
}

function connect(uri: string) {
  const got: FeedRecord[] = [];
  const errors: string[] = [];
  const src = new WsSource(parseSourceUri(uri) as Extract<SourceSpec, { kind: 'ws' }>, {
    records: (r) => got.push(...r),
    error: (e) => errors.push((e as Error).message),
    connecting: () => {},
  }, () => 0, { base: 0.05, max: 0.2 });
  src.start();
  cleanup.push(() => src.stop());
  return { src, got, errors };
}

describe('WsSource', () => {
  it('selects values from JSON messages and reads bare numbers', async () => {
    const s = await server();
    const c = connect(`ws://127.0.0.1:${s.port}/live#$.co2`);
    await until(() => s.clients.length === 1, 'a connection');
    s.clients[0]!.send(JSON.stringify({ co2: 421.3, time: '2025-06-01T00:00:00Z' }));
    s.clients[0]!.send('422.1');
    await until(() => c.got.length === 2, 'two values');
    expect(c.got.map((r) => r.value)).toEqual([421.3, '422.1']);
    expect(c.got[0]!.dataTime).toBe(Date.UTC(2025, 5, 1) / 1000); // the message's own time
    expect(c.got[1]!.dataTime).toBeNaN(); // a bare number has none: the hub stamps it
  });

  it('counts invalid JSON and oversized messages as errors and keeps going', async () => {
    const s = await server();
    const c = connect(`ws://127.0.0.1:${s.port}/#$.v&maxBytes=1000`);
    await until(() => s.clients.length === 1, 'a connection');
    s.clients[0]!.send('{"v": ');
    s.clients[0]!.send(JSON.stringify({ v: 1 }));
    await until(() => c.got.length === 1 && c.errors.length === 1, 'one value and one error');
    expect(c.errors[0]).toMatch(/^invalid JSON message/);
    // An oversized message closes that connection (ws enforces maxPayload): it reconnects.
    s.clients[0]!.send(JSON.stringify({ v: 2, pad: 'x'.repeat(5000) }));
    await until(() => s.clients.length === 2, 'a reconnection');
    await until(() => s.clients[1]!.readyState === 1, 'open');
    s.clients[1]!.send(JSON.stringify({ v: 3 }));
    await until(() => c.got.length === 2, 'the value after reconnecting');
    expect(c.got.map((r) => r.value)).toEqual([1, 3]);
    expect(c.errors.some((e) => /Max payload size exceeded|1009/.test(e))).toBe(true);
  });

  it('reconnects after the server drops it and after the server restarts', async () => {
    const s = await server();
    const c = connect(`ws://127.0.0.1:${s.port}/#$.v`);
    await until(() => s.clients.length === 1, 'a connection');
    s.clients[0]!.terminate();
    await until(() => s.clients.length === 2, 'a reconnection');
    await s.close();
    await new Promise((r) => setTimeout(r, 300)); // several failed attempts while it is down
    const s2 = await server(s.port);
    await until(() => s2.clients.length === 1, 'a connection to the restarted server');
    await until(() => s2.clients[0]!.readyState === 1, 'open');
    s2.clients[0]!.send('{"v": 7}');
    await until(() => c.got.length === 1, 'a value after the restart');
    expect(c.got[0]!.value).toBe(7);
    expect(c.src.stats.connects).toBe(3);
    expect(c.errors.length).toBeGreaterThanOrEqual(2);
  });
});
