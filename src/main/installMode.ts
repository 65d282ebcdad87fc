/**
 * The desktop app's installation mode (`--install show.yaml`): the audience
 * view fullscreen (kiosk) on the display, the display kept awake, the cursor
 * hidden, and no way out but a key chord ({@link EXIT_CHORD}): closing the
 * window, reloading, developer tools and leaving fullscreen are refused.
 * Pure decisions; main.ts applies them to Electron.
 */
import type { WindowOptions } from './guards.ts';

/** The only way to quit an installation: Ctrl+Alt+Shift+Q. */
export const EXIT_CHORD = 'Ctrl+Alt+Shift+Q';

/** Keeps the display (and so the system) awake: Electron's powerSaveBlocker type. */
export const POWER_SAVE_BLOCKER = 'prevent-display-sleep' as const;

/** Inserted into the audience page: no cursor anywhere. */
export const HIDE_CURSOR_CSS = 'html, body, body * { cursor: none !important; }';

/** The show file of `--install FILE` or `--install=FILE` (undefined without the switch). */
export function installShowArg(argv: readonly string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a.startsWith('--install=')) {
      const file = a.slice('--install='.length);
      if (!file) throw new Error('--install: expected a show file (--install show.yaml)');
      return file;
    }
    if (a === '--install') {
      const file = argv[i + 1];
      if (file === undefined || file.startsWith('--')) throw new Error('--install: expected a show file (--install show.yaml)');
      return file;
    }
  }
  return undefined;
}

/** An installation's window options: the app's, and the kiosk's. */
export interface InstallWindowOptions extends WindowOptions {
  fullscreen: boolean;
  kiosk: boolean;
  frame: boolean;
  autoHideMenuBar: boolean;
  fullscreenable: boolean;
  minimizable: boolean;
  closable: boolean;
  alwaysOnTop: boolean;
}

/** The window of an installation: the normal locked-down one, fullscreen and kiosk, no menu, shown at once. */
export function installWindowOptions(base: WindowOptions): InstallWindowOptions {
  return {
    ...base,
    fullscreen: true,
    kiosk: true,
    frame: false,
    autoHideMenuBar: true,
    fullscreenable: true,
    minimizable: false,
    closable: false,
    alwaysOnTop: true,
    show: true,
    webPreferences: { ...base.webPreferences, devTools: false },
  };
}

/** A key as Electron's `before-input-event` gives it. */
export interface KeyInput {
  type: string;
  key: string;
  control?: boolean;
  alt?: boolean;
  shift?: boolean;
  meta?: boolean;
}

/**
 * What an installation does with a key: `quit` for the exit chord, `block`
 * for keys that would close, reload, leave fullscreen or open tools, `pass`
 * for the rest (the audience page takes no input anyway).
 */
export function installKeyAction(k: KeyInput): 'quit' | 'block' | 'pass' {
  if (k.type !== 'keyDown' && k.type !== 'rawKeyDown') return 'pass';
  const key = k.key.length === 1 ? k.key.toLowerCase() : k.key;
  if (key === 'q' && k.control && k.alt && k.shift && !k.meta) return 'quit';
  const mod = Boolean(k.control || k.meta);
  if (['Escape', 'F11', 'F12', 'F5'].includes(key)) return 'block';
  if (key === 'F4' && k.alt) return 'block';
  if (mod && ['q', 'w', 'r', 'm', 'h', 'n', 't', 'o', 'p', 'f'].includes(key)) return 'block';
  if (mod && k.shift && ['i', 'j', 'c'].includes(key)) return 'block';
  if (k.meta && key === 'Tab') return 'block';
  return 'pass';
}

/** Whether the window may close now: only after the exit chord (the OS asking, Alt+F4, a close button: refused). */
export function installMayClose(exitChordPressed: boolean): boolean {
  return exitChordPressed;
}
