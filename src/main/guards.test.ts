import { describe, expect, it } from 'vitest';
import { appUrls, checkIpcArgs, isAppUrl, isIndexUrl, isTrustedFrame, windowOptions, windowTitle } from './guards.ts';

const { prefix, index } = appUrls('/opt/eco/src/renderer');

describe('the main process guards', () => {
  it('knows the app pages from everything else, after normalising the URL', () => {
    expect(isAppUrl(index, prefix)).toBe(true);
    expect(isAppUrl('file:///opt/eco/src/renderer/styles.css', prefix)).toBe(true);
    // Climbing out with .. (plain or encoded), another folder, another scheme.
    expect(isAppUrl('file:///opt/eco/src/renderer/../main/main.js', prefix)).toBe(false);
    expect(isAppUrl('file:///opt/eco/src/renderer/%2e%2e/main/main.js', prefix)).toBe(false);
    expect(isAppUrl('file:///opt/eco/src/renderer-evil/index.html', prefix)).toBe(false);
    expect(isAppUrl('https://example.com/opt/eco/src/renderer/index.html', prefix)).toBe(false);
    expect(isAppUrl('not a url', prefix)).toBe(false);
    expect(isAppUrl(undefined, prefix)).toBe(false);
    expect(isIndexUrl(`${index}?token=1#x`, index)).toBe(true);
    expect(isIndexUrl('file:///opt/eco/src/renderer/other.html', index)).toBe(false);
  });

  it('trusts an IPC sender only while its frame shows an app page', () => {
    expect(isTrustedFrame({ url: index }, prefix)).toBe(true);
    expect(isTrustedFrame({ url: 'https://evil.example/' }, prefix)).toBe(false);
    expect(isTrustedFrame(null, prefix)).toBe(false);
  });

  it('checks IPC arguments per channel', () => {
    expect(checkIpcArgs('openSessionPort', [])).toEqual([]);
    expect(() => checkIpcArgs('openSessionPort', [1])).toThrow(/session:openPort: expected 0 argument/);
    expect(checkIpcArgs('openRecent', ['/a/b.yaml'])).toEqual(['/a/b.yaml']);
    expect(checkIpcArgs('setRemoteAccess', [true])).toEqual([true]);
    expect(() => checkIpcArgs('setRemoteAccess', ['yes'])).toThrow(/app:setRemoteAccess: expected true or false/);
    expect(() => checkIpcArgs('setRemoteAccess', [])).toThrow(/expected 1 argument/);
    expect(checkIpcArgs('setRemoteAddress', [{ host: '0.0.0.0', port: 8080 }])).toEqual([{ host: '0.0.0.0', port: 8080 }]);
    for (const bad of [null, 'x', { host: '0.0.0.0' }, { host: 1, port: 8080 }, { host: '0.0.0.0', port: '8080' }, { host: 'h'.repeat(300), port: 1 }, { host: 'a', port: 1, extra: 1 }])
      expect(() => checkIpcArgs('setRemoteAddress', [bad])).toThrow(/app:setRemoteAddress: expected \{ host: text, port: number \}/);
    expect(() => checkIpcArgs('openRecent', [{ path: '/a' }])).toThrow(/app:openRecent: expected a file path/);
    expect(() => checkIpcArgs('openRecent', ['x'.repeat(5000)])).toThrow(/at most 4096/);
    expect(() => checkIpcArgs('openRecent', ['/a\0b'])).toThrow(/file path/);
    expect(() => checkIpcArgs('openRecent', [])).toThrow(/expected 1 argument/);
  });

  it('opens the window locked down', () => {
    const o = windowOptions('/opt/eco/dist/preload/preload.js');
    expect(o.webPreferences).toMatchObject({
      preload: '/opt/eco/dist/preload/preload.js',
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      backgroundThrottling: false,
    });
    expect(o.show).toBe(false);
  });

  it('says in the title when the audio host restarts', () => {
    expect(windowTitle('playing', 'carbon-pulse')).toBe('carbon-pulse — Eco-Symphony');
    expect(windowTitle('restarting', 'carbon-pulse')).toMatch(/audio restarting/);
    expect(windowTitle('stopped')).toMatch(/audio stopped/);
  });
});
