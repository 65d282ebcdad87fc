import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../engine/node/files.ts';
import { RESTART_SEC, START_LIMIT, serviceCommand, systemdUnit, unitName } from './service.ts';

const BIN = resolve(PROJECT_ROOT, 'bin/ecosym.mjs');
const tmp = () => mkdtempSync(join(tmpdir(), 'ecosym-service-'));

function ecosym(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(process.execPath, [BIN, ...args], { cwd: PROJECT_ROOT, timeout: 120_000, env: { ...process.env, ...env } }, (err, stdout, stderr) =>
      done({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
    );
  });
}

describe('ecosym service', () => {
  it('install --user writes a unit under XDG_CONFIG_HOME that runs the show, prints how to enable it; uninstall removes it', async () => {
    const home = tmp();
    const dir = tmp();
    const show = join(dir, 'park pavilion.show.yaml');
    writeFileSync(show, 'playlist:\n  - { patch: carbon-pulse, for: 30m }\n');
    const r = await ecosym(['service', 'install', show, '--port', '8080'], { XDG_CONFIG_HOME: home });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const unit = join(home, 'systemd/user/ecosym-park-pavilion.service');
    expect(r.stdout).toContain(`wrote ${unit}`);
    expect(r.stdout).toContain('systemctl --user enable --now ecosym-park-pavilion.service');
    expect(r.stdout).toContain('loginctl enable-linger');
    const text = readFileSync(unit, 'utf8');
    expect(text).toContain(`ExecStart=${process.execPath} ${BIN} run "${show}" --port 8080\n`);
    expect(text).toMatch(/^Restart=always$/m);
    expect(text).toMatch(/^WantedBy=default\.target$/m);
    expect(text).not.toMatch(/^User=/m);

    // As `systemctl --user enable` would leave it.
    mkdirSync(join(home, 'systemd/user/default.target.wants'));
    symlinkSync(unit, join(home, 'systemd/user/default.target.wants/ecosym-park-pavilion.service'));
    const u = await ecosym(['service', 'uninstall', show], { XDG_CONFIG_HOME: home });
    expect(u.code).toBe(0);
    expect(u.stdout).toContain(`removed ${unit}`);
    expect(existsSync(unit)).toBe(false);
    expect(existsSync(join(home, 'systemd/user/default.target.wants/ecosym-park-pavilion.service'))).toBe(false);
  });

  it('the start limit cannot be reached by Restart=always at RestartSec spacing', () => {
    const text = systemdUnit({ show: '/srv/show.yaml', mode: 'user' });
    const num = (key: string) => Number(new RegExp(`^${key}=(\\d+)$`, 'm').exec(text)?.[1]);
    expect(num('RestartSec')).toBe(RESTART_SEC);
    expect(num('StartLimitIntervalSec')).toBe(START_LIMIT.intervalSec);
    expect(num('StartLimitBurst')).toBe(START_LIMIT.burst);
    // The most starts that fit in the interval, one every RestartSec, stay under the burst.
    expect(Math.floor(num('StartLimitIntervalSec') / num('RestartSec')) + 1).toBeLessThan(num('StartLimitBurst'));
  });

  it('--system: multi-user target, runs as the installing user with the audio group, into the system folder', () => {
    const dir = tmp();
    const show = join(dir, 'x.yaml');
    writeFileSync(show, 'playlist: [{ patch: carbon-pulse }]\n');
    const lines: string[] = [];
    expect(serviceCommand('install', show, { system: true }, (l) => lines.push(l), { ECOSYM_SYSTEMD_SYSTEM_DIR: dir, USER: 'x' })).toBe(0);
    const text = readFileSync(join(dir, 'ecosym-x.service'), 'utf8');
    expect(text).toMatch(/^WantedBy=multi-user\.target$/m);
    expect(text).toMatch(/^User=\S+$/m);
    expect(text).toMatch(/^SupplementaryGroups=audio$/m);
    expect(lines).toContain('  sudo systemctl enable --now ecosym-x.service');
  });

  it('names, quoting and mistakes', () => {
    expect(unitName('/a/b/Park.show.yaml')).toBe('ecosym-Park.service');
    expect(unitName('weird name!.yml')).toBe('ecosym-weird-name.service');
    expect(systemdUnit({ show: '/s/100%.yaml', mode: 'user', node: '/n', bin: '/b' })).toContain('ExecStart=/n /b run /s/100%%.yaml\n');
    expect(() => serviceCommand('start', 'x.yaml', {})).toThrow(/expected `install show.yaml` or `uninstall show.yaml`/);
    expect(() => serviceCommand('install', join(tmp(), 'none.yaml'), {})).toThrow(/no show file/);
    expect(() => serviceCommand('install', 'x.yaml', { user: true, system: true })).toThrow(/not both/);
  });
});
