/**
 * The session in real time with no audio device (`sink: 'none'`): commands,
 * the snapshot, a hot swap measured on a recording of the output, OSC stream
 * values through the hub's gate over a real UDP socket, and hostile messages.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createSocket } from 'node:dgram';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeMessage } from '../../core/osc/codec.ts';
import { controlAddresses } from '../bridges/oscControl.ts';
import { loadPatchFile } from '../files.ts';
import { Session } from './Session.ts';
import { SessionEvent as EventSchema, Snapshot, TelemetryFrame as FrameSchema, type Reply, type SessionEvent, type TelemetryFrame } from '../../../shared/protocol.ts';
import { until } from '../../../../tests/support/wait.ts';

const dir = mkdtempSync(join(tmpdir(), 'ecosym-session-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A held sine chord: a smooth signal, so a click at a swap stands out. */
function patchYaml(name: string, octave: number, extra = ''): string {
  return `name: ${name}
tempo: 90
streams:
  co2: { unit: ppm, default: 400, valid: [0, 2000], maxRate: 50 }
  wind: { unit: m/s, default: 3 }
signals:
  level: { from: co2, range: [300, 500] }
voices:
  pad:
    synth: synth
    oscillator: sine
    volume: -6
    envelope: { attack: 0.3, release: 1 }
    notes: { mode: chord, octave: ${octave} }
    rhythm: { hold: true }
scenes:
  calm: {}
  storm: {}
${extra}`;
}
const fileA = join(dir, 'a.yaml');
const fileB = join(dir, 'b.yaml');
writeFileSync(fileA, patchYaml('alpha', 3));
writeFileSync(fileB, patchYaml('beta', 3));

let session: Session;
const events: SessionEvent[] = [];

async function ok(cmd: unknown): Promise<unknown> {
  const r: Reply = await session.handle(cmd);
  if (!r.ok) throw new Error(`${JSON.stringify(cmd)}: ${r.error}`);
  return r.data;
}

async function fails(cmd: unknown): Promise<string> {
  const r = await session.handle(cmd);
  if (r.ok) throw new Error(`${JSON.stringify(cmd)} was accepted`);
  return r.error;
}

/** Reads a float WAV the recorder wrote: interleaved stereo after the 44-byte header. */
function readWav(path: string): { left: Float32Array; sampleRate: number } {
  const b = readFileSync(path);
  expect(b.toString('ascii', 0, 4)).toBe('RIFF');
  expect(b.readUInt16LE(20)).toBe(3);
  const bytes = b.readUInt32LE(40);
  expect(bytes).toBe(b.length - 44);
  const all = new Float32Array(b.buffer.slice(b.byteOffset + 44, b.byteOffset + 44 + bytes));
  const left = new Float32Array(all.length / 2);
  for (let i = 0; i < left.length; i++) left[i] = all[i * 2]!;
  return { left, sampleRate: b.readUInt32LE(24) };
}

/**
 * Largest sample-to-sample jump of the signal's slope, |x[n] − 2x[n−1] + x[n−2]|,
 * over [from, to). A low sine chord's slope hardly moves from one sample to the
 * next (about (2πf/sr)² of its amplitude), whatever the chord and however two
 * patches' chords add up in a crossfade; a click (a cut, a gain step, a
 * restarted oscillator) moves it by a good part of the amplitude at once.
 */
function maxKink(x: Float32Array, from: number, to: number): number {
  let m = 0;
  for (let i = Math.max(2, from); i < Math.min(x.length, to); i++) m = Math.max(m, Math.abs(x[i]! - 2 * x[i - 1]! + x[i - 2]!));
  return m;
}

beforeAll(async () => {
  session = await Session.open({ patch: loadPatchFile(fileA), sink: 'none', cacheDir: false, midi: false, patchesDir: dir, oscIn: { host: '127.0.0.1', port: 0 } });
  session.onEvent((e) => events.push(e));
  await session.start();
  // Generous: a loaded machine may take seconds before the first audible block.
  await until(() => (session.snapshot().rmsDb ?? -Infinity) > -40, 'the pad to sound', 30_000);
}, 60_000);
afterAll(async () => {
  await session?.stop();
});

