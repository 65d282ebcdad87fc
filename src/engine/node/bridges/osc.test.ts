/**
 * The OSC bridges over real UDP: control in (from liblo's oscsend and our own
 * port, with patterns, bundles and wrong arguments), and out to a receiver
 * (liblo's oscdump and our own port) with values in the receiver's range.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { execFile, spawn } from 'node:child_process';
import { PatchSchema } from '../../core/patchSchema.ts';
import { epochSecondsToTimetag, type OscMessage } from '../../core/osc/codec.ts';
import { startPlayer, type Player } from '../realtime.ts';
import { OscUdpPort, type OscReceived } from '../osc/udp.ts';
import { OscControl, controlAddresses } from './oscControl.ts';
import { OscOutBridge, parseHostPort } from './oscOut.ts';
import { freePort } from '../../../../tests/support/mosquitto.ts';
import { until } from '../../../../tests/support/wait.ts';
import { HAVE_LIBLO, NEEDS_LIBLO } from '../../../../tests/support/liblo.ts';

const patch = PatchSchema.parse({
  name: 'osc',
  tempo: 150,
  streams: { level: { default: 0 } },
  signals: { glow: { from: 'level', range: [0, 10], threshold: { above: 0.8 } } },
  buses: { hall: { type: 'reverb' } },
  voices: {
    pad: { synth: 'fm', rhythm: { hold: true } },
    kick: { synth: 'membrane', rhythm: { euclid: [4, 16] }, notes: { mode: 'fixed', note: 'C2' } },
  },
  scenes: { calm: {}, storm: {} },
  osc: {
    out: {
      rate: 50,
      messages: [
        { address: '/rig/glow', from: 'signal:glow', range: [0, 255], int: true },
        { address: '/rig/level', from: 'stream:level' },
        { address: '/rig/kick', from: 'note:kick' },
        { address: '/rig/beat', from: 'beat' },
        { address: '/rig/scene', from: 'scene' },
        { address: '/rig/alarm', from: 'threshold:glow' },
      ],
    },
  },
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

async function udp(): Promise<{ port: OscUdpPort; got: OscReceived[]; number: number }> {
  const got: OscReceived[] = [];
  const port = new OscUdpPort({ onMessage: (r) => got.push(r) });
  const { port: number } = await port.open({ host: '127.0.0.1', port: 0 });
  cleanup.push(() => port.close());
  return { port, got, number };
}

describe('OSC control in', () => {
  it('lists an address for every parameter, scene, stream and action of the patch', () => {
    const a = controlAddresses(patch).map((x) => x.address);
    expect(a).toContain('/eco/voice/pad/filter/frequency');
    expect(a).toContain('/eco/voice/kick/send/hall');
    expect(a).toContain('/eco/bus/hall/wet');
    expect(a).toContain('/eco/scene/storm');
    expect(a).toContain('/eco/stream/level');
    expect(a).toEqual(expect.arrayContaining(['/eco/master/volume', '/eco/tempo', '/eco/scene', '/eco/mute', '/eco/panic']));
    expect(new Set(a).size).toBe(a.length);
  });

  it.skipIf(!HAVE_LIBLO)(`plays the engine from oscsend and from patterns, bundles and wrong arguments${NEEDS_LIBLO}`, async () => {
    const p = await player();
    const calls: Array<[string, number]> = [];
    const set = p.engine.setParameter.bind(p.engine);
    p.engine.setParameter = (t, v, time) => (calls.push([t, v]), set(t, v, time));
    const control = new OscControl(p.engine);
    cleanup.push(() => control.close());
    const port = await control.listen('127.0.0.1', await freePort());
    const oscsend = (...args: string[]) => new Promise<void>((res, rej) => execFile('oscsend', ['127.0.0.1', String(port), ...args], (e) => (e ? rej(e) : res())));

    await oscsend('/eco/voice/pad/filter/frequency', 'f', '800');
    await oscsend('/eco/scene', 's', 'storm');
    await oscsend('/eco/stream/level', 'f', '9.5');
    await until(() => control.stats.applied === 3, 'three controls');
    expect(calls).toEqual([['pad.filter.frequency', 800]]);
    expect(p.engine.values().scene).toBe('storm');
    expect(p.engine.values().streams.level).toBe(9.5);

    const tx = await udp();
    // A pattern reaches every matching address: both voices' volume.
    await tx.port.send({ address: '/eco/voice/*/volume', args: [{ type: 'f', value: -12 }] }, '127.0.0.1', port);
    await until(() => calls.length === 3, 'two volume calls');
    expect(calls.slice(1).sort()).toEqual([
      ['kick.volume', -12],
      ['pad.volume', -12],
    ]);
    // A bundle 5 s ahead is applied at that time on the engine's clock: the timetag's
    // distance from the wall clock when it was handled, added to the audio clock then.
    // (Compared with both clocks read as it is applied: on a loaded machine the audio
    // clock lags the wall, and a message can wait long in the socket.)
    const engineAt = p.engine.setParameter;
    let scheduledAt = 0;
    let audioAt = 0;
    let wallAt = 0;
    p.engine.setParameter = (t, v, time) => ((scheduledAt = time ?? NaN), (audioAt = p.raw.currentTime), (wallAt = Date.now() / 1000), engineAt(t, v, time));
    const due = Date.now() / 1000 + 5;
    await tx.port.send({ timetag: epochSecondsToTimetag(due), elements: [{ address: '/eco/tempo', args: [{ type: 'f', value: 100 }] }] }, '127.0.0.1', port);
    await until(() => scheduledAt > 0, 'the tempo');
    expect(scheduledAt - audioAt).toBeCloseTo(due - wallAt, 1);
    expect(scheduledAt - audioAt).toBeGreaterThan(1); // not applied at once
    // Wrong arguments are counted with a reason.
    const rejected = control.stats.rejected;
    await tx.port.send({ address: '/eco/tempo', args: [{ type: 's', value: 'fast' }] }, '127.0.0.1', port);
    await tx.port.send({ address: '/eco/scene', args: [{ type: 's', value: 'nowhere' }] }, '127.0.0.1', port);
    await until(() => control.stats.rejected === rejected + 2, 'two rejections');
    expect(control.stats.lastError).toBe('/eco/scene: no scene "nowhere" (scenes: calm, storm)');
    // Mute and panic.
    await tx.port.send({ address: '/eco/mute', args: [{ type: 'i', value: 1 }] }, '127.0.0.1', port);
    await until(() => p.engine.muted, 'muted');
    await tx.port.send({ address: '/eco/mute', args: [{ type: 'i', value: 0 }] }, '127.0.0.1', port);
    await until(() => !p.engine.muted, 'unmuted');
    await tx.port.send({ address: '/eco/panic', args: [] }, '127.0.0.1', port);
    await until(() => p.engine.muted, 'panic');
  });
});

