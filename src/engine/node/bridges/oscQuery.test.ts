/** OSCQuery over real HTTP and WebSocket on loopback, against a playing patch. */
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { PatchSchema } from '../../core/patchSchema.ts';
import { decodePacket, type OscMessage } from '../../core/osc/codec.ts';
import { startPlayer } from '../realtime.ts';
import { OscControl } from './oscControl.ts';
import { OscQueryServer, type OscQueryOptions } from './oscQuery.ts';
import { until } from '../../../../tests/support/wait.ts';
import { OscUdpPort } from '../osc/udp.ts';

const patch = PatchSchema.parse({
  name: 'query',
  streams: { co2: { unit: 'ppm', default: 400 } },
  signals: { level: { from: 'co2', range: [300, 500] } },
  buses: { hall: { type: 'reverb' } },
  voices: { pad: { synth: 'fm', rhythm: { hold: true }, send: { hall: 0.3 } } },
  scenes: { calm: {}, storm: {} },
});

/** A node of the OSCQuery tree, as JSON. */
type N = { CONTENTS: Record<string, N> } & Record<string, unknown>;

let cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const f of cleanup.reverse()) await f();
  cleanup = [];
});

async function setup(options: OscQueryOptions = {}) {
  const player = await startPlayer({ patch, sink: 'none' });
  cleanup.push(() => player.stop());
  const control = new OscControl(player.engine);
  const oscPort = await control.listen('127.0.0.1', 0);
  cleanup.push(() => control.close());
  const q = new OscQueryServer(player.engine, control, { name: patch.name, oscPort }, options);
  const port = await q.listen('127.0.0.1', 0);
  cleanup.push(() => q.close());
  return { player, control, q, oscPort, base: `http://127.0.0.1:${port}` };
}

