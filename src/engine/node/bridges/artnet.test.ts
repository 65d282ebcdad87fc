/**
 * Art-Net from a playing patch, received by a test socket and decoded: a
 * channel follows its signal, beats flash, a panic blacks out at once, and the
 * frame rate stays under its cap.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createSocket, type Socket } from 'node:dgram';
import { PatchSchema } from '../../core/patchSchema.ts';
import { decodeArtDmx, type ArtDmx } from '../../core/lighting.ts';
import { startPlayer, type Player } from '../realtime.ts';
import { ArtNetBridge, parseArtNetArg, rigFor } from './artnet.ts';
import { until } from '../../../../tests/support/wait.ts';

const patch = PatchSchema.parse({
  name: 'lights',
  tempo: 120,
  streams: { level: { default: 0 } },
  signals: { glow: { from: 'level', range: [0, 100] } },
  voices: { kick: { synth: 'membrane', rhythm: { euclid: [4, 16] } } },
  lighting: {
    artnet: { universe: 3, fps: 20 },
    channels: [{ channel: 1, from: 'glow', fade: 0 }],
    flashes: [{ channel: 10, on: 'beat', decay: 0.2 }],
  },
});

let cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const f of cleanup.reverse()) await f();
  cleanup = [];
});

async function receiver(): Promise<{ socket: Socket; port: number; frames: Array<ArtDmx & { at: number }>; bad: string[] }> {
  const socket = createSocket('udp4');
  const frames: Array<ArtDmx & { at: number }> = [];
  const bad: string[] = [];
  socket.on('message', (msg) => {
    const d = decodeArtDmx(new Uint8Array(msg));
    if (typeof d === 'string') bad.push(d);
    else frames.push({ ...d, at: performance.now() });
  });
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', () => r()));
  cleanup.push(() => new Promise<void>((r) => socket.close(() => r())));
  return { socket, port: socket.address().port, frames, bad };
}

describe('ArtNetBridge', () => {
  it('drives a DMX universe from a playing patch', async () => {
    const rx = await receiver();
    const player: Player = await startPlayer({ patch, sink: 'none' });
    cleanup.push(() => player.stop());
    const bridge = new ArtNetBridge(player.engine, rigFor(patch.lighting!), { host: '127.0.0.1', port: rx.port, universe: 3, fps: 20 });
    bridge.start();
    cleanup.push(() => bridge.stop());

    player.engine.update('level', 50);
    await until(() => rx.frames.some((f) => f.data[0] === 128), 'channel 1 at half');
    player.engine.update('level', 100);
    await until(() => rx.frames.some((f) => f.data[0] === 255), 'channel 1 full');
    // Beats at 120 BPM flash channel 10: a bright frame, and a dark one after it (the flash decays).
    // Waited for rather than slept: the audio clock, and so the beats, run late on a loaded machine.
    const bright = () => rx.frames.findIndex((f) => f.data[9]! > 150);
    await until(() => bright() >= 0, 'a beat flash on channel 10');
    await until(() => rx.frames.slice(bright()).some((f) => f.data[9] === 0), 'the flash decayed to dark');
    expect(rx.frames.every((f) => f.universe === 3)).toBe(true);
    expect(rx.bad).toEqual([]);
    // Frame rate: at most 20 per second (plus forced blackout frames, none yet).
    const span = (rx.frames[rx.frames.length - 1]!.at - rx.frames[0]!.at) / 1000;
    expect(rx.frames.length - 1).toBeLessThanOrEqual(Math.ceil(span * 20) + 1);
    // Sequence numbers run 1…255.
    expect(rx.frames.every((f) => f.sequence >= 1 && f.sequence <= 255)).toBe(true);

    // Panic: a dark frame goes out at once, inside panic(), not at the next frame. Counted
    // when sent rather than timed on arrival: a loaded machine delays any arrival.
    const before = rx.frames.length;
    const sent = bridge.stats.frames;
    player.engine.panic();
    expect(bridge.stats.frames).toBe(sent + 1);
    // (A frame sent just before the panic may still arrive first: look for the first dark one.)
    const dark = () => rx.frames.findIndex((f, i) => i >= before && f.data.every((b) => b === 0));
    await until(() => dark() >= 0, 'the blackout frame');
    await new Promise((r) => setTimeout(r, 300));
    expect(rx.frames.slice(dark()).every((f) => f.data.every((b) => b === 0))).toBe(true);
    player.engine.setMuted(false);
    await until(() => rx.frames[rx.frames.length - 1]!.data[0] === 255, 'the look back after unmute');
    expect(bridge.stats.errors).toBe(0);
  });

  it('parses --artnet HOST[:UNIVERSE]', () => {
    expect(parseArtNetArg('10.0.0.5')).toEqual({ host: '10.0.0.5', universe: undefined });
    expect(parseArtNetArg('10.0.0.5:12')).toEqual({ host: '10.0.0.5', universe: 12 });
    expect(parseArtNetArg('h:99999')).toMatch(/above 32767/);
    expect(parseArtNetArg('a:b:c')).toMatch(/expected HOST or HOST:UNIVERSE/);
  });
});

describe('sACN output', () => {
  it('sends E1.31 frames of the rig, and "stream terminated" when it stops', async () => {
    const { decodeSacn } = await import('../../core/lighting.ts');
    const socket = createSocket('udp4');
    const got: Array<Exclude<ReturnType<typeof decodeSacn>, string>> = [];
    socket.on('message', (m) => {
      const d = decodeSacn(new Uint8Array(m));
      if (typeof d !== 'string') got.push(d);
    });
    await new Promise<void>((r) => socket.bind(0, '127.0.0.1', () => r()));
    const player = await startPlayer({ patch, sink: 'none' });
    const bridge = new ArtNetBridge(player.engine, rigFor(patch.lighting!), { protocol: 'sacn', host: '127.0.0.1', port: socket.address().port, universe: 7, fps: 20 });
    bridge.start();
    player.engine.update('level', 100);
    await until(() => got.some((f) => f.data[0] === 255), 'channel 1 full');
    await bridge.stop();
    await player.stop();
    await until(() => got.filter((f) => f.terminated).length === 3, 'three terminate packets');
    socket.close();
    expect(got.every((f) => f.universe === 7 && f.sourceName === 'Eco-Symphony' && f.cid.length === 16)).toBe(true);
    expect(new Set(got.map((f) => Buffer.from(f.cid).toString('hex'))).size).toBe(1);
  });
});
