/**
 * `ecosym service install|uninstall show.yaml [--user|--system]`: a systemd
 * unit that starts `ecosym run show.yaml` at boot and restarts the supervisor
 * if it ever exits. The supervisor restarts the session itself with its own
 * backoff and never exits over a crashing patch, so systemd's start limit is
 * set so it cannot be reached by `Restart=always` at `RestartSec` spacing.
 */
import { existsSync, rmSync } from 'node:fs';
import { homedir, userInfo } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { PROJECT_ROOT, writeFileAtomic } from '../engine/node/files.ts';
import { UsageError } from './common.ts';

/** Seconds systemd waits before starting the supervisor again. */
export const RESTART_SEC = 5;
/** The start limit: at most BURST starts within INTERVAL seconds. More than INTERVAL / RESTART_SEC, so never hit by Restart=always. */
export const START_LIMIT = { intervalSec: 60, burst: 20 };

export interface UnitOptions {
  show: string;
  mode: 'user' | 'system';
  /** Extra `ecosym run` flags (--port, --token, --sink). */
  runArgs?: string[];
  node?: string;
  bin?: string;
  /** The account a system unit runs as (default: who installs it, or SUDO_USER). */
  user?: string;
}

/** The unit's name for a show file: ecosym-<file name without .show.yaml / .yaml>. */
export function unitName(show: string): string {
  const base = basename(show).replace(/(\.show)?\.(ya?ml|json)$/i, '');
  const slug = base.replace(/[^A-Za-z0-9_.-]+/g, '-').replace(/^-+|-+$/g, '') || 'show';
  return `ecosym-${slug}.service`;
}

/** Where a unit goes: the user's systemd folder (XDG_CONFIG_HOME) or the system's. */
export function unitDir(mode: 'user' | 'system', env: NodeJS.ProcessEnv = process.env): string {
  if (mode === 'system') return env.ECOSYM_SYSTEMD_SYSTEM_DIR ?? '/etc/systemd/system';
  return join(env.XDG_CONFIG_HOME || join(homedir(), '.config'), 'systemd', 'user');
}

/** Quotes a value for systemd's ExecStart (spaces, quotes, backslashes, %). */
function quote(arg: string): string {
  const escaped = arg.replace(/%/g, '%%');
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(escaped) ? escaped : `"${escaped.replace(/(["\\])/g, '\\$1')}"`;
}

/** The unit file's text. */
export function systemdUnit(o: UnitOptions): string {
  const show = resolve(o.show);
  const exec = [o.node ?? process.execPath, o.bin ?? join(PROJECT_ROOT, 'bin/ecosym.mjs'), 'run', show, ...(o.runArgs ?? [])].map(quote).join(' ');
  const lines = [
    '# Written by `ecosym service install`; remove with `ecosym service uninstall`.',
    '[Unit]',
    `Description=Eco-Symphony show ${basename(show)}`,
    'Wants=network-online.target',
    'After=network-online.target sound.target',
    // The supervisor restarts the session with its own backoff; systemd only restarts the supervisor.
    `StartLimitIntervalSec=${START_LIMIT.intervalSec}`,
    `StartLimitBurst=${START_LIMIT.burst}`,
    '',
    '[Service]',
    'Type=simple',
    `ExecStart=${exec}`,
    `WorkingDirectory=${quote(dirname(show))}`,
    'Restart=always',
    `RestartSec=${RESTART_SEC}`,
    'KillMode=mixed',
    'TimeoutStopSec=20',
    'Environment=NODE_ENV=production',
  ];
  if (o.mode === 'system') lines.push(`User=${o.user ?? process.env.SUDO_USER ?? userInfo().username}`, 'SupplementaryGroups=audio');
  lines.push('', '[Install]', `WantedBy=${o.mode === 'system' ? 'multi-user.target' : 'default.target'}`, '');
  return lines.join('\n');
}

/** `ecosym service install|uninstall`. Returns the exit code. */
export function serviceCommand(
  action: string | undefined,
  show: string | undefined,
  o: { system?: boolean; user?: boolean; runArgs?: string[] },
  out: (s: string) => void = console.log,
  env: NodeJS.ProcessEnv = process.env,
): number {
  if (action !== 'install' && action !== 'uninstall') throw new UsageError('ecosym service: expected `install show.yaml` or `uninstall show.yaml` (with --user, the default, or --system)');
  if (!show) throw new UsageError(`ecosym service ${action}: name the show file`);
  if (o.system && o.user) throw new UsageError(`ecosym service ${action}: --user or --system, not both`);
  const mode = o.system ? 'system' : 'user';
  const name = unitName(show);
  const file = join(unitDir(mode, env), name);
  const ctl = mode === 'user' ? 'systemctl --user' : 'sudo systemctl';
  if (action === 'install') {
    if (!existsSync(show)) throw new UsageError(`ecosym service install: no show file ${show}`);
    writeFileAtomic(file, systemdUnit({ show, mode, runArgs: o.runArgs }));
    out(`wrote ${file}`);
    out('Start it now and at every boot:');
    out(`  ${ctl} daemon-reload`);
    out(`  ${ctl} enable --now ${name}`);
    if (mode === 'user') out(`  sudo loginctl enable-linger ${env.USER ?? userInfo().username}   # start at boot, before anyone logs in`);
    out(`Follow it: ${mode === 'user' ? 'journalctl --user' : 'journalctl'} -u ${name} -f   or   ecosym logs --follow`);
    return 0;
  }
  if (!existsSync(file)) {
    out(`no unit ${file}: nothing to remove`);
    return 0;
  }
  rmSync(file);
  // What `enable` made: without it the unit is disabled even before systemd reloads.
  const wants = join(unitDir(mode, env), `${mode === 'system' ? 'multi-user' : 'default'}.target.wants`, name);
  rmSync(wants, { force: true });
  out(`removed ${file}`);
  out('Stop the running show and forget the unit:');
  out(`  ${ctl} stop ${name}`);
  out(`  ${ctl} daemon-reload`);
  return 0;
}
