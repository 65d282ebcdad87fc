/**
 * 10,000 random and hostile messages over the real WebSocket of `ecosym
 * serve`, to a real session playing with no audio device: wrong types, huge
 * strings, deep nesting, unknown commands, binary frames, broken UTF-8,
 * messages over the size limit. Each message within the limits gets exactly
 * one reply; a message that breaks the framing costs only its connection;
 * and the session survives, still answers a snapshot and still sounds.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { loadPatchFile } from '../files.ts';
import { Session } from '../session/Session.ts';
import { Command, type Reply } from '../../../shared/protocol.ts';
import { startServer, type RunningServer } from './server.ts';
import { until } from '../../../../tests/support/wait.ts';

const MESSAGES = 10_000;
const MAX_BYTES = 64 * 1024;

const dir = mkdtempSync(join(tmpdir(), 'ecosym-fuzz-'));
const patchFile = join(dir, 'f.yaml');
writeFileSync(
  patchFile,
  `name: fuzzed
tempo: 90
streams:
  co2: { unit: ppm, default: 400, valid: [0, 2000] }
signals:
  level: { from: co2, range: [300, 500] }
voices:
  pad:
    synth: synth
    oscillator: sine
    notes: { mode: chord, octave: 3 }
    rhythm: { hold: true }
scenes:
  calm: {}
`,
);

let session: Session;
let server: RunningServer;

beforeAll(async () => {
  // cwd for relative paths a fuzzed load or rebind might name: the temp folder.
  session = await Session.open({ patch: loadPatchFile(patchFile), sink: 'none', cacheDir: false, midi: false });
  await session.start();
  server = await startServer({ link: session, port: 0, limits: { maxMessageBytes: MAX_BYTES, messagesPerSecond: 1e6, messageBurst: 1e6 } });
  await until(() => (session.snapshot().rmsDb ?? -Infinity) > -40, 'the pad to sound', 30_000);
}, 60_000);
afterAll(async () => {
  await server?.close();
  await session?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Command types, to make near-miss commands (a real type, wrong fields). `record` would write files: left out. */
const TYPES = Command.options.map((c) => c.shape.type.value).filter((t) => t !== 'record');

/** One hostile message: text (maybe not JSON), or bytes. */
type Hostile = { text: string } | { bytes: Uint8Array };

const hostile: fc.Arbitrary<Hostile> = fc.oneof(
  // Anything JSON can carry.
  fc.jsonValue({ maxDepth: 4 }).map((v) => ({ text: JSON.stringify(v) ?? 'null' })),
  // A real command type with random fields.
  fc.record({ type: fc.constantFrom(...TYPES), extra: fc.dictionary(fc.constantFrom('name', 'target', 'value', 'on', 'patch', 'stream', 'what', 'bpm', 'uri', 'id', 'v', '__proto__', 'constructor'), fc.anything({ maxDepth: 2 })) }).map(({ type, extra }) => ({ text: JSON.stringify({ ...extra, type }) })),
  // Unknown commands, wrong versions.
  fc.record({ type: fc.string({ maxLength: 50 }), v: fc.oneof(fc.constant(1), fc.integer(), fc.string()) }).map((o) => ({ text: JSON.stringify(o) })),
  // Huge strings, just under and over the limit.
  fc.integer({ min: 1000, max: MAX_BYTES + 4096 }).map((n) => ({ text: JSON.stringify({ type: 'scene', name: 'x'.repeat(n) }) })),
  // Deep nesting, as text (a stack-busting parse) and as a value.
  fc.integer({ min: 100, max: 30_000 }).map((n) => ({ text: `${'['.repeat(n)}${']'.repeat(n)}` })),
  fc.integer({ min: 50, max: 2000 }).map((n) => ({ text: `{"type":"param","target":"master.volume","value":${'{"a":'.repeat(n)}1${'}'.repeat(n)}}` })),
  // Not JSON at all, and bytes.
  fc.string({ maxLength: 200 }).map((text) => ({ text })),
  fc.uint8Array({ maxLength: 300 }).map((bytes) => ({ bytes })),
  // Numbers that are not numbers, to a real target.
  fc.constantFrom('NaN', 'Infinity', '-1e400', '1e999', '"12"', 'null').map((v) => ({ text: `{"type":"param","target":"master.volume","value":${v}}` })),
);

