/**
 * `ecosym start` (`npm start`): the desktop app on the demo patch where
 * Electron can run; where it cannot, one line saying why, then what
 * `ecosym demo` does (play or bounce the demo, with the `ecosym serve` command
 * that opens the same screens in a browser).
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { PROJECT_ROOT } from '../engine/node/files.ts';

/** What `start` does: open Electron (its binary) or not (and why). */
export type DesktopDecision = { open: true; electron: string } | { open: false; reason: string };

export interface DesktopProbe {
  /** What `require('electron')` gives outside Electron: the binary's path (throws when the package has none). */
  electronPath: () => string;
  exists: (file: string) => boolean;
  platform: NodeJS.Platform;
  env: NodeJS.ProcessEnv;
  /** The bundled main process (scripts/build-main.mjs). */
  mainJs: string;
}

/** Whether the desktop app can open here. Pure apart from the probe's functions. */
export function desktopDecision(p: DesktopProbe): DesktopDecision {
  let electron: string;
  try {
    electron = p.electronPath();
  } catch {
    return { open: false, reason: 'no Electron binary (the electron package has not downloaded it: npx install-electron)' };
  }
  if (typeof electron !== 'string' || !p.exists(electron)) return { open: false, reason: `no Electron binary at ${String(electron)}` };
  if (p.platform === 'linux' && !p.env.DISPLAY && !p.env.WAYLAND_DISPLAY) return { open: false, reason: 'no display (DISPLAY and WAYLAND_DISPLAY are unset)' };
  if (!p.exists(p.mainJs)) return { open: false, reason: `the desktop app is not built (${p.mainJs} is missing: npm run prepare)` };
  return { open: true, electron };
}

/**
 * The binary `require('electron')` names, found as it finds it (path.txt in
 * the package, ELECTRON_OVERRIDE_DIST_PATH) but without requiring it: since
 * Electron 45 that starts a download when the binary is missing.
 */
function electronBinary(): string {
  const pkg = createRequire(join(PROJECT_ROOT, 'package.json')).resolve('electron/package.json');
  const name = readFileSync(join(dirname(pkg), 'path.txt'), 'utf8');
  const override = process.env.ELECTRON_OVERRIDE_DIST_PATH;
  return override ? join(override, name || 'electron') : join(dirname(pkg), 'dist', name);
}

/** The probe of this machine. */
export function localProbe(): DesktopProbe {
  return {
    electronPath: electronBinary,
    exists: existsSync,
    platform: process.platform,
    env: process.env,
    mainJs: join(PROJECT_ROOT, 'dist', 'main', 'main.js'),
  };
}

/** The one line `start` prints when it plays the demo instead. */
export const noDesktopLine = (reason: string) => `The desktop app cannot open here: ${reason}. Playing the demo instead.`;

/** Runs Electron on the project with the patch file; resolves with its exit code. */
export function openDesktop(electron: string, patchFile: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(electron, [PROJECT_ROOT, patchFile], { stdio: 'inherit', cwd: PROJECT_ROOT });
    child.once('error', reject);
    child.once('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}