describe('OSC control budget', () => {
  const rx = (address: string, value: number): OscReceived => ({
    message: { address, args: [{ type: 'f', value }] },
    sender: { address: '127.0.0.1', port: 1, family: 'IPv4' },
    time: undefined,
    late: false,
  });
  /** One packet: its messages in one turn, applied together at its end. */
  const packet = async (control: OscControl, ...messages: OscReceived[]) => {
    for (const m of messages) control.handle(m);
    await Promise.resolve();
  };

  it('past the per-second budget, the latest value per address waits for the next second; those it replaces are dropped', async () => {
    const p = await player();
    const control = new OscControl(p.engine, undefined, { maxPerSecond: 3 });
    cleanup.push(() => control.close());
    const density = '/eco/voice/pad/density';
    await packet(control, rx(density, 0.1), rx('/eco/voice/pad/pan', 0.5), rx('/eco/voice/kick/pan', -0.5));
    expect(control.stats.applied).toBe(3);
    await packet(control, rx(density, 0.2), rx(density, 0.3)); // coalesced, then over budget: waits
    await packet(control, rx(density, 0.4)); // replaces the waiting 0.3
    expect(control.stats).toMatchObject({ applied: 3, coalesced: 1, dropped: 1 });
    expect(p.engine.parameterValue('pad.density')).toBeCloseTo(0.1, 6);
    await until(() => control.stats.applied === 4, 'the waiting density in the next second', 5_000);
    expect(p.engine.parameterValue('pad.density')).toBeCloseTo(0.4, 6); // the last value sent is never lost
  });
});