describe('OscQueryServer', () => {
  it('describes the address space with types, ranges, access and values', async () => {
    const { base, oscPort } = await setup();
    const root = (await (await fetch(`${base}/`)).json()) as N;
    expect(root.FULL_PATH).toBe('/');
    /** The node at a path, failing the test when it is missing. */
    const at = (...parts: string[]): N => parts.reduce((n, p) => n.CONTENTS[p] ?? expect.fail(`no node ${parts.join('/')}`), root);
    const freq = at('eco', 'voice', 'pad', 'filter', 'frequency');
    expect(freq).toMatchObject({ FULL_PATH: '/eco/voice/pad/filter/frequency', TYPE: 'f', ACCESS: 2, RANGE: [{ MIN: 20, MAX: 20000 }] });
    expect(at('eco', 'scene')).toMatchObject({ TYPE: 's', ACCESS: 3, RANGE: [{ VALS: ['calm', 'storm'] }], VALUE: ['calm'] });
    expect(at('eco', 'stream', 'co2')).toMatchObject({ TYPE: 'f', ACCESS: 3, VALUE: [400] });
    expect(at('eco', 'signal', 'level')).toMatchObject({ ACCESS: 1, VALUE: [0.5] });
    const node = (await (await fetch(`${base}/eco/voice/pad/send/hall`)).json()) as Record<string, unknown>;
    expect(node).toMatchObject({ FULL_PATH: '/eco/voice/pad/send/hall', TYPE: 'f' });
    expect(await (await fetch(`${base}/eco/scene?VALUE`)).json()).toEqual({ VALUE: ['calm'] });
    const info = (await (await fetch(`${base}/?HOST_INFO`)).json()) as Record<string, unknown>;
    expect(info).toMatchObject({ OSC_PORT: oscPort, OSC_TRANSPORT: 'UDP', EXTENSIONS: { LISTEN: true, VALUE: true } });
    expect((await fetch(`${base}/eco/nothing`)).status).toBe(404);
  });

  it('pushes listened values over the WebSocket as binary OSC when they change', async () => {
    const { base, player } = await setup();
    const ws = new WebSocket(base.replace('http', 'ws'));
    cleanup.push(async () => void ws.terminate());
    const got: OscMessage[] = [];
    ws.on('message', (d, binary) => binary && got.push(decodePacket(new Uint8Array(d as Buffer)) as OscMessage));
    await new Promise((r) => ws.once('open', r));
    ws.send(JSON.stringify({ COMMAND: 'LISTEN', DATA: '/eco/signal/level' }));
    ws.send(JSON.stringify({ COMMAND: 'LISTEN', DATA: '/eco/scene' }));
    ws.send('not json'); // ignored
    await until(() => got.length >= 2, 'the first values');
    player.engine.update('co2', 450);
    player.engine.setScene('storm');
    await until(() => got.some((m) => m.address === '/eco/signal/level' && m.args[0]!.value === 0.75), 'the new level');
    await until(() => got.some((m) => m.address === '/eco/scene' && m.args[0]!.value === 'storm'), 'the new scene');
    // IGNORE, then LISTEN to another path: commands are handled in order, so once that
    // path's first value comes, the IGNORE has been handled (a fixed sleep was a guess).
    ws.send(JSON.stringify({ COMMAND: 'IGNORE', DATA: '/eco/signal/level' }));
    ws.send(JSON.stringify({ COMMAND: 'LISTEN', DATA: '/eco/stream/co2' }));
    await until(() => got.some((m) => m.address === '/eco/stream/co2'), 'the stream value');
    const n = got.length;
    player.engine.update('co2', 350); // the level changes to 0.25: ignored, not sent
    await until(() => got.some((m) => m.address === '/eco/stream/co2' && m.args[0]!.value === 350), 'the new stream value');
    // A later push as a marker: anything the level's change would have sent came before it.
    player.engine.setScene('calm');
    await until(() => got.some((m) => m.address === '/eco/scene' && m.args[0]!.value === 'calm'), 'the scene back to calm');
    expect(player.engine.values().signals.level).toBeCloseTo(0.25, 9);
    expect(got.slice(n).filter((m) => m.address === '/eco/signal/level')).toEqual([]);
  });

  it('reports a VALUE for every parameter leaf, read from the engine', async () => {
    const { base, player } = await setup();
    const root = (await (await fetch(`${base}/`)).json()) as N;
    const leaves: N[] = [];
    const walk = (n: N) => (n.CONTENTS ? Object.values(n.CONTENTS).forEach(walk) : leaves.push(n));
    walk(root);
    const valueless = leaves.filter((n) => n.VALUE === undefined).map((n) => n.FULL_PATH);
    // Only actions have no value (a trigger, a scene button, panic), and a reverb's feedback (it has none).
    expect(valueless.sort()).toEqual(['/eco/bus/hall/feedback', '/eco/panic', '/eco/scene/calm', '/eco/scene/storm', '/eco/voice/pad/trigger']);
    const value = async (path: string) => ((await (await fetch(`${base}${path}?VALUE`)).json()) as { VALUE: number[] }).VALUE[0]!;
    expect(await value('/eco/voice/pad/send/hall')).toBeCloseTo(0.3, 4);
    expect(await value('/eco/master/volume')).toBeCloseTo(player.engine.parameterValue('master.volume')!, 3);
    expect(await value('/eco/voice/pad/density')).toBe(patch.voices.pad!.density);
    player.engine.setParameter('pad.filter.frequency', 900);
    await until(() => Math.abs(player.engine.parameterValue('pad.filter.frequency')! - 900) < 0.01, 'the ramp to 900 Hz');
    expect(await value('/eco/voice/pad/filter/frequency')).toBeCloseTo(900, 1);
  });

  it('LISTEN on /eco/master/volume pushes when the volume changes', async () => {
    const { base, player } = await setup();
    const ws = new WebSocket(base.replace('http', 'ws'));
    cleanup.push(async () => void ws.terminate());
    const got: OscMessage[] = [];
    ws.on('message', (d, binary) => binary && got.push(decodePacket(new Uint8Array(d as Buffer)) as OscMessage));
    await new Promise((r) => ws.once('open', r));
    ws.send(JSON.stringify({ COMMAND: 'LISTEN', DATA: '/eco/master/volume' }));
    await until(() => got.length >= 1, 'the first volume');
    expect(got[0]!.args[0]!.value as number).toBeGreaterThan(-60);
    player.engine.setParameter('master.volume', -20);
    await until(() => got.some((m) => Math.abs((m.args[0]!.value as number) + 20) < 0.01), 'the new volume');
    expect(got.every((m) => m.address === '/eco/master/volume')).toBe(true);
  });

  it('bounds LISTENs per client and clients; the excess is refused and counted', async () => {
    const { base, q } = await setup({ maxListens: 3, maxClients: 2 });
    const open = async () => {
      const ws = new WebSocket(base.replace('http', 'ws'));
      cleanup.push(async () => void ws.terminate());
      const got: OscMessage[] = [];
      ws.on('message', (d, binary) => binary && got.push(decodePacket(new Uint8Array(d as Buffer)) as OscMessage));
      await new Promise((r) => ws.once('open', r));
      return { ws, got };
    };
    const a = await open();
    const paths = ['/eco/scene', '/eco/stream/co2', '/eco/signal/level', '/eco/tempo', '/eco/mute'];
    for (const p of paths) a.ws.send(JSON.stringify({ COMMAND: 'LISTEN', DATA: p }));
    for (let i = 0; i < 1000; i++) a.ws.send(JSON.stringify({ COMMAND: 'LISTEN', DATA: `/eco/nothing/${i}` }));
    await until(() => q.stats.refusedListens === 1002, 'the refused LISTENs');
    await until(() => a.got.length >= 3, 'three values');
    await new Promise((r) => setTimeout(r, 200));
    expect(new Set(a.got.map((m) => m.address))).toEqual(new Set(paths.slice(0, 3)));
    await open();
    const c = new WebSocket(base.replace('http', 'ws'));
    cleanup.push(async () => void c.terminate());
    const closed = await new Promise<number>((r) => c.once('close', (code) => r(code)));
    expect(closed).toBe(1013);
    expect(q.stats.refusedClients).toBe(1);
  });
});

