/** The bridges from the command line, as a user runs them: --osc-log, --osc-in, --osc-out, --artnet. */
import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PROJECT_ROOT } from '../engine/node/files.ts';
import { OscUdpPort, type OscReceived } from '../engine/node/osc/udp.ts';
import { freePort } from '../../tests/support/mosquitto.ts';
import { HAVE_LIBLO, NEEDS_LIBLO } from '../../tests/support/liblo.ts';
import { until } from '../../tests/support/wait.ts';
import { startEcosym, type CliResult } from '../../tests/support/cli.ts';

const BIN = resolve(PROJECT_ROOT, 'bin/ecosym.mjs');
const tmp = () => mkdtempSync(join(tmpdir(), 'ecosym-br-'));

function ecosym(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(process.execPath, [BIN, ...args], { cwd: PROJECT_ROOT, timeout: 120_000, env: { ...process.env, ECOSYM_CACHE_DIR: tmp() } }, (err, stdout, stderr) =>
      done({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
    );
  });
}

describe('render --osc-log', () => {
  it('writes the OSC a patch would send, in time order, one JSON line each', async () => {
    const dir = tmp();
    const log = join(dir, 'show.jsonl');
    const r = await ecosym(['render', 'carbon-pulse', '--duration', '4s', '--out', join(dir, 'x.wav'), '--osc-log', log]);
    expect(r.code).toBe(0);
    const lines = readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { time: number; address: string; types: string; args: unknown[] });
    expect(r.stdout).toContain(`Wrote ${log}: ${lines.length} OSC messages`);
    for (let i = 1; i < lines.length; i++) expect(lines[i]!.time).toBeGreaterThanOrEqual(lines[i - 1]!.time);
    const beats = lines.filter((l) => l.address === '/eco/carbon/beat');
    // The tempo follows CO2 (about 100 BPM at the start): 6 or 7 beats in 4 s, one per beat index.
    expect(beats.length).toBeGreaterThanOrEqual(6);
    expect(beats.map((b) => b.args[0])).toEqual(beats.map((_, i) => i));
    const gap = beats[1]!.time - beats[0]!.time;
    // The tempo moves with the data between steps: the gap matches the reported tempo within 3 %.
    expect(Math.abs(60 / gap - (beats[0]!.args[2] as number)) / (beats[0]!.args[2] as number)).toBeLessThan(0.03);
    const season = lines.filter((l) => l.address === '/eco/carbon/season');
    expect(season.every((l) => l.types === 'i' && Number.isInteger(l.args[0]) && (l.args[0] as number) >= 0 && (l.args[0] as number) <= 255)).toBe(true);
    const kicks = lines.filter((l) => l.address === '/eco/carbon/kick');
    expect(kicks.length).toBeGreaterThan(3);
    expect(kicks[0]!.types).toBe('iff');
  });

  it('is a usage error for a patch with no osc.out', async () => {
    const r = await ecosym(['render', 'tests/fixtures/no-osc.yaml', '--osc-log', '/tmp/x.jsonl']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--osc-log: patch "No OSC" has no osc.out messages/);
  });
});

describe('play with bridges', () => {
  it.skipIf(!HAVE_LIBLO)(`--osc-in takes controls from oscsend; --osc-out sends to a receiver${NEEDS_LIBLO}`, { timeout: 300_000 }, async () => {
    const inPort = await freePort();
    const got: OscReceived[] = [];
    const rx = new OscUdpPort({ onMessage: (m) => got.push(m) });
    const { port: outPort } = await rx.open({ host: '127.0.0.1', port: 0 });
    // Plays until stopped, not for a fixed time: on a loaded machine the player took most
    // of a 5 s run to start, and stopped before the scene change came back.
    const play = startEcosym(['play', 'seattle-drift', '--sink', 'none', '--osc-in', `127.0.0.1:${inPort}`, '--osc-out', `127.0.0.1:${outPort}`]);
    let r: CliResult;
    try {
      // Until the control port is up, resend the scene change; then wait for it in the status
      // line (printed each second) and for the other addresses at the receiver.
      const gusty = () => got.some((m) => m.message.address === '/eco/seattle/scene' && m.message.args[0]?.value === 'gusty');
      const deadline = performance.now() + 120_000; // a failure detector, as in until()
      while (!gusty()) {
        if (play.exited()) throw new Error(`play exited early: ${play.stderr()}`);
        if (performance.now() > deadline) throw new Error(`no scene change came back in 120 s; play printed ${JSON.stringify(play.stdout())}`);
        await new Promise<void>((res) => execFile('oscsend', ['127.0.0.1', String(inPort), '/eco/scene', 's', 'gusty'], () => res()));
        await until(gusty, 'the scene sent back', 250).catch(() => undefined);
      }
      const addresses = () => new Set(got.map((m) => m.message.address));
      await until(() => ['/eco/seattle/warmth', '/eco/seattle/temperature'].every((a) => addresses().has(a)), 'signals at the receiver');
      await until(() => /scene gusty/.test(play.stdout()), 'the scene in the status line');
    } finally {
      r = await play.stop(); // SIGTERM, what Ctrl-C does: stops and reports
    }
    await rx.close();
    const { stdout, stderr } = r;
    expect(stderr).toBe('');
    expect(r.code).toBe(143);
    expect(stdout).toMatch(/OSC control in on 127\.0\.0\.1:\d+/);
    expect(stdout).toMatch(/Stopped: \d+ notes, 0 engine errors/);
  });

  it('a busy OSC port is a usage error, and nothing keeps running', async () => {
    const blocker = createSocket('udp4');
    await new Promise<void>((r) => blocker.bind(0, '127.0.0.1', () => r()));
    const r = await ecosym(['play', 'seattle-drift', '--sink', 'none', '--duration', '30s', '--osc-in', `127.0.0.1:${blocker.address().port}`]);
    blocker.close();
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/OSC: .*EADDRINUSE/);
  });

  // Five processes one after another: each start (tsx compiling the CLI) took 13 s at load 17.
  it('rejects bad bridge flags before starting', { timeout: 600_000 }, async () => {
    const a = await ecosym(['play', 'seattle-drift', '--sink', 'none', '--osc-out', 'nowhere']);
    expect(a.code).toBe(2);
    expect(a.stderr).toMatch(/--osc-out "nowhere": expected HOST:PORT/);
    const b = await ecosym(['play', 'seattle-drift', '--sink', 'none', '--osc-in', 'x:y']);
    expect(b.stderr).toMatch(/--osc-in "x:y": expected PORT or HOST:PORT/);
    const c = await ecosym(['play', 'seattle-drift', '--sink', 'none', '--artnet', 'h:99999']);
    expect(c.stderr).toMatch(/universe 99999 is above 32767/);
    const d = await ecosym(['play', 'seattle-drift', '--sink', 'none', '--sacn', '0']);
    expect(d.code).toBe(2);
    expect(d.stderr).toMatch(/--sacn "0": expected UNIVERSE \(1…63999\) or HOST:UNIVERSE/);
    expect(d.stdout).not.toMatch(/Playing/); // refused before anything started
    const e = await ecosym(['play', 'tests/fixtures/no-osc.yaml', '--sink', 'none', '--sacn', '1']);
    expect(e.stderr).toMatch(/--sacn: patch "No OSC" has no lighting section to send/);
  });
});
