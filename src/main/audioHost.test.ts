/**
 * The desktop app's audio host, through its interface, in Node: the session
 * child started by `child_process.fork` where the app uses Electron's
 * utilityProcess (the same injected `spawn`), a renderer's MessagePort, the
 * window's status through a restart, open-patch and recent files, and a patch
 * that keeps failing giving way to the fallback.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { MessageChannel } from 'node:worker_threads';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { forkChild } from '../engine/node/session/hostChannel.ts';
import type { HostStatus } from '../shared/protocol.ts';
import { AudioHost } from './audioHost.ts';
import { RecentFiles } from './recentFiles.ts';
import { windowTitle } from './guards.ts';
import { until } from '../../tests/support/wait.ts';

const dir = mkdtempSync(join(tmpdir(), 'ecosym-host-'));
const hosts: AudioHost[] = [];
afterAll(async () => {
  await Promise.all(hosts.map((h) => h.stop()));
  rmSync(dir, { recursive: true, force: true });
});

const patchYaml = (name: string) => `name: ${name}
streams:
  co2: { default: 400, valid: [0, 2000] }
voices:
  pad: { synth: synth, oscillator: sine, volume: -12, notes: { mode: chord, octave: 3 }, rhythm: { hold: true } }
scenes:
  calm: {}
  storm: {}
`;

describe('AudioHost', () => {
  it('a renderer port drives the session in the audio process; the window sees the restart; open-patch fills the recent files', async () => {
    const recent = new RecentFiles(join(dir, 'recent.json'));
    const host = new AudioHost({ patch: { text: patchYaml('first') }, spawn: forkChild, session: { sink: 'none', cacheDir: false, midi: false }, recent });
    hosts.push(host);
    const titles: string[] = [];
    host.onStatus((s) => titles.push(windowTitle(s.state)));
    await host.start();
    const { port1, port2 } = new MessageChannel();
    const got: Array<Record<string, unknown>> = [];
    port2.on('message', (m) => got.push(m as Record<string, unknown>));
    host.connect({ postMessage: (m) => port1.postMessage(m), onMessage: (fn) => port1.on('message', fn), onClose: (fn) => port1.on('close', fn), close: () => port1.close() });
    expect(host.connections).toBe(1);
    await until(() => got.some((m) => m.type === 'hello'), 'hello');
    expect(got[0]).toMatchObject({ type: 'status', state: 'playing', silent: true });
    port2.postMessage({ type: 'scene', name: 'storm', id: 1 });
    await until(() => got.some((m) => m.type === 'reply' && m.id === 1), 'the reply');
    expect(got.find((m) => m.type === 'reply' && m.id === 1)).toMatchObject({ ok: true });

    const file = join(dir, 'second.yaml');
    writeFileSync(file, patchYaml('second'));
    expect(await host.openPatch(file)).toMatchObject({ ok: true });
    expect(recent.list().map((x) => x.path)).toEqual([file]);
    const missing = await host.openPatch(join(dir, 'missing.yaml'));
    expect(missing.ok).toBe(false);
    expect(recent.list()).toHaveLength(1);

    // The audio process dies: the port says so, then says hello again with the same patch and scene.
    const hellos = got.filter((m) => m.type === 'hello').length;
    process.kill(host.session.pid!, 'SIGKILL');
    await until(() => got.filter((m) => m.type === 'hello').length > hellos, 'hello after the restart', 60_000);
    const states = got.filter((m) => m.type === 'status').map((m) => m.state);
    expect(states).toEqual(['playing', 'restarting', 'restarting', 'playing']);
    expect(titles).toContain('Eco-Symphony (audio restarting…)');
    const hello = got.filter((m) => m.type === 'hello').at(-1) as { snapshot: { patch: { name: string } } };
    expect(hello.snapshot.patch.name).toBe('second');
    // The scene is restored by a command the engine applies on its next tick: ask until it shows.
    let asked = 100;
    const sceneNow = () => (got.filter((m) => m.type === 'reply' && typeof m.id === 'number' && m.id >= 100).at(-1)?.data as { scene?: string } | undefined)?.scene;
    await until(() => {
      if (sceneNow() === 'storm') return true;
      port2.postMessage({ type: 'snapshot', id: ++asked });
      return false;
    }, 'the scene "storm" after the restart', 30_000, 200);
    port2.close();
    await until(() => host.connections === 0, 'the port to close');
  });

  it('with no audio device it plays silently and says so; with one, it plays on it', async () => {
    const host = new AudioHost({ patch: { text: patchYaml('dev') }, spawn: forkChild, session: { sink: 'default', cacheDir: false, midi: false } });
    hosts.push(host);
    await host.start();
    const r = await host.session.handle({ type: 'snapshot' });
    const sink = r.ok ? (r.data as { engine: { sink: string } }).engine.sink : 'no snapshot';
    expect(['none', 'default']).toContain(sink);
    expect(host.status.silent === true).toBe(sink === 'none');
    // A missing device is not the patch's fault: no restart counted against it.
    expect(host.session.faults.start).toBe(0);
    if (sink === 'none') expect(host.session.lastFault?.message).toMatch(/no audio output device/);
    await until(() => (host.session.lastHeartbeat?.rmsDb ?? -Infinity) > -60, 'the patch to sound');
    await host.stop();
  });

  it('a patch that keeps failing gives way to the fallback patch, and the app plays on', async () => {
    const host = new AudioHost({
      patch: { text: 'name: broken\nvoices: 3\n' },
      fallback: { text: patchYaml('safe') },
      spawn: forkChild,
      session: { sink: 'none', cacheDir: false, midi: false },
      supervise: { policy: { crashLoop: { count: 2, within: 600 } } },
    });
    hosts.push(host);
    const reasons: HostStatus[] = [];
    host.onStatus((s) => reasons.push(s));
    await host.start();
    expect(host.session.faults.start).toBe(2);
    expect(reasons.some((s) => /keeps failing: playing the fallback patch/.test(s.reason ?? ''))).toBe(true);
    const r = await host.session.handle({ type: 'snapshot' });
    expect(r.ok && (r.data as { patch: { name: string } }).patch.name).toBe('safe');
  });
});
