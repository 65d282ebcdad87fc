/**
 * Network listeners as a user starts them (the `play` flags resolved by
 * oscListeners), over real sockets on loopback: where they bind (read from the
 * sockets' own address()), the sender allow-list (a foreign sender is a real
 * socket on 127.0.0.2: Linux routes all of 127/8 to lo), and a wildcard flood.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createSocket, type Socket } from 'node:dgram';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { PatchSchema } from '../engine/core/patchSchema.ts';
import { encodeMessage, encodePacket, type OscMessage } from '../engine/core/osc/codec.ts';
import { startPlayer, type Player } from '../engine/node/realtime.ts';
import { OscControl } from '../engine/node/bridges/oscControl.ts';
import { OscQueryServer } from '../engine/node/bridges/oscQuery.ts';
import { oscListeners } from './play.ts';
import { freePort } from '../../tests/support/mosquitto.ts';
import { until } from '../../tests/support/wait.ts';

const patch = PatchSchema.parse({
  name: 'listeners',
  streams: { level: { default: 0 } },
  buses: { hall: { type: 'reverb' } },
  voices: {
    pad: { synth: 'fm', rhythm: { hold: true } },
    kick: { synth: 'membrane', rhythm: { euclid: [4, 16] }, notes: { mode: 'fixed', note: 'C2' } },
  },
  scenes: { calm: {}, storm: {} },
});

let cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const f of cleanup.reverse()) await f();
  cleanup = [];
});

async function player(): Promise<Player> {
  const p = await startPlayer({ patch, sink: 'none' });
  cleanup.push(() => p.stop());
  return p;
}

async function sender(host: string): Promise<Socket> {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, host, () => r()));
  cleanup.push(() => new Promise((r) => s.close(() => r())));
  return s;
}

const send = (s: Socket, bytes: Uint8Array, port: number) => new Promise<void>((res, rej) => s.send(bytes, port, '127.0.0.1', (e) => (e ? rej(e) : res())));

/** Starts control and OSCQuery where `play` would, from its flags. */
async function start(p: Player, flags: { oscIn?: string; oscQuery?: string; oscAllow?: string[] }, p2 = patch) {
  const l = oscListeners(p2, flags);
  const control = new OscControl(p.engine, undefined, { allow: l.oscIn!.allow });
  cleanup.push(() => control.close());
  const oscPort = await control.listen(l.oscIn!.host, l.oscIn!.port);
  let query: OscQueryServer | undefined;
  if (l.query) {
    query = new OscQueryServer(p.engine, control, { name: 'listeners', oscPort });
    cleanup.push(() => query!.close());
    await query.listen(l.query.host, l.query.port);
  }
  return { control, query, oscPort };
}

describe('listeners bind', () => {
  it('loopback by default: OSC in and OSCQuery on 127.0.0.1, from --osc-in PORT and from the patch', async () => {
    const p = await player();
    const a = await start(p, { oscIn: String(await freePort()), oscQuery: String(await freePort()) });
    expect(a.control.bound!.address).toBe('127.0.0.1');
    expect(a.query!.bound!.address).toBe('127.0.0.1');
    await a.control.close();
    await a.query!.close();
    // osc.in without a host, and --oscquery alone (a control port on a free port).
    const withIn = PatchSchema.parse({ ...patch, osc: { in: { port: await freePort() } } });
    expect(oscListeners(withIn, {}).oscIn!.host).toBe('127.0.0.1');
    const b = await start(p, { oscQuery: String(await freePort()) });
    expect(b.control.bound!.address).toBe('127.0.0.1');
    expect(b.query!.bound!.address).toBe('127.0.0.1');
  });

  it('follow the --osc-in host: OSCQuery binds where the OSC port does, and nowhere else', async () => {
    const p = await player();
    const qp = await freePort();
    const a = await start(p, { oscIn: `127.0.0.2:${await freePort()}`, oscQuery: String(qp) });
    expect(a.control.bound!.address).toBe('127.0.0.2');
    expect(a.query!.bound).toEqual({ address: '127.0.0.2', port: qp });
    expect((await fetch(`http://127.0.0.2:${qp}/?HOST_INFO`)).status).toBe(200);
    await expect(fetch(`http://127.0.0.1:${qp}/?HOST_INFO`)).rejects.toThrow(); // not bound on every interface
    // --oscquery HOST:PORT picks its own.
    expect(oscListeners(patch, { oscIn: '0.0.0.0:9000', oscQuery: '127.0.0.3:9001' }).query).toEqual({ host: '127.0.0.3', port: 9001 });
    expect(oscListeners(patch, { oscIn: '0.0.0.0:9000', oscQuery: '9001' }).query).toEqual({ host: '0.0.0.0', port: 9001 });
  });

  it('checks --osc-allow before anything starts', () => {
    expect(() => oscListeners(patch, { oscIn: '9000', oscAllow: ['192.168.1.0/33'] })).toThrow(/--osc-allow: "192.168.1.0\/33" is not an IP address or CIDR range/);
    expect(() => oscListeners(patch, { oscAllow: ['10.0.0.1'] })).toThrow(/--osc-allow: there is no OSC control in/);
    const fromPatch = PatchSchema.parse({ ...patch, osc: { in: { port: 9000, host: '0.0.0.0', allow: ['10.0.0.0/8'] } } });
    expect(oscListeners(fromPatch, {}).oscIn).toEqual({ host: '0.0.0.0', port: 9000, allow: ['10.0.0.0/8'] });
    expect(oscListeners(fromPatch, { oscAllow: ['10.1.2.3'] }).oscIn!.allow).toEqual(['10.1.2.3']);
    expect(PatchSchema.safeParse({ ...patch, osc: { in: { port: 9000, allow: ['lan'] } } }).error?.issues[0]).toMatchObject({
      path: ['osc', 'in', 'allow', 0],
      message: expect.stringMatching(/IP address or CIDR range/),
    });
  });
});