describe('Session', () => {
  it('plays the patch it was opened with, and says so in its snapshot', () => {
    const s = session.snapshot();
    expect(s.patch?.name).toBe('alpha');
    expect(s.muted).toBe(false);
    expect(s.rmsDb!).toBeGreaterThan(-40);
    expect(s.peakDb!).toBeLessThanOrEqual(0);
    expect(s.engine).toMatchObject({ sink: 'none', errors: 0 });
    expect(s.bridges.oscIn).toMatchObject({ address: '127.0.0.1' });
    expect(Object.keys(s.streams)).toEqual(['co2', 'wind']);
    // What hosts send is what the protocol says.
    expect(Snapshot.safeParse(s).error).toBeUndefined();
  });

  it('every command changes the snapshot', async () => {
    await ok({ type: 'scene', name: 'storm' });
    await until(() => session.snapshot().scene === 'storm', 'the scene to change');

    await ok({ type: 'tempo', bpm: 133 });
    expect(session.snapshot()).toMatchObject({ tempoFixed: 133 });
    await until(() => session.snapshot().tempo === 133, 'the tempo to apply');
    await ok({ type: 'tempo', bpm: null });
    expect(session.snapshot().tempoFixed).toBeNull();

    await ok({ type: 'param', target: 'master.volume', value: -20 });
    await until(() => Math.abs(session.engine.master.volumeAt(session.player.raw.currentTime) + 20) < 0.5, 'master volume −20 dB');
    await ok({ type: 'param', target: 'master.volume', value: -6 });

    await ok({ type: 'mute', on: true });
    expect(session.snapshot().muted).toBe(true);
    await ok({ type: 'mute', on: false });
    expect(session.snapshot().muted).toBe(false);
    await ok({ type: 'panic' });
    expect(session.snapshot().muted).toBe(true);
    expect(events.some((e) => e.type === 'mute' && e.panic)).toBe(true);
    await ok({ type: 'mute', on: false });

    await ok({ type: 'inject', stream: 'co2', value: 450 });
    expect(session.snapshot().streams.co2).toMatchObject({ raw: 450, accepted: 1 });
    await until(() => (session.snapshot().streams.co2!.conditioned.level ?? 0) > 0.7, 'the level signal to follow co2');

    await ok({ type: 'freeze', stream: 'co2', on: true });
    expect(session.snapshot().streams.co2).toMatchObject({ frozen: true, raw: 450 });
    expect(await fails({ type: 'inject', stream: 'co2', value: 300 })).toMatch(/frozen/);
    await ok({ type: 'freeze', stream: 'co2', on: false });
    // maxRate is 50 ppm/s: a jump of 1,000 ppm at once is a spike, 10 ppm after 0.3 s is believable.
    expect(await fails({ type: 'inject', stream: 'co2', value: 1450 })).toMatch(/refused \(spike\)/);
    expect(session.snapshot().streams.co2!.rejected.spike).toBe(1);
    await new Promise((r) => setTimeout(r, 300));
    await ok({ type: 'inject', stream: 'co2', value: 460 });
    expect(session.snapshot().streams.co2).toMatchObject({ frozen: false, raw: 460 });

    await ok({ type: 'rebind', stream: 'wind', uri: 'sim:sine?min=2&max=4&period=10' });
    const wind = session.snapshot().streams.wind!;
    expect(wind.uri).toMatch(/^sim:sine/);
    await until(() => typeof session.snapshot().streams.wind!.raw === 'number', 'the rebound source to deliver');
    expect(await fails({ type: 'rebind', stream: 'wind', uri: 'gopher://x' })).toMatch(/gopher|scheme|source/i);

    const patches = (await ok({ type: 'list', what: 'patches' })) as Array<{ id: string }>;
    expect(patches.map((p) => p.id)).toContain('carbon-pulse');
    expect(((await ok({ type: 'snapshot' })) as { patch: { name: string } }).patch.name).toBe(session.snapshot().patch?.name);
    // With no MIDI ports (midi: false) learning still works: a bridge for page ports (midiIn) starts on demand.
    expect(await fails({ type: 'midiLearn', target: 'pad.nothing' })).toMatch(/voice "pad" has no parameter "nothing"/);
    await ok({ type: 'midiLearn', target: 'pad.volume' });
    expect(session.bridges.midi).toBeDefined();
    expect(await fails({ type: 'scene', name: 'nowhere' })).toMatch(/no scene "nowhere" \(scenes: calm, storm\)/);
    expect(await fails({ type: 'param', target: 'pad.wobble', value: 1 })).toMatch(/voice "pad" has no parameter "wobble"/);
  }, 60_000);

  it('records the output to a .part file, renamed to the WAV when stopped', async () => {
    const path = join(dir, 'out', 'take.wav');
    expect(await ok({ type: 'record', action: 'start', path: 'take.wav' })).toEqual({ path });
    expect(existsSync(`${path}.part`)).toBe(true);
    expect(await fails({ type: 'record', action: 'start', path: 'take.wav' })).toMatch(/already recording/);
    await until(() => (session.snapshot().recording?.seconds ?? 0) > 0.5, 'half a second recorded', 20_000);
    const data = (await ok({ type: 'record', action: 'stop' })) as { seconds: number };
    expect(existsSync(`${path}.part`)).toBe(false);
    const { left, sampleRate } = readWav(path);
    expect(left.length / sampleRate).toBeCloseTo(data.seconds, 3);
    let power = 0;
    for (const x of left) power += x * x;
    expect(20 * Math.log10(Math.sqrt(power / left.length))).toBeGreaterThan(-40);
  }, 30_000);

  it('a parameter is clamped to the range OSCQuery advertises (one table: detune)', async () => {
    const range = controlAddresses(session.engine.patch!).find((a) => a.target === 'pad.detune')!.range!;
    await ok({ type: 'param', target: 'pad.detune', value: 1000 });
    await until(() => Math.abs((session.engine.parameterValue('pad.detune') ?? 0) - 1000) < 1, 'detune 1000 cents');
    expect(1000).toBeLessThanOrEqual(range[1]);
    const r = (await ok({ type: 'param', target: 'pad.detune', value: 1e6 })) as { value: number };
    expect(r.value).toBe(range[1]);
    await until(() => Math.abs((session.engine.parameterValue('pad.detune') ?? 0) - range[1]) < 1, 'detune at the advertised maximum');
    await ok({ type: 'param', target: 'pad.detune', value: 0 });
  }, 30_000);

  it('refuses and counts OSC stream values that are not finite or out of range, over a real socket', async () => {
    const port = (session.snapshot().bridges.oscIn as { port: number }).port;
    const sock = createSocket('udp4');
    const send = (value: number) =>
      new Promise<void>((res, rej) => sock.send(encodeMessage({ address: '/eco/stream/co2', args: [{ type: 'f', value }] }), port, '127.0.0.1', (e) => (e ? rej(e) : res())));
    try {
      const before = session.snapshot().streams.co2!;
      await send(Number.NaN);
      await send(Number.POSITIVE_INFINITY);
      await send(1e6);
      await until(() => {
        const r = session.snapshot().streams.co2!.rejected;
        return (r['non-finite'] ?? 0) >= (before.rejected['non-finite'] ?? 0) + 2 && (r['out-of-range'] ?? 0) >= (before.rejected['out-of-range'] ?? 0) + 1;
      }, 'the gate to refuse three OSC values');
      expect(session.snapshot().streams.co2!.raw).toBe(before.raw);
      expect(session.engine.values().streams.co2).toBe(before.raw);
      await send(470);
      await until(() => session.snapshot().streams.co2!.raw === 470, 'a good OSC value to pass');
      expect(events.some((e) => e.type === 'error' && /osc stream co2/.test(e.where))).toBe(true);
    } finally {
      sock.close();
    }
  }, 30_000);

  it('sends telemetry frames only while subscribed', async () => {
    const frames: TelemetryFrame[] = [];
    const off = session.onTelemetry((f) => frames.push(f));
    await until(() => frames.length >= 3, 'three telemetry frames', 20_000);
    off();
    const f = frames[frames.length - 1]!;
    expect(FrameSchema.safeParse(f).error).toBeUndefined();
    expect(f.peak).toHaveLength(2);
    expect(f.rms[0]!).toBeGreaterThan(0.001);
    expect(f.spectrum).toHaveLength(32);
    expect(Math.max(...f.spectrum)).toBeGreaterThan(-80);
    expect(f.scope).toHaveLength(256);
    expect(f.streams.co2).toBe(470);
    const n = frames.length;
    await new Promise((r) => setTimeout(r, 300));
    expect(frames.length).toBe(n);
  }, 30_000);

  it('answers hostile and random messages with error replies and keeps answering', async () => {
    const hostile: unknown[] = [
      'x'.repeat(1_000_000),
      '['.repeat(100_000),
      { type: 'param', target: 'pad.volume', value: '0; rm -rf /' },
      { type: 'inject', stream: 'co2', value: { $gt: 1 } },
      { type: 'load', patch: { path: '/etc/passwd' } },
      { type: 'load', patch: { text: 'name: [' } },
      { type: '__proto__' },
      JSON.parse('{"type":"panic","__proto__":{"polluted":1}}'),
    ];
    for (const h of hostile) expect((await session.handle(h)).ok).toBe(false);
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.anything({ maxDepth: 5 }), fc.json(), fc.record({ type: fc.constantFrom('param', 'inject', 'load', 'rebind', 'record'), value: fc.anything() })), async (x) => {
        const r = await session.handle(x);
        expect(typeof r.ok).toBe('boolean');
      }),
      { numRuns: 1000 },
    );
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(session.snapshot().patch?.name).toBe('alpha');
    expect((await session.handle({ type: 'snapshot', id: 'still-there' })).id).toBe('still-there');
  }, 60_000);

  it('hot-swaps to another patch with no click, keeping scene, tempo and stream values', async () => {
    await ok({ type: 'scene', name: 'calm' });
    await ok({ type: 'tempo', bpm: 100 });
    const path = join(dir, 'out', 'swap.wav');
    await ok({ type: 'record', action: 'start', path: 'swap.wav' });
    await until(() => (session.snapshot().recording?.seconds ?? 0) > 1, 'a second before the swap', 20_000);
    const swapAt = session.snapshot().recording!.seconds;
    await ok({ type: 'load', patch: { path: fileB }, crossfade: 1 });
    await until(() => (session.snapshot().recording?.seconds ?? 0) > swapAt + 2.5, 'the crossfade to pass', 20_000);
    await ok({ type: 'record', action: 'stop' });
    const s = session.snapshot();
    expect(s.patch?.name).toBe('beta');
    expect(s.scene).toBe('calm');
    expect(s.tempo).toBe(100);
    expect(s.streams.co2!.raw).toBe(470);
    expect(session.engine.values().streams.co2).toBe(470);
    expect(events.some((e) => e.type === 'load' && e.patch === 'beta')).toBe(true);

    const { left, sampleRate } = readWav(path);
    const at = Math.round(swapAt * sampleRate);
    const before = maxKink(left, 2, at - sampleRate * 0.1);
    const during = maxKink(left, at - sampleRate * 0.1, at + sampleRate * 1.5);
    expect(before).toBeGreaterThan(0);
    expect(during).toBeLessThan(4 * before);
    let power = 0;
    for (let i = at + sampleRate * 2; i < left.length; i++) power += left[i]! * left[i]!;
    expect(20 * Math.log10(Math.sqrt(power / (left.length - at - sampleRate * 2)))).toBeGreaterThan(-40);
  }, 60_000);

  it('a patch that does not validate changes nothing and says where it is wrong', async () => {
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, patchYaml('gamma', 4).replace('volume: -6', 'volume: loud'));
    expect(await fails({ type: 'load', patch: { path: bad } })).toMatch(/bad\.yaml.*voices\.pad\.volume/s);
    expect(session.snapshot().patch?.name).toBe('beta');
  });

  it("a load's data replaces the bindings and every rebind; a load without data keeps them; data {} gives the patch its own sources", async () => {
    // wind was rebound above, and the rebind carried over the hot swap.
    expect(session.snapshot().streams.wind!.uri).toMatch(/^sim:sine/);
    await ok({ type: 'load', patch: { path: fileA }, crossfade: 0.05, data: { co2: 'sim:walk?min=380&max=420' } });
    let s = session.snapshot();
    expect(s.patch?.name).toBe('alpha');
    expect(s.streams.co2!.uri).toBe('sim:walk?min=380&max=420');
    expect(s.streams.wind!.uri).toBeUndefined();
    await ok({ type: 'load', patch: { path: fileB }, crossfade: 0.05 });
    s = session.snapshot();
    expect(s.streams.co2!.uri).toBe('sim:walk?min=380&max=420');
    expect(s.streams.wind!.uri).toBeUndefined();
    await ok({ type: 'load', patch: { path: fileB }, crossfade: 0.05, data: {} });
    s = session.snapshot();
    expect(s.patch?.name).toBe('beta');
    expect(s.streams.co2!.uri).toBeUndefined();
    expect(s.streams.wind!.uri).toBeUndefined();
  });

  it('every event it sent is one the protocol describes', () => {
    expect(events.length).toBeGreaterThan(0);
    for (const e of events) expect(EventSchema.safeParse(e).error).toBeUndefined();
  });

  it('stops everything once, and answers after that with an error', async () => {
    await session.stop();
    await session.stop();
    expect(await fails({ type: 'panic' })).toMatch(/stopped/);
  });
});
