/**
 * A bounce whose render is started by the parent of the session (the desktop
 * app: the session child asks main over its host channel, main starts the CLI
 * bundle as a process of its own). Here "main" is this test process and forks
 * the CLI bundle (dist/cli/main.js, or one built from the sources when that is
 * stale) with its arguments in ECOSYM_ARGV, as main.ts does with
 * Electron's utilityProcess.fork: a real render process, its progress relayed
 * across the channel, its priority lowered, a cancel that kills it and leaves
 * no file. Then the whole path through a supervised session child.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, fork } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { getPriority, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { rms } from '../../core/analysis.ts';
import { PROJECT_ROOT } from '../files.ts';
import { Bounce, type BounceUpdate } from './bounce.ts';
import { renderViaParent, serveRenders, RENDER_ENV, type LaunchRender, type RenderReport, type RenderRequest } from './renderProcess.ts';
import { SupervisedSession } from './supervised.ts';
import type { SessionEvent } from '../../../shared/protocol.ts';
import { until } from '../../../../tests/support/wait.ts';

const dir = mkdtempSync(join(tmpdir(), 'ecosym-render-process-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The CLI bundle: dist/cli/main.js when its build is fresh, else one built from these sources under the project (never in dist/, which other tests may be running). */
let CLI_JS = resolve(PROJECT_ROOT, 'dist/cli/main.js');
let built: string | undefined;
beforeAll(async () => {
  const { builtAndFresh } = (await import(pathToFileURL(resolve(PROJECT_ROOT, 'bin/dist.mjs')).href)) as { builtAndFresh(root: URL): boolean };
  if (builtAndFresh(pathToFileURL(`${PROJECT_ROOT}/`))) return;
  const cache = resolve(PROJECT_ROOT, 'node_modules/.cache');
  mkdirSync(cache, { recursive: true });
  built = mkdtempSync(join(cache, 'ecosym-build-'));
  execFileSync(process.execPath, [resolve(PROJECT_ROOT, 'scripts/build-cli.mjs'), '--out', built], { stdio: 'pipe' });
  CLI_JS = join(built, 'cli/main.js');
}, 120_000);
afterAll(() => {
  if (built) rmSync(built, { recursive: true, force: true });
});

