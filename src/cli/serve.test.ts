/**
 * `ecosym serve` as a user runs it: a child process, its printed URL and
 * token, the REST API and the WebSocket over loopback, SIGTERM.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { startEcosym, type RunningCli } from '../../tests/support/cli.ts';
import { until } from '../../tests/support/wait.ts';
import { probeAudioDevice } from './audioProbe.ts';
import { serveWatches } from './serve.ts';

const dir = mkdtempSync(join(tmpdir(), 'ecosym-serve-'));
const patch = join(dir, 'show.yaml');
writeFileSync(
  patch,
  `name: show
tempo: 90
streams:
  co2: { unit: ppm, default: 400 }
voices:
  pad:
    synth: synth
    oscillator: sine
    notes: { mode: chord, octave: 3 }
    rhythm: { hold: true }
scenes:
  calm: {}
  storm: {}
`,
);
const running: RunningCli[] = [];
const probe = await probeAudioDevice();
afterAll(async () => {
  await Promise.all(running.map((c) => c.stop()));
  rmSync(dir, { recursive: true, force: true });
});

/** Starts serve and waits for the URL it prints. */
async function serve(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ cli: RunningCli; base: string; token: string }> {
  const cli = startEcosym(['serve', ...args], env);
  running.push(cli);
  let m: RegExpExecArray | null = null;
  await until(() => (m = /Open (http:\/\/[^/\s]+\/)\?token=(\S+)/.exec(cli.stdout())) !== null || cli.exited(), 'serve to print its URL', 90_000);
  if (!m) throw new Error(`serve exited: ${cli.stdout()}\n${cli.stderr()}`);
  const [, base, token] = m as RegExpExecArray;
  return { cli, base: base!, token: decodeURIComponent(token!) };
}

describe('serveWatches', () => {
  it('watches a patch named as a file, a built-in name only with --watch', () => {
    expect(serveWatches(patch, undefined)).toBe(true);
    expect(serveWatches('my-show.yaml', undefined)).toBe(true);
    expect(serveWatches('seattle-drift', undefined)).toBe(false);
    expect(serveWatches(undefined, undefined)).toBe(false);
    expect(serveWatches('seattle-drift', true)).toBe(true);
  });
});