describe('OSC control allow-list', () => {
  it('drops and counts a foreign sender (127.0.0.2), takes an allowed one', async () => {
    const p = await player();
    const { control, oscPort } = await start(p, { oscIn: String(await freePort()), oscAllow: ['127.0.0.1/32'] });
    const foreign = await sender('127.0.0.2');
    const friend = await sender('127.0.0.1');
    await send(foreign, encodeMessage({ address: '/eco/mute', args: [{ type: 'i', value: 1 }] }), oscPort);
    await send(foreign, encodeMessage({ address: '/eco/scene', args: [{ type: 's', value: 'storm' }] }), oscPort);
    await until(() => control.stats.foreign === 2, 'two foreign messages counted');
    await send(friend, encodeMessage({ address: '/eco/scene', args: [{ type: 's', value: 'storm' }] }), oscPort);
    await until(() => control.stats.applied === 1, 'the allowed scene');
    expect(p.engine.values().scene).toBe('storm');
    expect(p.engine.muted).toBe(false);
    expect(control.stats.lastError).toMatch(/sender 127\.0\.0\.2 is not in the allow-list/);
  });
});

/** Sixteen quiet voices: a wildcard to every voice fans out sixteen ways. */
const VOICES = 16;
const many = PatchSchema.parse({
  name: 'many',
  streams: { level: { default: 0 } },
  voices: Object.fromEntries(Array.from({ length: VOICES }, (_, i) => [`v${i}`, { synth: 'synth', rhythm: { euclid: [1, 16] } }])),
});
/** Messages of a bundle that fit the budget of 1,024 matches, and matches dropped per bundle. */
const FIT = Math.floor(1024 / VOICES);
const DROPPED = (1000 - FIT) * VOICES;

describe('OSC wildcard flood', () => {
  it('bundles of 1,000 /eco/voice/*/volume at 50/s: excess dropped and counted, the event loop stays on time', async () => {
    const p = await startPlayer({ patch: many, sink: 'none' });
    cleanup.push(() => p.stop());
    const { control, oscPort } = await start(p, { oscIn: String(await freePort()) }, many);
    let calls = 0;
    const set = p.engine.setParameter.bind(p.engine);
    p.engine.setParameter = (t, v, time) => (calls++, set(t, v, time));
    const elements: OscMessage[] = Array.from({ length: 1000 }, (_, i) => ({ address: '/eco/voice/*/volume', args: [{ type: 'f', value: -10 - (i % 20) }] }));
    const bundle = encodePacket({ timetag: { seconds: 0, fraction: 1 }, elements });
    const tx = await sender('127.0.0.1');
    const delay = monitorEventLoopDelay({ resolution: 10 });
    delay.enable();
    // 3 s at 50 per second (fewer when the loop is held up: the flood is sent from this loop).
    let packets = 0;
    for (const t0 = performance.now(); performance.now() - t0 < 3000; packets++) {
      await send(tx, bundle, oscPort);
      await new Promise((r) => setTimeout(r, 20));
    }
    await new Promise((r) => setTimeout(r, 200));
    delay.disable();
    // Each message matches every voice. The first FIT messages fit the budget of 1,024 matches
    // and coalesce to one change per voice; the matches of the others are dropped and counted.
    const bundles = control.stats.dropped / DROPPED;
    expect(Number.isInteger(bundles)).toBe(true);
    expect(bundles).toBeGreaterThan(packets / 2); // most bundles arrived (UDP on a busy machine may lose some)
    expect(control.stats.coalesced).toBe(bundles * (FIT - 1) * VOICES);
    expect(control.stats.applied).toBe(bundles * VOICES);
    expect(calls).toBe(control.stats.applied);
    // Generous (measured: about 60-120 ms here, 850 ms before the budget); the precise figure is `npm run bench`'s osc-flood-loop-delay-p99.
    expect(delay.percentile(99) / 1e6).toBeLessThan(500);
  });
});
