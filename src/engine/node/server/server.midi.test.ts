/**
 * A page's controller (midiIn over the WebSocket) on a patch with no `midi`
 * section: the session starts a bridge for page ports when the first message
 * comes (no port of this machine opened), and when a client goes away with
 * keys held (closed, dropped, or cut off by the server) exactly its notes are
 * let go. Real session, real server on loopback, real WebSocket clients; the
 * sound is measured at the master's meter.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { loadPatchFile } from '../files.ts';
import { Session } from '../session/Session.ts';
import type { Reply, ServerMessage } from '../../../shared/protocol.ts';
import { startServer, type RunningServer, type ServerOptions } from './server.ts';
import { until } from '../../../../tests/support/wait.ts';

const dir = mkdtempSync(join(tmpdir(), 'ecosym-server-midi-'));
let session: Session;
const servers: RunningServer[] = [];
const logs: string[] = [];

beforeAll(async () => {
  const file = join(dir, 'plain.yaml');
  // no midi section: nothing asks for MIDI; a sustained sine that the sequencer never plays (density 0)
  writeFileSync(
    file,
    `name: plain
streams:
  wind: { default: 3 }
voices:
  keys: { synth: synth, oscillator: sine, volume: -6, density: 0, envelope: { attack: 0.01, sustain: 1, release: 0.05 }, rhythm: { pattern: 'x' } }
`,
  );
  session = await Session.open({ patch: loadPatchFile(file), sink: 'none', cacheDir: false, log: (l: string) => logs.push(l) });
  await session.start();
}, 60_000);
afterAll(async () => {
  for (const s of servers) await s.close();
  await session?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function serve(limits?: ServerOptions['limits']): Promise<RunningServer> {
  const s = await startServer({ link: session, host: '127.0.0.1', port: 0, ...(limits ? { limits } : {}) });
  servers.push(s);
  return s;
}

async function client(server: RunningServer) {
  const ws = new WebSocket(`ws://127.0.0.1:${server.port}/api/ws?token=${server.token}`);
  const messages: ServerMessage[] = [];
  let closed = false;
  ws.on('message', (d) => messages.push(JSON.parse(d.toString()) as ServerMessage));
  ws.on('close', () => (closed = true));
  ws.on('error', () => undefined);
  await until(() => messages.some((m) => m.type === 'hello'), 'the hello');
  let next = 1;
  return {
    ws,
    get closed() {
      return closed;
    },
    async call(cmd: Record<string, unknown>): Promise<Reply> {
      const id = next++;
      ws.send(JSON.stringify({ ...cmd, id }));
      let reply: Reply | undefined;
      await until(() => (reply = messages.find((m): m is Reply => m.type === 'reply' && m.id === id)) !== undefined, `the reply to ${cmd.type as string}`);
      return reply!;
    },
  };
}

/** The master's level now (RMS over the meter's window). */
const level = () => session.engine.master.levels().rms;
const SOUNDING = 1e-3;
const SILENT = 1e-5;

describe('server: a page controller on a patch without a midi section', () => {
  it('midiIn starts a bridge for page ports only, and a client that goes away lets go of exactly its notes', async () => {
    const server = await serve();
    expect(session.bridges.midi).toBeUndefined();
    expect(level()).toBeLessThan(SILENT);

    const a = await client(server);
    const b = await client(server);
    expect(await a.call({ type: 'midiIn', port: 'Keys', messages: [[0x90, 60, 100], [0x90, 64, 100]] })).toMatchObject({ ok: true });
    // started lazily, with no port of this machine
    const bridge = session.bridges.midi!;
    expect(bridge).toBeDefined();
    expect(bridge.ports).toEqual({ input: undefined, output: undefined });
    expect(logs.some((l) => /a page's controller plays "plain" \(midiIn; no MIDI port of this machine opened\)/.test(l))).toBe(true);
    // the same port name from another page is another controller
    expect(await b.call({ type: 'midiIn', port: 'Keys', messages: [[0x90, 67, 100]] })).toMatchObject({ ok: true });
    expect(session.engine.heldNotes).toBe(3);
    expect(bridge.remoteHeld()).toBe(3);
    await until(() => level() > SOUNDING, 'the held notes to sound');

    // a dropped connection (no close handshake): its two notes go, b's stays and sounds
    a.ws.terminate();
    await until(() => bridge.remoteHeld() === 1, "a's notes let go");
    expect(session.engine.heldNotes).toBe(1);
    await until(() => level() > SOUNDING && session.engine.heldNotes === 1, "b's note still sounding");

    // a page closed normally
    b.ws.close();
    await until(() => session.engine.heldNotes === 0, "b's note let go");
    expect(bridge.remoteHeld()).toBe(0);
    await until(() => level() < SILENT, 'silence once every held note is released');
    // the bridge is the same one: not started twice
    expect(session.bridges.midi).toBe(bridge);
  }, 60_000);

  it('a client cut off by the server (too many messages) lets go of its notes; a client cannot release another', async () => {
    const strict = await serve({ messagesPerSecond: 1, messageBurst: 3, maxRefusedInARow: 2 });
    const calm = await serve();
    const keeper = await client(calm);
    expect(await keeper.call({ type: 'midiIn', port: 'Pads', messages: [[0x91, 48, 90]] })).toMatchObject({ ok: true });
    const noisy = await client(strict);
    expect(await noisy.call({ type: 'midiIn', port: 'Pads', messages: [[0x91, 50, 90]] })).toMatchObject({ ok: true });
    expect(session.engine.heldNotes).toBe(2);
    // a page cannot name another client: its midiRelease only ever releases its own (none here but its one note)
    expect(await noisy.call({ type: 'midiRelease', client: 'someone-else' })).toMatchObject({ ok: true, data: { released: 1 } });
    expect(session.engine.heldNotes).toBe(1);
    expect(await noisy.call({ type: 'midiIn', port: 'Pads', messages: [[0x91, 52, 90]] })).toMatchObject({ ok: true });
    expect(session.engine.heldNotes).toBe(2);
    // flooding: the server closes it (1008) with the note held
    for (let i = 0; i < 20 && !noisy.closed; i++) noisy.ws.send(JSON.stringify({ type: 'snapshot' }));
    await until(() => noisy.closed, 'the server to cut the flooding client off');
    await until(() => session.engine.heldNotes === 1, "the cut-off client's note let go");
    expect(session.bridges.midi!.remoteHeld()).toBe(1);
    await until(() => level() > SOUNDING, "the other client's note still sounding");
    keeper.ws.close();
    await until(() => session.engine.heldNotes === 0 && level() < SILENT, 'silence');
  }, 60_000);

  it('a load stops the page bridge; the next midiIn starts one again for the new patch', async () => {
    const c = await client(servers[0]!);
    expect(await c.call({ type: 'load', patch: { path: join(dir, 'plain.yaml') } })).toMatchObject({ ok: true });
    expect(session.bridges.midi).toBeUndefined();
    expect(await c.call({ type: 'midiIn', port: 'Keys', messages: [[0x90, 72, 100]] })).toMatchObject({ ok: true });
    expect(session.engine.heldNotes).toBe(1);
    await until(() => level() > SOUNDING, 'the note to sound');
    c.ws.close();
    await until(() => session.engine.heldNotes === 0 && level() < SILENT, 'silence after the page closed');
  }, 60_000);
});
