/**
 * `ecosym devices` and `play --device / --sample-rate`, as a user runs them:
 * the devices listed are the ones node-web-audio-api sees here; with ALSA
 * given an empty configuration (a machine with no sound card) the list is
 * empty with a reason, exit 3; a device name that matches nothing is a usage
 * error; `--sample-rate` is the rate the session plays at.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PROJECT_ROOT } from '../engine/node/files.ts';
import { startEcosym } from '../../tests/support/cli.ts';
import { until } from '../../tests/support/wait.ts';

const BIN = resolve(PROJECT_ROOT, 'bin/ecosym.mjs');
const dir = mkdtempSync(join(tmpdir(), 'ecosym-devices-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function ecosym(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(process.execPath, [BIN, ...args], { cwd: PROJECT_ROOT, timeout: 120_000, env: { ...process.env, ...env } }, (err, stdout, stderr) => {
      done({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

const LINUX_ONLY = process.platform !== 'linux' ? ' — skipped: no device is simulated through ALSA_CONFIG_PATH, which only Linux reads' : '';

describe('ecosym devices', () => {
  it('lists the output devices node-web-audio-api sees', async () => {
    const { mediaDevices } = await import('node-web-audio-api');
    const expected = (await mediaDevices.enumerateDevices()).filter((d) => d.kind === 'audiooutput').map((d) => ({ id: d.deviceId, label: d.label }));
    const r = await ecosym(['devices', '--json']);
    expect(JSON.parse(r.stdout).devices).toEqual(expected);
    expect(r.code).toBe(expected.length ? 0 : 3);
    const text = await ecosym(['devices']);
    for (const d of expected) expect(text.stdout).toContain(`id ${d.id}`);
  }, 120_000);

  it.skipIf(LINUX_ONLY !== '')(`says why there are none, exit 3, on a machine with no sound card${LINUX_ONLY}`, async () => {
    const conf = join(dir, 'empty-asound.conf');
    writeFileSync(conf, '');
    const r = await ecosym(['devices', '--json'], { ALSA_CONFIG_PATH: conf });
    expect(r.code).toBe(3);
    const out = JSON.parse(r.stdout) as { devices: unknown[]; reason: string };
    expect(out.devices).toEqual([]);
    expect(out.reason).toMatch(/no output device/);
    const text = await ecosym(['devices'], { ALSA_CONFIG_PATH: conf });
    expect(text.stdout).toMatch(/^No audio output devices: /);
  }, 120_000);
});

describe('ecosym play --device / --sample-rate', () => {
  it('refuses a device that is not there, naming the ones that are', async () => {
    const r = await ecosym(['play', 'carbon-pulse', '--device', 'no-such-device-xyz', '--duration', '1s']);
    expect([2, 3]).toContain(r.code);
    expect(r.stderr).toMatch(/--device: no output device "no-such-device-xyz"/);
    expect(r.stdout).not.toMatch(/Playing/);
    const bad = await ecosym(['play', 'carbon-pulse', '--sink', 'none', '--sample-rate', '1000']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--sample-rate 1000: expected a whole number of Hz, 8000…192000/);
  }, 120_000);

  it('plays at the sample rate asked for', async () => {
    const cli = startEcosym(['play', 'carbon-pulse', '--sink', 'none', '--sample-rate', '32000']);
    try {
      await until(() => /Playing .*, \d+ Hz/.test(cli.stdout()) || cli.exited(), 'the Playing line', 60_000);
      expect(cli.stdout()).toMatch(/Playing Carbon Pulse \(no audio device: --sink none\), 32000 Hz\./);
    } finally {
      await cli.stop();
    }
  }, 120_000);
});