describe('positions in the address space', () => {
  const ring = PatchSchema.parse({
    name: 'ring',
    streams: { co2: { default: 400 } },
    output: { layout: 'ring', channels: 4 },
    buses: { hall: { type: 'reverb', position: 180 } },
    voices: {
      pad: { synth: 'fm', rhythm: { hold: true }, position: 90 },
      wob: { synth: 'synth', rhythm: { hold: true }, position: { orbit: 20 } },
    },
  });

  it('reads each voice and bus position over OSCQuery, and sets a fixed one over real UDP (a moving one is refused, saying why)', async () => {
    const player = await startPlayer({ patch: ring, sink: 'none' });
    cleanup.push(() => player.stop());
    const control = new OscControl(player.engine);
    const oscPort = await control.listen('127.0.0.1', 0);
    cleanup.push(() => control.close());
    const q = new OscQueryServer(player.engine, control, { name: ring.name, oscPort });
    const base = `http://127.0.0.1:${await q.listen('127.0.0.1', 0)}`;
    cleanup.push(() => q.close());
    const get = async (path: string) => (await (await fetch(`${base}${path}`)).json()) as Record<string, unknown>;
    const value = async (path: string) => ((await get(`${path}?VALUE`)).VALUE as number[])[0];
    /** Polls the server until `ok` holds of the value at `path`. */
    const eventually = async (path: string, ok: (v: number | undefined) => boolean) => {
      let v = await value(path);
      for (let i = 0; i < 200 && !ok(v); i++) {
        await new Promise((r) => setTimeout(r, 50));
        v = await value(path);
      }
      expect(ok(v), `${path} = ${v}`).toBe(true);
    };
    expect(await get('/eco/voice/pad/position')).toMatchObject({ TYPE: 'f', ACCESS: 3, VALUE: [90], RANGE: [{ MIN: -180, MAX: 360 }] });
    expect(await get('/eco/bus/hall/position')).toMatchObject({ ACCESS: 3, VALUE: [180] });
    // An orbit moves by itself: read only, and its value moves.
    const wob = await get('/eco/voice/wob/position');
    expect(wob).toMatchObject({ ACCESS: 1 });
    expect(String(wob.DESCRIPTION)).toContain('moves by itself');
    const first = (wob.VALUE as number[])[0]!;
    await eventually('/eco/voice/wob/position', (v) => v !== first);

    const tx = new OscUdpPort();
    await tx.open({ host: '127.0.0.1', port: 0 });
    cleanup.push(() => tx.close());
    await tx.send({ address: '/eco/voice/pad/position', args: [{ type: 'f', value: -45 }] }, '127.0.0.1', oscPort);
    await eventually('/eco/voice/pad/position', (v) => v === -45);
    // The engine's space (what telemetry sends) has it too, with the layout's speakers.
    expect(player.engine.space()).toMatchObject({ layout: 'ring', kind: 'circle', speakers: [0, 90, 180, 270], places: { pad: -45, hall: 180 } });
    await tx.send({ address: '/eco/voice/wob/position', args: [{ type: 'f', value: 10 }] }, '127.0.0.1', oscPort);
    await until(() => control.stats.rejected > 0, 'the moving position refused');
    expect(control.stats.lastError).toBe('/eco/voice/wob/position: wob.position: wob moves by itself (its position is not fixed); only a fixed position can be set');
  }, 60_000);
});
