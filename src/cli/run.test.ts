/**
 * `ecosym run` against the real supervisor and session processes (`--sink
 * none`): a SIGKILL of the session, a crash loop of one patch, a stalled
 * session, a corrupt state file, a patch that throws while it is built, feeds
 * that are all dead. /health is
 * polled over real HTTP; the deadlines are failure detectors, and the
 * restart-to-sound figure asserted is the one the supervisor measured itself.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../engine/node/files.ts';
import { realSleep, until } from '../../tests/support/wait.ts';
import type { InstallHealth } from './run.ts';
import { logFiles } from './installLog.ts';
import { INSTALL_TIMINGS } from '../engine/core/installPolicy.ts';
import { decodePacket, isOscBundle, type OscMessage } from '../engine/core/osc/codec.ts';
import type { Snapshot } from '../shared/protocol.ts';

const BIN = resolve(PROJECT_ROOT, 'bin/ecosym.mjs');
const TOKEN = 'test-token-0123456789';
const running: ChildProcess[] = [];

afterEach(async () => {
  for (const p of running.splice(0)) {
    if (p.exitCode !== null || p.signalCode !== null) continue;
    const gone = new Promise((r) => p.once('exit', r));
    p.kill('SIGTERM');
    await Promise.race([gone, new Promise((r) => setTimeout(r, 10_000))]);
    if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  }
});

interface Show {
  dir: string;
  base: string;
  health(): Promise<{ status: number; body: InstallHealth }>;
  api(path: string, body: unknown): Promise<unknown>;
  /** GET /metrics with the token: Prometheus text. */
  metrics(): Promise<string>;
  /** GET /api/state with the token: the session's snapshot. */
  snapshot(): Promise<Snapshot>;
  output(): string;
  /** The JSON log lines written so far (the files in the log dir; their stream writes asynchronously). */
  logged(): string;
}

