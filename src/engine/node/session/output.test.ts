/**
 * The `output` command with no audio device (`sink: 'none'`): re-opening the
 * player at another sample rate keeps the patch playing, its scene, fixed
 * tempo, mute-free level, stream values and the parameters set with `param`;
 * telemetry subscribers keep receiving frames. And `list devices`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadPatchFile } from '../files.ts';
import { Session } from './Session.ts';
import { SessionEvent as EventSchema, type Reply, type SessionEvent, type TelemetryFrame } from '../../../shared/protocol.ts';
import { until } from '../../../../tests/support/wait.ts';

const dir = mkdtempSync(join(tmpdir(), 'ecosym-output-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const file = join(dir, 'drone.yaml');
writeFileSync(
  file,
  `name: drone
tempo: 90
streams:
  co2: { default: 400, valid: [0, 2000] }
signals:
  level: { from: co2, range: [300, 500] }
voices:
  pad:
    synth: synth
    oscillator: sine
    volume: -8
    filter: { type: lowpass, frequency: 2000 }
    notes: { mode: chord, octave: 3 }
    rhythm: { hold: true }
scenes:
  calm: {}
  storm: {}
`,
);

let session: Session;
const events: SessionEvent[] = [];

async function ok(cmd: unknown): Promise<unknown> {
  const r: Reply = await session.handle(cmd);
  if (!r.ok) throw new Error(`${JSON.stringify(cmd)}: ${r.error}`);
  return r.data;
}

beforeAll(async () => {
  session = await Session.open({ patch: loadPatchFile(file), sink: 'none', sampleRate: 44100, cacheDir: false, midi: false, oscIn: { host: '127.0.0.1', port: 0 } });
  session.onEvent((e) => events.push(e));
  await session.start();
  await until(() => (session.snapshot().rmsDb ?? -Infinity) > -40, 'the pad to sound', 30_000);
}, 60_000);
afterAll(async () => {
  await session?.stop();
});

describe('output', () => {
  it('re-opens at 48 kHz: the patch plays on with its scene, tempo, stream values and the parameters set with param', async () => {
    expect(session.snapshot().engine.sampleRate).toBe(44100);
    await ok({ type: 'param', target: 'pad.filter.frequency', value: 600 });
    await ok({ type: 'param', target: 'master.volume', value: -9 });
    await ok({ type: 'scene', name: 'storm' });
    await ok({ type: 'tempo', bpm: 120 });
    await ok({ type: 'inject', stream: 'co2', value: 480 });
    const oscPort = session.snapshot().bridges.oscIn?.port;
    const frames: TelemetryFrame[] = [];
    const unsubscribe = session.onTelemetry((f) => frames.push(f));
    try {
      await until(() => frames.length > 0, 'a telemetry frame');

      expect(await ok({ type: 'output', sampleRate: 48000 })).toEqual({ sink: 'none', sampleRate: 48000 });
      const ev = events.find((e) => e.type === 'output');
      expect(ev).toMatchObject({ sink: 'none', sampleRate: 48000 });
      expect(EventSchema.safeParse(ev).error).toBeUndefined();

      const s = session.snapshot();
      expect(s.engine.sampleRate).toBe(48000);
      expect(s.patch?.name).toBe('drone');
      expect(s.tempoFixed).toBe(120);
      expect(s.streams.co2?.raw).toBe(480);
      // OSC control is back on the port it had.
      expect(s.bridges.oscIn?.port).toBe(oscPort);
      await until(() => session.snapshot().scene === 'storm', 'the scene on the new output');
      await until(() => session.snapshot().tempo === 120, 'the fixed tempo on the new output');
      // The parameters set with param: the new engine has them (they ramp there).
      await until(() => Math.abs((session.engine.parameterValue('pad.filter.frequency') ?? 0) - 600) < 1, 'the filter at 600 Hz');
      await until(() => Math.abs((session.engine.parameterValue('master.volume') ?? 0) + 9) < 0.1, 'the master at −9 dB');
      // And it sounds: a full second of the new output's meter.
      const t = session.snapshot().engine.time;
      await until(() => session.snapshot().engine.time > t + 1.1, 'a second of the new output');
      expect(session.snapshot().rmsDb!).toBeGreaterThan(-40);
      expect(session.snapshot().engine.errors).toBe(0);
      // The telemetry subscriber kept receiving, now from the new output.
      const n = frames.length;
      await until(() => frames.length > n + 2, 'telemetry frames after the change');
    } finally {
      unsubscribe();
    }
  }, 60_000);

  it('an output change and a load sent together run one after the other', async () => {
    const [a, b] = await Promise.all([session.handle({ type: 'output', sampleRate: 44100 }), session.handle({ type: 'load', patch: { path: file }, crossfade: 0.1 })]);
    expect(a.ok && b.ok, JSON.stringify([a, b])).toBe(true);
    expect(session.snapshot().engine.sampleRate).toBe(44100);
    const t = session.snapshot().engine.time;
    await until(() => session.snapshot().engine.time > t + 1.1, 'a second of audio');
    expect(session.snapshot().rmsDb!).toBeGreaterThan(-40);
    // The load was of a patch: the parameters set before are forgotten.
    await until(() => Math.abs((session.engine.parameterValue('pad.filter.frequency') ?? 0) - 2000) < 1, "the filter back at the patch's 2000 Hz");
    await ok({ type: 'output', sampleRate: 48000 });
  }, 60_000);

  it('a device that is not there changes nothing', async () => {
    const r = await session.handle({ type: 'output', device: 'no-such-device-xyz' });
    expect(r.ok).toBe(false);
    expect(!r.ok && r.error).toMatch(/no output device "no-such-device-xyz"/);
    expect(session.snapshot().engine.sampleRate).toBe(48000);
    expect((await session.handle({ type: 'output' })).ok).toBe(false);
  });

  it('lists the output devices node-web-audio-api sees, or says why there are none', async () => {
    const { mediaDevices } = await import('node-web-audio-api');
    const expected = (await mediaDevices.enumerateDevices()).filter((d) => d.kind === 'audiooutput').map((d) => ({ id: d.deviceId, label: d.label }));
    const r = (await ok({ type: 'list', what: 'devices' })) as { available: boolean; devices: unknown[]; reason?: string };
    expect(r.devices).toEqual(expected);
    expect(r.available).toBe(expected.length > 0);
    if (expected.length === 0) expect(r.reason).toMatch(/no output device/);
  });
});