/** Sends a message as text (possibly broken UTF-8) or binary. */
function sendHostile(ws: WebSocket, m: Hostile): void {
  if ('text' in m) ws.send(m.text);
  else if (m.bytes.length % 10 !== 0) ws.send(m.bytes, { binary: true });
  // Bytes sent as a text frame: usually invalid UTF-8, which closes the connection (1007).
  else ws.send(m.bytes, { binary: false });
}

interface Conn {
  ws: WebSocket;
  replies: Reply[];
  closed: number | undefined;
}

async function open(): Promise<Conn> {
  const ws = new WebSocket(`ws://127.0.0.1:${server.port}/api/ws?token=${server.token}`);
  const c: Conn = { ws, replies: [], closed: undefined };
  ws.on('message', (d) => {
    const m = JSON.parse(d.toString()) as { type: string };
    if (m.type === 'reply') c.replies.push(m as Reply);
  });
  ws.on('close', (code) => (c.closed = code));
  ws.on('error', () => undefined);
  await new Promise((r, j) => (ws.once('open', r), ws.once('error', j)));
  return c;
}

describe('the WebSocket under 10,000 hostile messages', () => {
  it('answers every message within the limits, loses only the connections whose framing broke, and the session plays on', async () => {
    const messages = fc.sample(hostile, { numRuns: MESSAGES, seed: 20261202 });
    let c = await open();
    let expected = 0;
    let connections = 1;
    const closes = new Map<number, number>();
    const finish = async (conn: Conn, sent: number) => {
      // Replies on a connection that stayed open: one per message.
      await until(() => conn.replies.length >= sent || conn.closed !== undefined, `${sent} replies`, 120_000, 2);
      if (conn.closed === undefined) expect(conn.replies.length).toBe(sent);
    };
    for (let i = 0; i < messages.length; i++) {
      const m = messages[i]!;
      const size = 'text' in m ? Buffer.byteLength(m.text) : m.bytes.length;
      const breaks = size > MAX_BYTES || ('bytes' in m && m.bytes.length % 10 === 0 && !isUtf8(m.bytes));
      // Everything before a message that breaks the connection is answered first.
      if (breaks) await finish(c, expected);
      sendHostile(c.ws, m);
      if (!breaks) expected++;
      if (breaks || i % 500 === 499) {
        if (!breaks) await finish(c, expected);
        else {
          await until(() => c.closed !== undefined, 'the connection to close after a message that breaks it', 60_000, 2);
          closes.set(c.closed!, (closes.get(c.closed!) ?? 0) + 1);
          c = await open();
          connections++;
          expected = 0;
        }
      }
    }
    await finish(c, expected);
    // Closed for a message too big (1009) or broken UTF-8 (1007), never for a server error (1011).
    expect([...closes.keys()].every((code) => code === 1009 || code === 1007)).toBe(true);
    expect(closes.get(1011)).toBeUndefined();
    expect(connections).toBeGreaterThan(1);
    expect(session.counts.refusedCommands).toBeGreaterThan(MESSAGES / 2);

    // Still answering, still playing.
    await session.handle({ type: 'mute', on: false });
    await session.handle({ type: 'param', target: 'master.volume', value: 0 });
    const reply = await new Promise<Reply>((resolve) => {
      c.ws.on('message', (d) => {
        const m = JSON.parse(d.toString()) as Reply;
        if (m.type === 'reply' && m.id === 'last') resolve(m);
      });
      c.ws.send(JSON.stringify({ type: 'snapshot', id: 'last' }));
    });
    expect(reply.ok).toBe(true);
    expect(reply.ok && (reply.data as { patch: { name: string } }).patch).toBeTruthy();
    await until(() => (session.snapshot().rmsDb ?? -Infinity) > -40, 'the session to sound after the fuzzing', 30_000);
    c.ws.close();
  }, 600_000);
});

function isUtf8(b: Uint8Array): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(b);
    return true;
  } catch {
    return false;
  }
}