async function runShow(yaml: string, before?: (dir: string) => void): Promise<Show> {
  const dir = mkdtempSync(join(tmpdir(), 'ecosym-run-'));
  writeFileSync(join(dir, 'show.yaml'), yaml);
  before?.(dir);
  const p = spawn(process.execPath, [BIN, 'run', join(dir, 'show.yaml'), '--port', '0', '--token', TOKEN, '--sink', 'none', '--log-dir', join(dir, 'logs')], {
    cwd: dir,
    // While dir/device-gone exists the session has no audio device (the child's test hook).
    env: { ...process.env, ECOSYM_TEST_HOOKS: '1', ECOSYM_TEST_DEVICE_GONE: join(dir, 'device-gone') },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.push(p);
  let out = '';
  p.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  p.stderr!.on('data', (b: Buffer) => (out += b.toString()));
  await until(() => /UI http:\/\/127\.0\.0\.1:(\d+)\//.test(out) || p.exitCode !== null, 'the supervisor to serve', 90_000);
  const port = /UI http:\/\/127\.0\.0\.1:(\d+)\//.exec(out)?.[1];
  if (!port) throw new Error(`ecosym run did not start:\n${out}`);
  const base = `http://127.0.0.1:${port}`;
  return {
    dir,
    base,
    async health() {
      const r = await fetch(`${base}/health`);
      return { status: r.status, body: (await r.json()) as InstallHealth };
    },
    async api(path, body) {
      const r = await fetch(`${base}${path}`, { method: 'POST', headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
      return r.json();
    },
    async metrics() {
      return (await fetch(`${base}/metrics`, { headers: { Authorization: `Bearer ${TOKEN}` } })).text();
    },
    async snapshot() {
      return (await (await fetch(`${base}/api/state`, { headers: { Authorization: `Bearer ${TOKEN}` } })).json()) as Snapshot;
    },
    output: () => out,
    logged: () =>
      logFiles(join(dir, 'logs'))
        .map((f) => readFileSync(f, 'utf8'))
        .join(''),
  };
}

/** Waits for /health to say what `ok` wants; returns that answer. */
async function healthWhen(show: Show, ok: (h: InstallHealth, status: number) => boolean, what: string, ms = 90_000): Promise<InstallHealth> {
  const deadline = performance.now() + ms;
  let last: InstallHealth | undefined;
  for (;;) {
    try {
      const h = await show.health();
      last = h.body;
      if (ok(h.body, h.status)) return h.body;
    } catch {
      // not serving yet
    }
    if (performance.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}; last /health: ${JSON.stringify(last)}\n${show.output().slice(-3000)}`);
    await realSleep(100);
  }
}

/** A held chord with two scenes, switched only by command. */
const STEADY = `name: Steady
tempo: 90
streams:
  x: { default: 0.5 }
voices:
  pad:
    synth: synth
    oscillator: triangle
    volume: -6
    envelope: { attack: 0.05, release: 1 }
    notes: { mode: chord, octave: 3 }
    rhythm: { hold: true }
scenes:
  calm: {}
  storm: {}
`;

/** A held chord over two streams with no sources of their own, for data bindings. */
const TWO_STREAMS = STEADY.replace('  x: { default: 0.5 }\n', '  x: { default: 0.5 }\n  y: { default: 0.5 }\n').replace('name: Steady', 'name: Two');

/** A CSV source file in a temp dir holding `value` at every row: its URI (`#v@t`). */
function constantCsv(name: string, value: number): string {
  const dir = mkdtempSync(join(tmpdir(), 'ecosym-csv-'));
  const file = join(dir, name);
  writeFileSync(file, ['t,v', ...Array.from({ length: 10 }, (_, i) => `${2000 + i}-01-01,${value}`)].join('\n') + '\n');
  return `${file}#v@t`;
}

/** Waits until the session's snapshot says what `ok` wants; returns it. */
async function snapshotWhen(show: Show, ok: (s: Snapshot) => boolean, what: string, ms = 90_000): Promise<Snapshot> {
  const deadline = performance.now() + ms;
  let last: Snapshot | undefined;
  for (;;) {
    try {
      last = await show.snapshot();
      if (last?.streams && ok(last)) return last;
    } catch {
      // restarting
    }
    if (performance.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}; last streams: ${JSON.stringify(last?.streams)}\n${show.output().slice(-3000)}`);
    await realSleep(200);
  }
}

const sounding = (h: InstallHealth) => h.playing && h.rmsDb !== null && h.rmsDb > -60;

describe('ecosym run (real supervisor and session, --sink none)', () => {
  it('SIGKILL of the session: sound again with the same patch and scene, restart-to-sound measured by the supervisor; /metrics counts it', async () => {
    // Built-in patches switch scenes from their data; this one only by command.
    const show = await runShow('playlist:\n  - { patch: steady.yaml, for: 30m }\n', (dir) => writeFileSync(join(dir, 'steady.yaml'), STEADY));
    const first = await healthWhen(show, (h, s) => s === 200 && sounding(h), 'the show to sound');
    expect(first.patch).toBe('Steady');
    expect(await show.api('/api/scene', { name: 'storm' })).toMatchObject({ ok: true });
    await healthWhen(show, (h) => h.scene === 'storm', 'the scene in the heartbeat');
    process.kill(first.pid!, 'SIGKILL');
    // While it restarts /health says so.
    const after = await healthWhen(show, (h) => h.pid !== first.pid && h.restarts >= 1 && sounding(h) && h.lastRecoverySeconds !== null, 'sound again after the kill');
    expect(after.patch).toBe('Steady');
    expect(after.scene).toBe('storm');
    expect(after.lastFault?.cause).toBe('crash');
    // The supervisor measured its restart-to-sound (kill seen → first audible heartbeat). The 3 s goal is a
    // speed figure: \`npm run bench -- --install\` (restart-to-sound) measures it; here it only has to exist.
    expect(after.lastRecoverySeconds!).toBeGreaterThan(0);
    expect(after.lastRecoverySeconds!).toBeLessThan(60);
    const metrics = await show.metrics();
    expect(metrics).toMatch(/^ecosym_restarts\{cause="crash"\} 1$/m);
    expect(metrics).toMatch(/^ecosym_uptime_seconds \d/m);
    expect(metrics).toMatch(/^ecosym_output_rms_dbfs -\d/m);
    // Memory of both processes, which the soak (benchmarks/install.ts) fits: the session's from its heartbeat, the supervisor's own.
    expect(metrics).toMatch(/^ecosym_session_rss_bytes \d/m);
    expect(metrics).toMatch(/^ecosym_session_external_bytes \d/m);
    expect(metrics).toMatch(/^ecosym_session_heap_used_bytes \d/m);
    expect(metrics).toMatch(/^ecosym_supervisor_process_resident_memory_bytes \d/m);
    expect(metrics).toMatch(/^ecosym_supervisor_nodejs_heap_size_used_bytes \d/m);
    expect((await fetch(`${show.base}/metrics`)).status).toBe(401);
  }, 240_000);

  it('each playlist entry plays with its own data bindings: after an advance and after a restart of that entry; none of the entry before carries over', async () => {
    const low = constantCsv('low.csv', 0.25);
    const high = constantCsv('high.csv', 0.75);
    // The first entry binds x (and is over at once); the second binds y only: x goes back to the patch's own (no) source.
    const yaml = [
      'playlist:',
      `  - { patch: two.yaml, for: 1s, crossfade: 0.1, data: { x: "${low}" } }`,
      `  - { patch: two.yaml, for: 2h, crossfade: 0.1, data: { y: "${high}" } }`,
      '',
    ].join('\n');
    const show = await runShow(yaml, (dir) => writeFileSync(join(dir, 'two.yaml'), TWO_STREAMS));
    const h = await healthWhen(show, (x, st) => st === 200 && sounding(x) && x.entry === 1, 'the second entry to play');
    expect(h.playlist).toBe('main');
    const fileOf = (uri: string) => uri.split('#')[0]!;
    const second = (s: Snapshot) => s.streams.y?.uri !== undefined && fileOf(s.streams.y.uri) === fileOf(high) && s.streams.y.raw === 0.75;
    let s = await snapshotWhen(show, second, 'y bound to high.csv with its value');
    expect(s.streams.x!.uri).toBeUndefined();
    expect(s.streams.x!.state).toBe('manual');
    // The state file says the second entry.
    const state = () => JSON.parse(readFileSync(join(show.dir, '.show.state.json'), 'utf8')) as { cursor: { index: number } };
    await until(() => state().cursor.index === 1, 'the state file at the second entry', 30_000);

    // A crash of the session: the second entry again, with its bindings (not the first entry's, the session's start options).
    process.kill(h.pid!, 'SIGKILL');
    const again = await healthWhen(show, (x, st) => st === 200 && sounding(x) && x.pid !== h.pid && x.restarts >= 1, 'sound again after the kill');
    expect(again.entry).toBe(1);
    s = await snapshotWhen(show, second, 'y bound to high.csv again after the restart');
    expect(s.streams.x!.uri).toBeUndefined();
  }, 240_000);

  it('a crash loop of one patch moves the show on to the next entry (skipped, logged, counted, kept in the state file); one crash of that entry restarts it', async () => {
    // The install policy's threshold: this many failures of one patch within `within` seconds are a crash loop.
    const { count, within } = INSTALL_TIMINGS.restart.crashLoop;
    // Both entries long enough not to advance by time during the test.
    // The second entry binds its stream to a file of its own: the switch plays it with that binding.
    const warm = constantCsv('warm.csv', 0.9);
    const show = await runShow(`playlist:\n  - { patch: carbon-pulse, for: 2h }\n  - { patch: warming-stripes, for: 2h, silenceAllowed: 20s, data: { anomaly: "${warm}" } }\n`);
    const state = () => JSON.parse(readFileSync(join(show.dir, '.show.state.json'), 'utf8')) as { cursor: { index: number; startedAt: number }; patch: string; skipped: Record<string, number> };
    let h = await healthWhen(show, (x, s) => s === 200 && sounding(x), 'the show to sound');
    expect(h.patch).toBe('Carbon Pulse');
    expect(h.restarts).toBe(0);
    expect(h.entry).toBe(0);
    const beforeKills = Date.now();
    // SIGKILL the session as soon as a new one plays carbon-pulse, until another patch plays (with a bound, should it never move on).
    const killed: number[] = [];
    while (h.patch === 'Carbon Pulse' && killed.length < 3 * count) {
      process.kill(h.pid!, 'SIGKILL');
      killed.push(h.pid!);
      h = await healthWhen(show, (x) => x.playing && x.pid !== null && !killed.includes(x.pid) && x.patch !== null, `a new session to play after kill ${killed.length}`, 60_000);
    }
    // Exactly the threshold: one kill fewer restarts carbon-pulse again (the kills come a start apart, seconds, well inside the window).
    expect(killed.length).toBe(count);
    const moved = await healthWhen(show, (x, s) => s === 200 && sounding(x) && x.patch === 'Warming Stripes', 'warming-stripes to sound', 60_000);
    expect(moved.restarts).toBe(count);
    expect(moved.faults.crash).toBe(count);
    expect(moved.faults.patch).toBe(1);
    expect(moved.lastFault?.cause).toBe('crash');
    expect(moved.skipped).toEqual(['carbon-pulse']);
    // The show is at the second entry, as a playlist advance would have it: /health, the state file (its own start), its binding.
    expect(moved.entry).toBe(1);
    expect(moved.playlist).toBe('main');
    const fileOf = (uri: string) => uri.split('#')[0]!;
    await snapshotWhen(show, (s) => s.streams.anomaly?.uri !== undefined && fileOf(s.streams.anomaly.uri) === fileOf(warm) && s.streams.anomaly.raw === 0.9, 'anomaly bound to warm.csv');
    await until(() => state().cursor.index === 1, 'the state file\'s cursor at the second entry', 30_000);
    expect(state().cursor.startedAt).toBeGreaterThanOrEqual(beforeKills);
    const metrics = await show.metrics();
    expect(metrics).toMatch(new RegExp(`^ecosym_restarts\\{cause="crash"\\} ${count}$`, 'm'));
    expect(metrics).toMatch(/^ecosym_patch_faults_total\{cause="crashloop"\} 1$/m);
    // The log names the patch skipped, how often it failed, and what plays instead.
    const skipLine = new RegExp(`"level":50,.*"patch":"carbon-pulse","failures":${count},.*patch carbon-pulse failed ${count} times within ${within} s \\(last: crash\\): skipped for ${INSTALL_TIMINGS.skipFor} s, playing warming-stripes instead`);
    await until(() => skipLine.test(show.logged()), 'the crash-loop line in the log file', 30_000);
    // The state file names the patch playing and the skip (epoch ms, about an hour ahead).
    await until(() => state().patch === 'warming-stripes', 'the state file to name warming-stripes', 30_000);
    expect(state().skipped['carbon-pulse']).toBeGreaterThan(Date.now());

    // One crash of warming-stripes is no crash loop: warming-stripes again.
    process.kill(moved.pid!, 'SIGKILL');
    const again = await healthWhen(show, (x, s) => s === 200 && sounding(x) && x.pid !== moved.pid && x.restarts > count, 'sound again after killing warming-stripes', 60_000);
    expect(again.patch).toBe('Warming Stripes');
    expect(again.entry).toBe(1);
    expect(again.restarts).toBe(count + 1);
    expect(again.faults.crash).toBe(count + 1);
    expect(again.faults.patch).toBe(1);
    expect(again.skipped).toEqual(['carbon-pulse']);
    expect(await show.metrics()).toMatch(new RegExp(`^ecosym_restarts\\{cause="crash"\\} ${count + 1}$`, 'm'));
    expect(state().patch).toBe('warming-stripes');
    expect(show.logged()).not.toMatch(/patch warming-stripes failed/);
  }, 300_000);

  it('no audio device at all, then the device lost while playing: logged, retried, never a crash or a skipped patch; sound back when it returns', async () => {
    const show = await runShow(`playlist:\n  - { patch: steady.yaml }\nfadeIn: 0.2\n`, (dir) => {
      writeFileSync(join(dir, 'steady.yaml'), STEADY);
      writeFileSync(join(dir, 'device-gone'), '');
    });
    const gone = join(show.dir, 'device-gone');
    const logged = show.logged;
    // No device at all: retried (at least every second), the supervisor up and answering, the patch not skipped.
    const retrying = await healthWhen(show, (h) => (h.faults.device ?? 0) >= 3, 'three device retries');
    expect(retrying.playing).toBe(false);
    expect(retrying.lastFault?.cause).toBe('device');
    expect(retrying.skipped).toEqual([]);
    expect(retrying.faults.patch).toBe(0);
    await until(() => /"level":40,.*has no audio device: .*no audio output device could be opened.*trying the device again in [\d.]+ s/.test(logged()), 'the no-device line in the log file', 30_000);
    // The device comes back: the show plays.
    unlinkSync(gone);
    const back = await healthWhen(show, (h, st) => st === 200 && sounding(h), 'sound once the device is back');
    expect(back.patch).toBe('Steady');
    // Lost while playing (the context's clock stops): detected, retried, reopened.
    const devicesBefore = back.faults.device!;
    writeFileSync(gone, '');
    const lost = await healthWhen(show, (h) => h.faults.device! > devicesBefore && !h.playing, 'the device loss to be seen');
    expect(lost.lastFault?.message).toMatch(/the output stopped/);
    await until(() => /the output stopped \(its clock stood still/.test(logged()), 'the device-lost line in the log file', 30_000);
    unlinkSync(gone);
    const again = await healthWhen(show, (h, st) => st === 200 && sounding(h) && h.pid !== back.pid, 'sound again after the device loss');
    expect(again.patch).toBe('Steady');
    expect(again.skipped).toEqual([]);
    expect(again.faults.patch).toBe(0);
  }, 240_000);

  it('a stalled session (busy-waits 10 s) is seen as hung and restarted', async () => {
    const show = await runShow('playlist:\n  - { patch: carbon-pulse }\n');
    const first = await healthWhen(show, (h, s) => s === 200 && sounding(h), 'the show to sound');
    expect(await show.api('/api/command', { type: 'debugStall', seconds: 10 })).toMatchObject({ ok: true });
    const after = await healthWhen(show, (h) => h.pid !== first.pid && h.restarts >= 1 && sounding(h), 'a new session after the stall');
    expect(after.lastFault?.cause).toBe('hang');
    expect(after.faults.hang).toBe(1);
  }, 240_000);

  it('a corrupt state file is ignored with a log line; a patch that throws while built is skipped and counted; the log reads back', async () => {
    const yaml = [
      'playlist:',
      '  - { patch: carbon-pulse, for: 1s, crossfade: 0.1 }',
      '  - { patch: broken.yaml, for: 10m }',
      '  - { patch: seattle-drift, for: 10m }',
      '',
    ].join('\n');
    const show = await runShow(yaml, (dir) => {
      writeFileSync(join(dir, '.show.state.json'), '{"version":1,"savedAt":17');
      // Valid as a patch, but its sample file does not exist: loading it throws.
      writeFileSync(
        join(dir, 'broken.yaml'),
        'name: Broken\nstreams: { x: {} }\nvoices:\n  drops:\n    synth: sampler\n    samples: { C4: no-such-file.wav }\n',
      );
    });
    const h = await healthWhen(show, (x) => x.patch === 'Seattle Drift' && sounding(x), 'the playlist to move past the broken patch');
    expect(h.faults.patch).toBeGreaterThanOrEqual(1);
    expect(h.restarts).toBe(0);
    expect(show.output()).toMatch(/state file .*\.show\.state\.json: corrupt or truncated.*the playlist starts over/);
    expect(show.output()).toMatch(/patch broken\.yaml failed to load: moving on/);
    // The state file is whole again, and says where the playlist is (written just after the load's reply).
    const state = () => JSON.parse(readFileSync(join(show.dir, '.show.state.json'), 'utf8')) as { cursor: { index: number }; patch: string };
    await until(() => state().patch === 'seattle-drift', 'the state file to name seattle-drift', 30_000);
    expect(state().cursor.index).toBe(2);
    // The rotated log file has the same lines (its stream writes asynchronously).
    await until(() => /"level":50,.*failed to load: moving on/.test(show.logged()), 'the error line in the log file', 30_000);
  }, 240_000);

  it('every feed dead: the stale policies hold and the show keeps sounding, nothing restarted', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ecosym-deadfeed-'));
    const patch = readFileSync(join(PROJECT_ROOT, 'patches/carbon-pulse.yaml'), 'utf8');
    writeFileSync(join(dir, 'dead.yaml'), patch);
    const streams = [...patch.matchAll(/^ {2}([A-Za-z][\w-]*):\s*$/gm)].map((m) => m[1]!);
    expect(streams.length).toBeGreaterThan(0);
    // Every stream bound to a port where nothing listens.
    const data = streams.map((s) => `${s}: "http://127.0.0.1:9/feed#$.v&interval=1s"`).join(', ');
    const show = await runShow(`playlist:\n  - { patch: ${join(dir, 'dead.yaml')}, data: { ${data} } }\n`);
    await healthWhen(show, (h, s) => s === 200 && sounding(h), 'the show to sound');
    // Sound on every poll for a while (10 polls at least, each a second apart).
    for (let i = 0; i < 10; i++) {
      await realSleep(1000);
      const h = await show.health();
      expect(h.status).toBe(200);
      expect(sounding(h.body)).toBe(true);
      expect(h.body.restarts).toBe(0);
      expect(h.body.unplannedSilenceSeconds).toBe(0);
    }
    // /metrics: each dead source's state and its age, which grows (it never gave a value).
    const scrape = show.metrics;
    const ages = (text: string) => new Map([...text.matchAll(/^ecosym_source_age_seconds\{stream="([^"]+)",kind="http"\} ([\d.e+-]+)$/gm)].map((m) => [m[1]!, Number(m[2])]));
    const first = await scrape();
    const a0 = ages(first);
    // The patch's streams (the names above include its voices too), each with an age.
    expect(a0.size).toBeGreaterThan(0);
    for (const [s, age] of a0) {
      expect(streams).toContain(s);
      expect(first).toMatch(new RegExp(`^ecosym_source_state\\{stream="${s}",kind="http",state="(connecting|stale|failed|fallback)"\\} 1$`, 'm'));
      expect(first).not.toMatch(new RegExp(`^ecosym_source_state\\{stream="${s}",kind="http",state="live"\\}`, 'm'));
      // Up 10 s and more by now.
      expect(age).toBeGreaterThan(8);
    }
    await realSleep(2000);
    const a1 = ages(await scrape());
    for (const [s, age] of a0) expect(a1.get(s)! - age).toBeGreaterThan(1);
  }, 240_000);

  it('the OSC heartbeat reaches a real UDP socket with its fields; quiet hours cap the measured output', async () => {
    const sock = createSocket('udp4');
    const got: Array<{ at: number; m: OscMessage }> = [];
    sock.on('message', (b) => {
      const p = decodePacket(new Uint8Array(b));
      if (!isOscBundle(p)) got.push({ at: performance.now(), m: p });
    });
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
    try {
      const dir = mkdtempSync(join(tmpdir(), 'ecosym-hb-'));
      writeFileSync(join(dir, 'steady.yaml'), STEADY.replace('volume: -6', 'volume: 6'));
      const show = await runShow(
        [
          `playlist:\n  - { patch: ${join(dir, 'steady.yaml')} }`,
          'maxLevel: -6',
          'fadeIn: 0.5',
          // All day: from = to.
          'schedule:\n  quiet:\n    - { from: "00:00", to: "00:00", maxLevel: -30 }',
          `heartbeat: { to: ["127.0.0.1:${sock.address().port}"], every: 250ms, address: /site/eco }`,
        ].join('\n') + '\n',
      );
      const h = await healthWhen(show, (x, s) => s === 200 && sounding(x) && x.levelCap === -30, 'the show to sound, capped');
      expect(h.rmsDb!).toBeLessThanOrEqual(-30);
      await until(() => got.filter((g) => g.m.args[0]?.value === 1).length >= 4, 'four heartbeats while playing', 60_000);
      const playing = got.filter((g) => g.m.args[0]?.value === 1);
      for (const { m } of playing) {
        expect(m.address).toBe('/site/eco');
        expect(m.args.map((a) => a.type).join('')).toBe('ififf');
        expect(m.args[2]!.value).toBe(0); // restarts
        // The output level, dBFS: sounding, and under the quiet hours' cap.
        expect(m.args[3]!.value as number).toBeGreaterThan(-60);
        expect(m.args[3]!.value as number).toBeLessThanOrEqual(-30);
        expect(m.args[4]!.value).toBe(-30); // the level cap
      }
      // Uptime (seconds) grows with the heartbeats.
      const up = playing.map((g) => g.m.args[1]!.value as number);
      for (let i = 1; i < up.length; i++) expect(up[i]!).toBeGreaterThan(up[i - 1]!);
      expect(up[0]!).toBeGreaterThan(0);
    } finally {
      sock.close();
    }
  }, 240_000);
});
