/**
 * `npm start` (`ecosym start`): the decision to open the desktop app, and,
 * through a real child process on this machine (no Electron binary is
 * downloaded here, and no audio device is made visible), the fallback: one line
 * saying why, the `ecosym serve` command, and the demo bounced.
 */
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PROJECT_ROOT } from '../engine/node/files.ts';
import { desktopDecision, type DesktopProbe } from './desktop.ts';

const BIN = '/x/node_modules/electron/dist/electron';
const MAIN = '/x/dist/main/main.js';
const probe = (o: Partial<DesktopProbe> = {}): DesktopProbe => ({
  electronPath: () => BIN,
  exists: (f) => f === BIN || f === MAIN,
  platform: 'linux',
  env: { DISPLAY: ':0' },
  mainJs: MAIN,
  ...o,
});

describe('desktopDecision', () => {
  it('opens Electron when its binary, a display and the built main process are there', () => {
    expect(desktopDecision(probe())).toEqual({ open: true, electron: BIN });
    expect(desktopDecision(probe({ env: { WAYLAND_DISPLAY: 'wayland-0' } }))).toEqual({ open: true, electron: BIN });
    // Only Linux needs DISPLAY or WAYLAND_DISPLAY.
    expect(desktopDecision(probe({ platform: 'darwin', env: {} }))).toEqual({ open: true, electron: BIN });
    expect(desktopDecision(probe({ platform: 'win32', env: {} }))).toEqual({ open: true, electron: BIN });
  });

  it('says why not: no binary (the package throws, or names a missing file), no display, not built', () => {
    const thrown = probe({
      electronPath: () => {
        throw new Error("ENOENT: no such file or directory, open 'node_modules/electron/path.txt'");
      },
    });
    expect(desktopDecision(thrown)).toEqual({ open: false, reason: expect.stringMatching(/^no Electron binary/) as unknown as string });
    expect(desktopDecision(probe({ exists: (f) => f === MAIN }))).toEqual({ open: false, reason: `no Electron binary at ${BIN}` });
    expect(desktopDecision(probe({ env: {} }))).toEqual({ open: false, reason: 'no display (DISPLAY and WAYLAND_DISPLAY are unset)' });
    expect(desktopDecision(probe({ env: { DISPLAY: '' } }))).toMatchObject({ open: false });
    expect(desktopDecision(probe({ exists: (f) => f === BIN }))).toEqual({ open: false, reason: `the desktop app is not built (${MAIN} is missing: npm run prepare)` });
  });
});

describe.skipIf(process.platform !== 'linux')('ecosym start without Electron or a display', () => {
  it('prints one line why, then the serve command, and bounces the demo', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ecosym-start-'));
    // An empty ALSA configuration: no audio device, so the demo is bounced, not played.
    const conf = join(dir, 'empty-asound.conf');
    writeFileSync(conf, '');
    const child = spawn(process.execPath, [resolve(PROJECT_ROOT, 'bin/ecosym.mjs'), 'start', '--duration', '2s'], {
      cwd: dir,
      env: { ...process.env, ALSA_CONFIG_PATH: conf, DISPLAY: '', WAYLAND_DISPLAY: '', ECOSYM_CACHE_DIR: join(dir, 'cache') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((r) => child.once('close', r));
    expect(code, stderr).toBe(0);
    const lines = stdout.split('\n');
    // No binary is downloaded here; where one is, the emptied DISPLAY is the reason.
    expect(lines[0]).toMatch(/^The desktop app cannot open here: (no Electron binary|no display).*\. Playing the demo instead\.$/);
    expect(lines[1]).toBe("The app's screens in a browser: npx ecosym serve seattle-drift (prints the URL with its token)");
    expect(lines[2]).toMatch(/^No audio device here/);
    expect(stdout).toContain('Bouncing the demo to out/demo.wav');
    const wav = readFileSync(join(dir, 'out/demo.wav'));
    // Two seconds of 48 kHz stereo, 16-bit at least.
    expect(wav.length).toBeGreaterThan(2 * 48000 * 2 * 2);
  }, 120_000);
});
