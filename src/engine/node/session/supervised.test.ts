/**
 * The supervised session against real child processes (bin/session-child.mjs,
 * `--sink none`): a SIGKILL and a stalled event loop are detected, the child
 * comes back with the same patch, scene and tempo and sounds again; commands
 * sent while it restarts are refused and never run later.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SupervisedSession } from './supervised.ts';
import { INSTALL_TIMINGS, InstallPolicy, type InstallDecision } from '../../core/installPolicy.ts';
import type { Heartbeat } from './hostChannel.ts';
import type { HostStatus, Reply, Snapshot } from '../../../shared/protocol.ts';
import { until } from '../../../../tests/support/wait.ts';
import { heldChordPatch } from '../../../../tests/support/fixtures.ts';

/** A held sine chord: steady output from the first second. */
const patchYaml = (name: string): string => heldChordPatch(name, { co2: ', maxRate: 50' });

const hooks = process.env.ECOSYM_TEST_HOOKS;
let host: SupervisedSession;
const statuses: HostStatus[] = [];

async function ok(cmd: unknown): Promise<unknown> {
  const r: Reply = await host.handle(cmd);
  if (!r.ok) throw new Error(`${JSON.stringify(cmd)}: ${r.error}`);
  return r.data;
}
const snapshot = async () => (await ok({ type: 'snapshot' })) as Snapshot;
const sounding = () => host.status.state === 'playing' && (host.lastHeartbeat?.rmsDb ?? -Infinity) > -60;

beforeAll(async () => {
  process.env.ECOSYM_TEST_HOOKS = '1';
  host = new SupervisedSession({
    session: { patch: { text: patchYaml('alpha') }, sink: 'none', cacheDir: false, midi: false },
    env: { ECOSYM_TEST_HOOKS: '1' },
    // The installation's limit: long enough that a loaded 2-core machine never looks hung by accident.
    hangAfter: INSTALL_TIMINGS.hangAfter,
    snapshotEvery: 0.5,
  });
  host.onStatus((s) => statuses.push(s));
  await host.start();
  await until(sounding, 'the child to sound');
}, 120_000);
afterAll(async () => {
  await host?.stop();
  if (hooks === undefined) delete process.env.ECOSYM_TEST_HOOKS;
  else process.env.ECOSYM_TEST_HOOKS = hooks;
});

