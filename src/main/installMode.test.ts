import { describe, expect, it } from 'vitest';
import { windowOptions } from './guards.ts';
import { EXIT_CHORD, HIDE_CURSOR_CSS, installKeyAction, installMayClose, installShowArg, installWindowOptions, POWER_SAVE_BLOCKER } from './installMode.ts';

const down = (key: string, mods: { control?: boolean; alt?: boolean; shift?: boolean; meta?: boolean } = {}) => ({ type: 'keyDown', key, ...mods });

describe('the desktop installation mode', () => {
  it('is asked for with --install FILE or --install=FILE; a missing file is a clear error', () => {
    expect(installShowArg(['electron', '.', '--install', 'show.yaml'])).toBe('show.yaml');
    expect(installShowArg(['app', '--install=/srv/site/show.yaml'])).toBe('/srv/site/show.yaml');
    expect(installShowArg(['app', 'patch.yaml'])).toBeUndefined();
    expect(() => installShowArg(['app', '--install'])).toThrow(/--install: expected a show file/);
    expect(() => installShowArg(['app', '--install', '--other'])).toThrow(/--install: expected a show file/);
    expect(() => installShowArg(['app', '--install='])).toThrow(/expected a show file/);
  });

  it('opens the locked-down window fullscreen and kiosk, unclosable, without developer tools', () => {
    const o = installWindowOptions(windowOptions('/opt/eco/preload.js'));
    expect(o).toMatchObject({ fullscreen: true, kiosk: true, frame: false, closable: false, minimizable: false, show: true });
    // Still the app's security settings.
    expect(o.webPreferences).toMatchObject({ preload: '/opt/eco/preload.js', contextIsolation: true, sandbox: true, nodeIntegration: false, devTools: false });
    expect(POWER_SAVE_BLOCKER).toBe('prevent-display-sleep');
    expect(HIDE_CURSOR_CSS).toMatch(/cursor:\s*none !important/);
  });

  it('quits only with the chord Ctrl+Alt+Shift+Q', () => {
    expect(EXIT_CHORD).toBe('Ctrl+Alt+Shift+Q');
    expect(installKeyAction(down('Q', { control: true, alt: true, shift: true }))).toBe('quit');
    expect(installKeyAction(down('q', { control: true, alt: true, shift: true }))).toBe('quit');
    // Key up does nothing; a chord missing a key is not the chord (and Ctrl+Q is blocked).
    expect(installKeyAction({ type: 'keyUp', key: 'Q', control: true, alt: true, shift: true })).toBe('pass');
    expect(installKeyAction(down('q', { control: true, alt: true }))).toBe('block');
    expect(installKeyAction(down('q', { alt: true, shift: true }))).toBe('pass');
    expect(installKeyAction(down('Q', { control: true, alt: true, shift: true, meta: true }))).not.toBe('quit');
  });

  it('blocks the keys that would close, reload, leave fullscreen or open tools; lets the others through', () => {
    for (const k of [
      down('F4', { alt: true }),
      down('w', { control: true }),
      down('q', { meta: true }),
      down('r', { control: true }),
      down('R', { control: true, shift: true }),
      down('Escape'),
      down('F11'),
      down('F5'),
      down('I', { control: true, shift: true }),
      down('i', { meta: true, alt: true, shift: true }),
      down('m', { meta: true }),
      down('h', { meta: true }),
    ])
      expect(installKeyAction(k), JSON.stringify(k)).toBe('block');
    for (const k of [down('a'), down(' '), down('ArrowUp'), down('w'), down('F4')]) expect(installKeyAction(k), JSON.stringify(k)).toBe('pass');
  });

  it('the window closes only after the chord', () => {
    expect(installMayClose(false)).toBe(false);
    expect(installMayClose(true)).toBe(true);
  });
});