describe('ecosym serve', () => {
  it('prints a URL with a token; the API answers with it and refuses without; SIGTERM stops it cleanly', async () => {
    const { cli, base, token } = await serve([patch, '--port', '0', '--sink', 'none']);
    expect(token.length).toBeGreaterThanOrEqual(32);
    const health = await fetch(`${base}health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ ok: true, patch: 'show', sink: 'none' });
    expect((await fetch(`${base}api/state`)).status).toBe(401);
    const h = { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' };
    const r = await fetch(`${base}api/scene`, { method: 'POST', headers: h, body: JSON.stringify({ name: 'storm' }) });
    expect(r.status).toBe(200);
    const state = (await (await fetch(`${base}api/state`, { headers: h })).json()) as { scene: string; patch: { name: string } };
    expect(state).toMatchObject({ scene: 'storm', patch: { name: 'show' } });

    const ws = new WebSocket(`${base.replace('http', 'ws')}api/ws?token=${encodeURIComponent(token)}`);
    const hello = await new Promise<{ type: string; snapshot: { scene: string } }>((resolve, reject) => {
      ws.once('message', (d) => resolve(JSON.parse(d.toString()) as { type: string; snapshot: { scene: string } }));
      ws.once('error', reject);
    });
    expect(hello).toMatchObject({ type: 'hello', snapshot: { scene: 'storm' } });
    ws.close();

    const done = await cli.stop();
    expect(done.code).toBe(143);
    expect(done.stdout).toMatch(/Stopped: 1 clients served, \d+ commands/);
    expect(done.stdout).not.toMatch(/WARNING/);
    expect(done.stderr).toBe('');
  });

  it('takes the token from --token, and says loudly when it is open to the network', async () => {
    const { cli, base, token } = await serve([patch, '--port', '0', '--sink', 'none', '--host', '0.0.0.0', '--token', 'stage-secret-42']);
    expect(token).toBe('stage-secret-42');
    await until(() => /WARNING: serving on 0\.0\.0\.0, open to the network/.test(cli.stdout()), 'the warning');
    expect((await fetch(`${base}api/state`, { headers: { Authorization: 'Bearer stage-secret-42' } })).status).toBe(200);
    await cli.stop();
  });

  it('watches a patch named as a file: saving it swaps the served patch (hot reload), with --patches-dir passed on', async () => {
    const own = mkdtempSync(join(tmpdir(), 'ecosym-serve-watch-'));
    const file = join(own, 'live.yaml');
    writeFileSync(file, readFileSync(patch, 'utf8').replace('name: show', 'name: live'));
    const user = join(own, 'mine');
    mkdirSync(user);
    writeFileSync(join(user, 'another.yaml'), readFileSync(patch, 'utf8').replace('name: show', 'name: another'));
    try {
      const { cli, base, token } = await serve([file, '--port', '0', '--sink', 'none', '--patches-dir', user]);
      const h = { Authorization: `Bearer ${token}` };
      const state = async () => (await (await fetch(`${base}api/state`, { headers: h })).json()) as { tempo: number; patch: { name: string } };
      expect(await state()).toMatchObject({ tempo: 90, patch: { name: 'live' } });
      // The user's folder reaches the session: its patch is listed.
      const ws = new WebSocket(`${base.replace('http', 'ws')}api/ws?token=${encodeURIComponent(token)}`);
      const listed = await new Promise<string>((resolve, reject) => {
        ws.on('open', () => ws.send(JSON.stringify({ type: 'library', id: 'l' })));
        ws.on('message', (d) => {
          const m = JSON.parse(d.toString()) as { type: string; id?: string };
          if (m.type === 'reply' && m.id === 'l') resolve(d.toString());
        });
        ws.once('error', reject);
      });
      ws.close();
      expect(listed).toContain('another');
      writeFileSync(file + '.tmp', readFileSync(file, 'utf8').replace('tempo: 90', 'tempo: 132'));
      renameSync(file + '.tmp', file);
      let last = await state();
      for (let i = 0; i < 600 && last.tempo !== 132; i++) {
        await new Promise((r) => setTimeout(r, 100));
        last = await state();
      }
      expect(last).toMatchObject({ tempo: 132, patch: { name: 'live' } });
      const done = await cli.stop();
      expect(done.stderr).toBe('');
    } finally {
      rmSync(own, { recursive: true, force: true });
    }
  });

  it('refuses a bad port or token before anything plays (exit 2)', async () => {
    const exit = async (c: RunningCli) => (await until(() => c.exited(), 'the CLI to exit', 90_000), c.stop());
    const r = await exit(startEcosym(['serve', patch, '--port', '99999', '--sink', 'none']));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--port "99999"/);
    const short = await exit(startEcosym(['serve', patch, '--port', '0', '--sink', 'none', '--token', 'abc']));
    expect(short.code).toBe(2);
    expect(short.stderr).toMatch(/--token/);
  });

  it.skipIf(probe.device !== 'absent')(`with no audio device, plays silently and says so in its state${probe.device !== 'absent' ? ' (skipped: this machine has an audio device)' : ''}`, async () => {
    const { cli, base, token } = await serve([patch, '--port', '0']);
    expect(cli.stdout()).toMatch(/playing silently/);
    const state = (await (await fetch(`${base}api/state`, { headers: { Authorization: `Bearer ${token}` } })).json()) as { engine: { sink: string } };
    expect(state.engine.sink).toBe('none');
    expect(await (await fetch(`${base}health`)).json()).toMatchObject({ ok: true, silent: true });
    await cli.stop();
  });
});