describe('SupervisedSession', () => {
  it('plays in a child process: its own pid, heartbeats with the level, commands answered', async () => {
    expect(host.pid).toBeGreaterThan(0);
    expect(host.pid).not.toBe(process.pid);
    expect(statuses.map((s) => s.state)).toEqual(['starting', 'playing']);
    expect(host.status).toMatchObject({ state: 'playing', restarts: 0, silent: true });
    expect(host.lastHeartbeat).toMatchObject({ patch: 'alpha', scene: 'calm' });
    const s = await snapshot();
    expect(s.patch?.name).toBe('alpha');
    expect(s.engine.sink).toBe('none');
    // A bad command is refused here, with the field at fault.
    const bad = await host.handle({ type: 'tempo', bpm: 'fast' });
    expect(bad.ok).toBe(false);
    expect(!bad.ok && bad.error).toMatch(/^tempo\.bpm/);
    // Telemetry crosses the process boundary while someone listens.
    const frames: unknown[] = [];
    const off = host.onTelemetry((f) => frames.push(f));
    await until(() => frames.length >= 3, 'telemetry frames from the child');
    off();
    expect(frames[0]).toMatchObject({ type: 'telemetry', v: 1 });
  });

  it('SIGKILL: restarted with the patch loaded, the scene and the tempo, sounding again; commands during the restart refused, not replayed', async () => {
    await ok({ type: 'load', patch: { text: patchYaml('beta') }, crossfade: 0.1 });
    await ok({ type: 'scene', name: 'storm' });
    await ok({ type: 'tempo', bpm: 133 });
    await ok({ type: 'freeze', stream: 'co2', on: true, value: 480 });
    await until(() => host.lastHeartbeat?.scene === 'storm' && host.lastHeartbeat.patch === 'beta', 'the heartbeat to carry the scene');
    // A snapshot taken after the changes, as the supervisor keeps it.
    await until(() => host.lastSnapshot?.streams.co2?.frozen === true, 'a snapshot with the frozen stream');
    const before = host.pid!;
    // A spare process waits, its modules loaded: the restart uses it.
    await until(() => host.standbyPid !== undefined, 'the standby process');
    const spare = host.standbyPid!;
    const seen = statuses.length;
    process.kill(before, 'SIGKILL');
    await until(() => host.status.state === 'restarting', 'the supervisor to see the death');
    // Refused at once, and never run later: the scene stays "storm" below.
    const refused = await host.handle({ type: 'scene', name: 'calm', id: 7 });
    expect(refused).toMatchObject({ ok: false, id: 7 });
    expect(!refused.ok && refused.error).toMatch(/restarting.*not run/);
    await until(sounding, 'the restarted child to sound');
    expect(host.pid).toBe(spare);
    expect(host.restarts).toBe(1);
    expect(host.lastFault).toMatchObject({ cause: 'crash' });
    expect(host.lastFault!.message).toMatch(/SIGKILL/);
    expect(statuses.slice(seen).map((s) => s.state)).toEqual(['restarting', 'restarting', 'playing']);
    const s = await snapshot();
    expect(s.patch?.name).toBe('beta');
    expect(s.scene).toBe('storm');
    expect(s.tempoFixed).toBe(133);
    expect(s.streams.co2).toMatchObject({ frozen: true, raw: 480 });
    expect(s.rmsDb!).toBeGreaterThan(-60);
  });

  it('an event loop blocked 2.5 s (a starved machine, under hangAfter) is not a hang: the same process plays on', async () => {
    await until(sounding, 'the child to sound');
    const before = host.pid!;
    const restarts = host.restarts;
    const beats: Heartbeat[] = [];
    const off = host.onHeartbeat((h) => beats.push(h));
    expect(await host.handle({ type: 'debugStall', seconds: 2.5 })).toMatchObject({ ok: true });
    // Answered once the stall is over (commands queue behind it in the child).
    expect(await host.handle({ type: 'snapshot' })).toMatchObject({ ok: true });
    // The stall was real: a heartbeat came over 2 s late.
    await until(() => beats.some((b) => b.lagMs >= 2000), 'the heartbeat after the stall');
    const n = beats.length;
    await until(() => beats.length >= n + 4, 'heartbeats after the stall');
    off();
    expect(host.pid).toBe(before);
    expect(host.restarts).toBe(restarts);
    expect(host.faults.hang).toBe(0);
    expect(host.status.state).toBe('playing');
  });

  it('an output switch (the context swapped, its clock new) while the device watch runs is no device loss', async () => {
    await until(sounding, 'the child to sound');
    const before = host.pid!;
    const restarts = host.restarts;
    const devices = host.faults.device;
    const beats: Heartbeat[] = [];
    const off = host.onHeartbeat((h) => beats.push(h));
    // Each switch opens a new context (another sample rate, so it is really new) and closes the old one.
    for (const sampleRate of [44100, 48000, 22050, 48000]) {
      const r = await host.handle({ type: 'output', device: 'none', sampleRate });
      expect(r).toMatchObject({ ok: true, data: { sink: 'none', sampleRate } });
    }
    // Past the watch's limit (DEVICE_STALL_S = 1.5 s) after the last switch, on the child's own heartbeats.
    const n = beats.length;
    await until(() => beats.length >= n + 12, 'three seconds of heartbeats after the switches');
    off();
    expect(host.faults.device).toBe(devices);
    expect(host.pid).toBe(before);
    expect(host.restarts).toBe(restarts);
    expect(sounding()).toBe(true);
    expect((await snapshot()).engine).toMatchObject({ sampleRate: 48000 });
  });

  it('a stalled event loop (10 s, past hangAfter): no heartbeat, killed and restarted, same patch and scene', async () => {
    const before = host.pid!;
    const restarts = host.restarts;
    expect(await host.handle({ type: 'debugStall', seconds: 10 })).toMatchObject({ ok: true });
    // Sent to the stalled child, which can never answer: an error reply when it is killed, and never run later.
    const late = await host.handle({ type: 'scene', name: 'calm', id: 'late' });
    expect(late).toMatchObject({ ok: false, id: 'late' });
    expect(!late.ok && late.error).toMatch(/stopped before answering.*will not be replayed/);
    expect(host.lastFault?.cause).toBe('hang');
    await until(sounding, 'the restarted child to sound');
    expect(host.pid).not.toBe(before);
    expect(host.restarts).toBe(restarts + 1);
    expect(host.faults.hang).toBe(1);
    const s = await snapshot();
    expect(s).toMatchObject({ scene: 'storm', tempoFixed: 133 });
    expect(s.patch?.name).toBe('beta');
  });

  it('stop ends the session process and the standby', async () => {
    await until(() => host.standbyPid !== undefined, 'the standby process');
    const pids = [host.pid!, host.standbyPid!];
    await host.stop();
    expect(host.status.state).toBe('stopped');
    const alive = (pid: number) => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    await until(() => !pids.some(alive), 'both processes to end');
  });
});

