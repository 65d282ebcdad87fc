/**
 * Bouncing through the session while it plays (no audio device): a built-in
 * patch rendered in a child process, its progress as events, the file decoded
 * and measured; a cancelled bounce leaves nothing on disk; the playing patch
 * sounds throughout.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rms } from '../../core/analysis.ts';
import { loadPatchFile } from '../files.ts';
import { Session } from './Session.ts';
import { SessionEvent as EventSchema, Snapshot, type Reply, type SessionEvent } from '../../../shared/protocol.ts';
import { until } from '../../../../tests/support/wait.ts';

const dir = mkdtempSync(join(tmpdir(), 'ecosym-bounce-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const drone = join(dir, 'drone.yaml');
writeFileSync(
  drone,
  `name: drone
tempo: 90
streams:
  x: { default: 1 }
voices:
  pad:
    synth: synth
    oscillator: sine
    volume: -12
    notes: { mode: chord, octave: 3 }
    rhythm: { hold: true }
`,
);

let session: Session;
const events: SessionEvent[] = [];
type BounceEvent = Extract<SessionEvent, { type: 'bounce' }>;
const bounces = (path: string) => events.filter((e): e is BounceEvent => e.type === 'bounce' && e.path === path);
const db = (x: number) => 20 * Math.log10(x);

async function ok(cmd: unknown): Promise<unknown> {
  const r: Reply = await session.handle(cmd);
  if (!r.ok) throw new Error(`${JSON.stringify(cmd)}: ${r.error}`);
  return r.data;
}

beforeAll(async () => {
  session = await Session.open({ patch: loadPatchFile(drone), sink: 'none', cacheDir: false, midi: false, patchesDir: dir });
  session.onEvent((e) => events.push(e));
  await session.start();
  await until(() => (session.snapshot().rmsDb ?? -Infinity) > -40, 'the pad to sound', 30_000);
}, 60_000);
afterAll(async () => {
  await session?.stop();
});

describe('bounce', () => {
  it('renders a built-in patch in a child process: progress events rise, the WAV has audio, the session plays on', async () => {
    const path = join(dir, 'out', 'stripes.wav');
    expect(await ok({ type: 'bounce', patch: { id: 'warming-stripes' }, duration: 4, path: 'stripes.wav', seed: 3, sampleRate: 44100 })).toEqual({ path });
    expect(session.snapshot().bounce).toMatchObject({ path });
    expect(Snapshot.safeParse(session.snapshot()).error).toBeUndefined();
    // One at a time.
    expect((await session.handle({ type: 'bounce', duration: 1, path: 'other.wav' })).ok).toBe(false);
    await until(() => bounces(path).some((e) => e.state !== 'running'), 'the bounce to end', 120_000);
    const evs = bounces(path);
    for (const e of evs) expect(EventSchema.safeParse(e).error).toBeUndefined();
    const last = evs.at(-1)!;
    expect(last, JSON.stringify(last)).toMatchObject({ state: 'done', progress: 1 });
    const running = evs.filter((e) => e.state === 'running').map((e) => e.progress);
    expect(running.length).toBeGreaterThanOrEqual(3);
    expect(running[0]).toBe(0);
    for (let i = 1; i < running.length; i++) expect(running[i]!).toBeGreaterThan(running[i - 1]!);
    expect(existsSync(`${path}.part`)).toBe(false);

    const bytes = readFileSync(path);
    const audio = await new OfflineAudioContext(1, 128, 44100).decodeAudioData(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
    expect(audio.sampleRate).toBe(44100);
    expect(audio.duration).toBeCloseTo(4, 2);
    const left = audio.getChannelData(0);
    expect(db(rms(left))).toBeGreaterThan(-40);
    // The summary the child sent matches the file.
    expect(last.rmsDb!).toBeGreaterThan(-40);
    // The session sounds as before, with no error.
    expect(session.snapshot().rmsDb!).toBeGreaterThan(-40);
    expect(session.snapshot().engine.errors).toBe(0);
    expect(session.snapshot().bounce).toBeNull();
  }, 180_000);

  it('cancel kills the child and leaves no file behind', async () => {
    const path = join(dir, 'out', 'cancel', 'long.wav');
    // Ten minutes of carbon-pulse: cancelled at its first percent, long before it could end.
    await ok({ type: 'bounce', patch: { id: 'carbon-pulse' }, duration: 600, path: 'cancel/long.wav' });
    await until(() => bounces(path).some((e) => e.state === 'running' && e.progress > 0), 'the render to make progress', 120_000);
    expect(await ok({ type: 'bounce', action: 'cancel' })).toEqual({ path, state: 'cancelled' });
    expect(bounces(path).at(-1)).toMatchObject({ state: 'cancelled' });
    expect(readdirSync(join(dir, 'out', 'cancel'))).toEqual([]);
    expect((await session.handle({ type: 'bounce', action: 'cancel' })).ok).toBe(false);
    expect(session.snapshot().rmsDb!).toBeGreaterThan(-40);
  }, 180_000);

  it('a broken patch ends in a failed event with its problems, and no file; a path that is not a WAV is refused', async () => {
    const path = join(dir, 'out', 'bad.wav');
    await ok({ type: 'bounce', patch: { text: 'name: x\ntempo: "fast"\nvoices: {}\n' }, duration: 1, path: 'bad.wav' });
    await until(() => bounces(path).some((e) => e.state !== 'running'), 'the bounce to end', 120_000);
    const last = bounces(path).at(-1)!;
    expect(last.state).toBe('failed');
    expect(last.error).toMatch(/:2: tempo: expected number/);
    expect(existsSync(path)).toBe(false);
    expect(existsSync(`${path}.part`)).toBe(false);
    const notWav = await session.handle({ type: 'bounce', duration: 1, path: 'x.mp3' });
    expect(!notWav.ok && notWav.error).toMatch(/bounce\.path: bounce needs a path to a \.wav file/);
  }, 180_000);
});
