/**
 * Renderer entry: UI only. Talks to the rest of the app through
 * `window.ecosym` (the typed {@link Bridge} from the preload), nothing else.
 */
import type { Bridge } from '../shared/ipc.ts';

/** The bridge, or undefined when the page runs without the preload (e.g. opened directly in a browser). */
function findBridge(): Bridge | undefined {
  const candidate = (window as Partial<Window>).ecosym;
  return typeof candidate?.getVersion === 'function' ? candidate : undefined;
}

async function showVersion(element: HTMLElement): Promise<void> {
  const bridge = findBridge();
  if (bridge === undefined) {
    element.textContent = 'Not connected to the Eco-Symphony app: start it with the desktop app.';
    element.classList.add('error');
    return;
  }
  try {
    const { app, electron } = await bridge.getVersion();
    element.textContent = `Version ${app} · Electron ${electron}`;
  } catch (error) {
    console.error('[renderer] getVersion failed:', error);
    element.textContent = 'Could not read the app version. Restart the app; if it persists, report it.';
    element.classList.add('error');
  }
}

const status = document.getElementById('version');
if (status !== null) void showVersion(status);