describe('SupervisedSession, first start', () => {
  it('a patch in a crash loop: the decision model skips it and the next candidate plays, its decisions told to the caller', async () => {
    const broken = { text: 'name: broken\nvoices: 3\n' };
    const good = { text: patchYaml('next') };
    const policy = new InstallPolicy({ restart: { initial: 0.1, crashLoop: { count: 2, within: 600 } }, skipFor: 600 });
    const decisions: InstallDecision[] = [];
    const h = new SupervisedSession({
      session: { patch: broken, sink: 'none', cacheDir: false, midi: false },
      policy,
      // The caller's clock (epoch seconds, as `ecosym run` keeps skips in its state file): the policy's times are on it.
      policyClock: () => Date.now() / 1000,
      // The next candidate with its own binding, as an installation's entry has it.
      candidates: () => [{ patch: broken }, { patch: good, data: { co2: 'sim:walk?min=380&max=420' } }],
      keyOf: (p) => ('text' in p && p.text.startsWith('name: broken') ? 'broken' : 'next'),
      onDecision: (d) => decisions.push(d),
      retryFirstStart: true,
      standby: false,
    });
    const startedAt = Date.now() / 1000;
    try {
      await h.start();
      expect(decisions.map((d) => [d.patch, d.skipped, d.failures])).toStrictEqual([
        ['broken', false, 1],
        ['next', true, 2],
      ]);
      // The caller's policy object is the one that decided: it holds the skip, for skipFor on the caller's clock.
      const skips = policy.skippedAt(Date.now() / 1000);
      expect(skips.map(([p]) => p)).toStrictEqual(['broken']);
      expect(skips[0]![1]).toBeGreaterThanOrEqual(startedAt + 600);
      expect(skips[0]![1]).toBeLessThanOrEqual(Date.now() / 1000 + 600);
      expect(h.faults.start).toBe(2);
      await until(() => h.lastHeartbeat?.patch === 'next' && h.status.state === 'playing', 'the next candidate to play');
      const r = await h.handle({ type: 'snapshot' });
      expect(r.ok && (r.data as Snapshot).streams.co2?.uri).toBe('sim:walk?min=380&max=420');
    } finally {
      await h.stop();
    }
  });

  it('a patch that does not load: start() rejects with the reason and nothing keeps running', async () => {
    const h = new SupervisedSession({ session: { patch: { text: 'name: broken\nvoices: 3\n' }, sink: 'none', cacheDir: false, midi: false } });
    await expect(h.start()).rejects.toThrow(/voices/);
    expect(h.status.state).toBe('stopped');
    expect(h.pid).toBeUndefined();
    expect(h.lastFault?.cause).toBe('start');
    expect((await h.handle({ type: 'snapshot' })).ok).toBe(false);
  });

  it('the stall hook is only a command when test hooks are on', async () => {
    process.env.ECOSYM_TEST_HOOKS = '0';
    try {
      const r = await host.handle({ type: 'debugStall', seconds: 5 });
      expect(r.ok).toBe(false);
      expect(!r.ok && r.error).toMatch(/unknown command "debugStall"/);
    } finally {
      process.env.ECOSYM_TEST_HOOKS = '1';
    }
  });
});