/** main.ts's launcher with child_process.fork in place of utilityProcess.fork: the CLI bundle, its arguments in ECOSYM_ARGV. */
const forkCli: LaunchRender = ({ args, niceness, cwd }) => {
  const cp = fork(CLI_JS, [], {
    cwd,
    env: { ...process.env, ...RENDER_ENV, ECOSYM_ARGV: JSON.stringify(args), ECOSYM_NICENESS: String(niceness) },
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  let exit: { code: number | null } | undefined;
  const fns: Array<(code: number | null) => void> = [];
  cp.once('exit', (code) => {
    exit = { code };
    for (const fn of fns.splice(0)) fn(code);
  });
  return {
    get pid() {
      return cp.pid;
    },
    onMessage: (fn) => void cp.on('message', fn),
    onStderr: (fn) => void cp.stderr!.on('data', (d: Buffer) => fn(d.toString())),
    onExit: (fn) => (exit ? fn(exit.code) : void fns.push(fn)),
    kill: () => void cp.kill('SIGKILL'),
  };
};

/**
 * The two ends of a host channel in one process: messages structured-cloned and
 * delivered on a later turn, as postMessage and Node IPC do.
 */
function channelPair(launch: LaunchRender | undefined) {
  const toChild = new Set<(m: unknown) => void>();
  const requests: RenderRequest[] = [];
  const reports: RenderReport[] = [];
  const main = serveRenders((r) => {
    reports.push(r);
    const copy = structuredClone(r);
    setImmediate(() => toChild.forEach((fn) => fn(copy)));
  }, launch);
  const viaParent = renderViaParent(
    (m) => {
      requests.push(m);
      const copy = structuredClone(m);
      setImmediate(() => main.handle(copy));
    },
    (fn) => void toChild.add(fn),
  );
  return { viaParent, main, requests, reports };
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('a render started by the parent', () => {
  it('relays progress and the summary; the render runs at the niceness asked; the WAV has the audio', async () => {
    const { viaParent, requests, reports } = channelPair(forkCli);
    const path = join(dir, 'stripes.wav');
    const updates: BounceUpdate[] = [];
    let niceSeen: number | undefined;
    const b = new Bounce({
      patch: 'warming-stripes',
      duration: 3,
      path,
      seed: 2,
      sampleRate: 44100,
      niceness: 7,
      launch: viaParent,
      onUpdate: (u) => {
        updates.push(u);
        const started = reports.find((r) => r.kind === 'renderStarted');
        if (niceSeen === undefined && u.progress > 0 && started?.kind === 'renderStarted' && started.pid !== undefined) niceSeen = getPriority(started.pid);
      },
    });
    expect(await b.finished).toBe('done');
    expect(requests[0]).toMatchObject({ kind: 'render', launch: { niceness: 7, args: ['render', 'warming-stripes', '--duration', '3s', '--out', `${path}.part`, '--bits', '24', '--seed', '2', '--sample-rate', '44100'] } });
    const running = updates.filter((u) => u.state === 'running').map((u) => u.progress);
    expect(running.length).toBeGreaterThanOrEqual(3);
    for (let i = 1; i < running.length; i++) expect(running[i]!).toBeGreaterThan(running[i - 1]!);
    // The render lowered its own priority 7 steps below its parent's before it started work (its main thread, read while it rendered).
    expect(niceSeen).toBe(Math.min(19, getPriority() + 7));
    const last = updates.at(-1)!;
    expect(last).toMatchObject({ state: 'done', progress: 1 });
    expect(last.rmsDb!).toBeGreaterThan(-40);
    expect(reports.at(-1)).toMatchObject({ kind: 'renderExit', code: 0 });
    expect(existsSync(`${path}.part`)).toBe(false);
    const bytes = readFileSync(path);
    const audio = await new OfflineAudioContext(1, 128, 44100).decodeAudioData(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
    expect(audio.duration).toBeCloseTo(3, 2);
    expect(20 * Math.log10(rms(audio.getChannelData(0)))).toBeCloseTo(last.rmsDb!, 0);
  }, 120_000);

  it('cancel asks the parent to kill the render: the process is gone and nothing is left on disk', async () => {
    const { viaParent, reports } = channelPair(forkCli);
    const sub = join(dir, 'cancel');
    const b = new Bounce({ patch: 'carbon-pulse', duration: 600, path: join(sub, 'long.wav'), launch: viaParent, onUpdate: () => undefined });
    await until(() => b.progress > 0, 'the render to make progress', 120_000);
    const started = reports.find((r) => r.kind === 'renderStarted');
    const pid = started?.kind === 'renderStarted' ? started.pid : undefined;
    expect(pid).toBeTypeOf('number');
    expect(alive(pid!)).toBe(true);
    expect(await b.cancel()).toBe('cancelled');
    expect(reports.at(-1)).toMatchObject({ kind: 'renderExit', code: null });
    await until(() => !alive(pid!), 'the render process to be gone', 10_000);
    expect(readdirSync(sub)).toEqual([]);
  }, 180_000);

  it('a parent that cannot start renders makes the bounce fail with why; closing the parent side kills what runs', async () => {
    const refused = channelPair(undefined);
    const path = join(dir, 'refused.wav');
    const updates: BounceUpdate[] = [];
    const b = new Bounce({ patch: 'warming-stripes', duration: 1, path, launch: refused.viaParent, onUpdate: (u) => updates.push(u) });
    expect(await b.finished).toBe('failed');
    expect(updates.at(-1)?.error).toBe('this host cannot start a render process');
    expect(existsSync(path)).toBe(false);

    const closing = channelPair(forkCli);
    const c = new Bounce({ patch: 'carbon-pulse', duration: 600, path: join(dir, 'closed', 'long.wav'), launch: closing.viaParent, onUpdate: () => undefined });
    await until(() => closing.reports.some((r) => r.kind === 'renderStarted'), 'the render to start', 60_000);
    closing.main.close(); // the session child went away
    expect(await c.finished).toBe('failed');
    expect(readdirSync(join(dir, 'closed'))).toEqual([]);
  }, 180_000);
});

describe('the CLI bundle as a process entry (ECOSYM_ARGV)', () => {
  it('refuses arguments that are not a JSON array of strings with a clear error and exit 2', async () => {
    for (const bad of ['render x', '{"render": 1}', '["render", 3]']) {
      const cp = fork(CLI_JS, [], { env: { ...process.env, ECOSYM_ARGV: bad }, stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
      let err = '';
      cp.stderr!.on('data', (d: Buffer) => (err += d.toString()));
      const code = await new Promise<number | null>((done) => cp.once('exit', done));
      expect(code, bad).toBe(2);
      expect(err).toMatch(/ECOSYM_ARGV must be a JSON array of strings/);
    }
  }, 60_000);
});

describe('a bounce in a supervised session child with renderViaParent', () => {
  it('the child asks the supervisor, which starts the render; the bounce events come back and the WAV is written in the output folder', async () => {
    const launched: string[][] = [];
    const host = new SupervisedSession({
      session: { patch: { id: 'warming-stripes' }, sink: 'none', cacheDir: false, midi: false, patchesDir: dir, renderViaParent: true },
      standby: false,
      launchRender: (l) => {
        launched.push(l.args);
        return forkCli(l);
      },
    });
    const events: SessionEvent[] = [];
    host.onEvent((e) => events.push(e));
    try {
      await host.start();
      const r = await host.handle({ type: 'bounce', patch: { id: 'warming-stripes' }, duration: 2, path: 'child/take.wav' });
      const path = join(dir, 'out', 'child', 'take.wav');
      expect(r).toMatchObject({ ok: true, data: { path } });
      const bounce = () => events.filter((e): e is Extract<SessionEvent, { type: 'bounce' }> => e.type === 'bounce');
      await until(() => bounce().some((e) => e.state !== 'running'), 'the bounce to end', 120_000);
      expect(bounce().at(-1), JSON.stringify(bounce().at(-1))).toMatchObject({ state: 'done', progress: 1, path });
      expect(bounce().filter((e) => e.state === 'running' && e.progress > 0).length).toBeGreaterThan(0);
      expect(launched).toHaveLength(1);
      expect(launched[0]![0]).toBe('render');
      expect(readFileSync(path).subarray(0, 4).toString('latin1')).toBe('RIFF');
      // The session child stayed the same process and plays on.
      expect(host.status).toMatchObject({ state: 'playing' });
      expect(host.status.restarts ?? 0).toBe(0);
    } finally {
      await host.stop();
    }
  }, 180_000);
});