describe('OSC out', () => {
  it('sends signals in the receiver range, notes, beats, scenes and thresholds', { timeout: 150_000 }, async () => {
    const p = await player();
    const rx = await udp();
    const bridge = new OscOutBridge(p.engine, patch.osc!.out!, [{ host: '127.0.0.1', port: rx.number }]);
    await bridge.start();
    cleanup.push(() => bridge.stop());
    p.engine.update('level', 5);
    await until(() => rx.got.some((r) => r.message.address === '/rig/glow' && r.message.args[0]!.value === 128), 'glow at half');
    p.engine.update('level', 10);
    await until(() => rx.got.some((r) => r.message.address === '/rig/alarm'), 'the threshold');
    p.engine.setScene('storm');
    await until(() => rx.got.some((r) => r.message.address === '/rig/scene'), 'the scene');
    // Beats follow the audio clock, which on a loaded machine was seen at a tenth of wall speed.
    await until(() => rx.got.filter((r) => r.message.address === '/rig/beat').length >= 3, 'three beats', 90_000);
    const by = (a: string) => rx.got.filter((r) => r.message.address === a).map((r) => r.message);
    expect(by('/rig/glow').map((m) => m.args[0])).toEqual(expect.arrayContaining([{ type: 'i', value: 128 }, { type: 'i', value: 255 }]));
    expect(by('/rig/level').at(-1)!.args).toEqual([{ type: 'f', value: 10 }]);
    expect(by('/rig/alarm')[0]!.args).toEqual([{ type: 'i', value: 1 }]);
    expect(by('/rig/scene')[0]!.args).toEqual([{ type: 's', value: 'storm' }]);
    const kick = by('/rig/kick')[0] as OscMessage;
    expect(kick.args.map((a) => a.type).join('')).toBe('iff');
    expect(kick.args[0]).toEqual({ type: 'i', value: 36 });
    // Beats arrive when due: 150 BPM is 0.4 s apart.
    const beats = rx.got.filter((r) => r.message.address === '/rig/beat');
    const at = beats.map((b) => b.message.args[0]!.value as number);
    expect(at.slice(1).map((b, i) => b - at[i]!)).toEqual(at.slice(1).map(() => 1));
    expect(bridge.stats.errors).toBe(0);
  });

  it.skipIf(!HAVE_LIBLO)(`reaches liblo oscdump (a real receiver)${NEEDS_LIBLO}`, async () => {
    const p = await player();
    const port = await freePort();
    const dump = spawn('oscdump', ['-L', String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    dump.stdout.on('data', (d: Buffer) => (out += d.toString()));
    cleanup.push(async () => void dump.kill());
    const bridge = new OscOutBridge(p.engine, patch.osc!.out!, [{ host: '127.0.0.1', port }]);
    await bridge.start();
    cleanup.push(() => bridge.stop());
    // oscdump says nothing when it has bound its port, and what is sent before is lost (on a
    // loaded machine it can take seconds to start): change the level back and forth, so the
    // bridge sends again, until oscdump shows it.
    const shown = () => out.includes('/rig/level f 2.500000') && out.includes('/rig/glow i 64');
    for (let k = 0; !shown(); k++) {
      p.engine.update('level', k % 2 ? 2.4 : 2.5);
      await until(() => shown(), 'oscdump lines', 200).catch(() => undefined);
      if (k > 300) throw new Error(`oscdump did not show the level; it printed ${JSON.stringify(out)}`);
    }
  });

  it('parses HOST:PORT', () => {
    expect(parseHostPort('127.0.0.1:7000')).toEqual({ host: '127.0.0.1', port: 7000 });
    expect(parseHostPort('desk.local:9')).toEqual({ host: 'desk.local', port: 9 });
    expect(parseHostPort('7000')).toMatch(/expected HOST:PORT/);
    expect(parseHostPort('h:70000')).toMatch(/expected HOST:PORT/);
  });
});
