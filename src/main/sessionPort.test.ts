/**
 * The session protocol over a real MessagePort (Node's, which Electron's
 * MessagePortMain mirrors) to a real in-process session with no audio device:
 * hello, commands and events; hostile messages refused with a reply; the rate
 * limit; closing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadPatchFile } from '../engine/node/files.ts';
import { Session } from '../engine/node/session/Session.ts';
import { connectSessionPort, portMessageProblem, type PortLike } from './sessionPort.ts';
import { until } from '../../tests/support/wait.ts';

const dir = mkdtempSync(join(tmpdir(), 'ecosym-port-'));
const file = join(dir, 'p.yaml');
writeFileSync(
  file,
  `name: porty
streams:
  co2: { default: 400, valid: [0, 2000] }
voices:
  pad: { synth: synth, oscillator: sine, volume: -12, notes: { mode: chord, octave: 3 }, rhythm: { hold: true } }
scenes:
  calm: {}
  storm: {}
`,
);
let session: Session;
beforeAll(async () => {
  session = await Session.open({ patch: loadPatchFile(file), sink: 'none', cacheDir: false, midi: false });
  await session.start();
}, 60_000);
afterAll(async () => {
  await session?.stop();
  rmSync(dir, { recursive: true, force: true });
});

function nodePort(p: MessagePort): PortLike {
  return { postMessage: (m) => p.postMessage(m), onMessage: (fn) => p.on('message', fn), onClose: (fn) => p.on('close', fn), close: () => p.close() };
}

/** A renderer's end: what it received, and a way to send. */
function open(opts?: Parameters<typeof connectSessionPort>[2]) {
  const { port1, port2 } = new MessageChannel();
  const got: Array<Record<string, unknown>> = [];
  port2.on('message', (m) => got.push(m as Record<string, unknown>));
  const conn = connectSessionPort(session, nodePort(port1), opts);
  return { got, conn, send: (m: unknown) => port2.postMessage(m), other: port2 };
}
const replies = (got: Array<Record<string, unknown>>) => got.filter((m) => m.type === 'reply');

describe('a session port', () => {
  it('says hello with the snapshot, runs commands, forwards events', async () => {
    const r = open();
    await until(() => r.got.some((m) => m.type === 'hello'), 'hello');
    const hello = r.got.find((m) => m.type === 'hello') as { snapshot: { patch: { name: string } }; readOnly: boolean };
    expect(hello.snapshot.patch.name).toBe('porty');
    expect(hello.readOnly).toBe(false);
    r.send({ type: 'scene', name: 'storm', id: 'a1' });
    r.send(JSON.stringify({ type: 'snapshot', id: 2 }));
    await until(() => replies(r.got).length === 2, 'two replies');
    expect(replies(r.got).find((m) => m.id === 'a1')).toMatchObject({ ok: true });
    await until(() => r.got.some((m) => m.type === 'event' && (m.event as { type: string }).type === 'scene'), 'the scene event');
    r.conn.close();
  });

  it('refuses hostile messages with an error reply, and the session still answers', async () => {
    const r = open();
    const cyclic: Record<string, unknown> = { type: 'panic' };
    cyclic.self = cyclic;
    const hostile: unknown[] = [42, null, ['panic'], 'x'.repeat(300_000), cyclic, new Date(0), { type: 'nope' }, '{"type":', { type: 'param', target: 'master.volume', value: 'loud' }, { type: 'scene', name: 'x'.repeat(1000) }];
    for (const h of hostile) r.send(h);
    r.send({ type: 'snapshot', id: 'after' });
    await until(() => replies(r.got).length === hostile.length + 1, 'a reply to every message');
    const errors = replies(r.got).filter((m) => m.ok === false).map((m) => String(m.error));
    expect(errors).toHaveLength(hostile.length);
    expect(errors.join('\n')).toMatch(/got number/);
    expect(errors.join('\n')).toMatch(/message too large/);
    expect(errors.join('\n')).toMatch(/not a JSON value/);
    expect(errors.join('\n')).toMatch(/plain object/);
    expect(errors.join('\n')).toMatch(/unknown command "nope"/);
    expect(errors.join('\n')).toMatch(/param\.value/);
    expect(replies(r.got).find((m) => m.id === 'after')).toMatchObject({ ok: true });
    expect(r.conn.stats.refused).toBe(6);
    r.conn.close();
  });

  it('limits the rate of a flooding renderer, and lets it in again a second later', async () => {
    let t = 0;
    const r = open({ maxPerSecond: 5, nowMs: () => t });
    for (let i = 0; i < 8; i++) r.send({ type: 'snapshot', id: i });
    await until(() => replies(r.got).length === 8, 'eight replies');
    const byId = (id: number | undefined) => replies(r.got).filter((m) => m.id === id);
    expect([0, 1, 2, 3, 4].every((i) => byId(i)[0]?.ok === true)).toBe(true);
    expect(replies(r.got).filter((m) => m.ok === false && /too many messages: at most 5 a second/.test(String(m.error)))).toHaveLength(3);
    t += 1000;
    r.send({ type: 'snapshot', id: 99 });
    await until(() => byId(99).length === 1, 'the reply after a second');
    expect(byId(99)[0]).toMatchObject({ ok: true });
    r.conn.close();
  });

  it('stops forwarding when the renderer closes its end', async () => {
    const r = open();
    await until(() => r.got.some((m) => m.type === 'hello'), 'hello');
    r.other.close();
    await until(() => r.conn.closed, 'the connection to close');
    const sent = r.conn.stats.sent;
    await session.handle({ type: 'scene', name: 'calm' });
    await session.handle({ type: 'mute', on: false });
    expect(r.conn.stats.sent).toBe(sent);
  });

  it("a window that closes with a page controller's keys held lets go of exactly its notes", async () => {
    const a = open();
    const b = open();
    await until(() => a.got.some((m) => m.type === 'hello') && b.got.some((m) => m.type === 'hello'), 'hello');
    const before = session.engine.heldNotes;
    a.send({ type: 'midiIn', port: 'Keys', messages: [[0x90, 60, 100], [0x90, 62, 100]], id: 'a' });
    // a renderer naming another client is ignored: it is always itself
    b.send({ type: 'midiIn', port: 'Keys', messages: [[0x90, 65, 100]], client: 'port-1', id: 'b' });
    await until(() => replies(a.got).some((m) => m.id === 'a') && replies(b.got).some((m) => m.id === 'b'), 'both replies');
    expect(replies(a.got).find((m) => m.id === 'a')).toMatchObject({ ok: true });
    expect(session.engine.heldNotes).toBe(before + 3);
    a.other.close();
    await until(() => session.engine.heldNotes === before + 1, "the closed window's two notes let go");
    expect(session.bridges.midi!.remoteHeld()).toBe(1);
    b.conn.close();
    await until(() => session.engine.heldNotes === before, "the other window's note let go");
  });

  it('checks message kinds and sizes before anything parses them', () => {
    expect(portMessageProblem({ type: 'panic' })).toBeUndefined();
    expect(portMessageProblem('{"type":"panic"}')).toBeUndefined();
    expect(portMessageProblem(undefined)).toMatch(/got undefined/);
    expect(portMessageProblem({ a: 1n })).toMatch(/not a JSON value/);
  });
});
