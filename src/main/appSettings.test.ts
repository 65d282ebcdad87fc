/**
 * The app's settings file: remote access remembered across runs (a new
 * AppSettings on the same file is the next run), written atomically, and a
 * corrupt or wrong file gives the defaults with a line saying why.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppSettings, defaultSettings } from './appSettings.ts';

const dir = mkdtempSync(join(tmpdir(), 'ecosym-settings-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const fresh = () => {
  const d = join(dir, `s${++n}`);
  mkdirSync(d);
  return join(d, 'settings.json');
};

describe('app settings', () => {
  it('starts from the defaults (off, 0.0.0.0:8080) and remembers remote access across runs', () => {
    const file = fresh();
    const logs: string[] = [];
    const a = new AppSettings(file, (l) => logs.push(l));
    expect(a.remote).toEqual({ on: false, host: '0.0.0.0', port: 8080 });
    expect(existsSync(file)).toBe(false);
    a.setRemote({ on: true, host: '127.0.0.1', port: 9090 });
    // the next run
    expect(new AppSettings(file).remote).toEqual({ on: true, host: '127.0.0.1', port: 9090 });
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ remote: { on: true, host: '127.0.0.1', port: 9090 } });
    // written by rename: no temporary file left beside it
    expect(readdirSync(join(file, '..'))).toEqual(['settings.json']);
    expect(logs).toEqual([]);
  });

  it('refuses to remember an address that could never be listened on', () => {
    const file = fresh();
    const a = new AppSettings(file);
    expect(() => a.setRemote({ on: true, host: 'somewhere', port: 8080 })).toThrow(/host must be an IP address/);
    expect(a.remote).toEqual(defaultSettings().remote);
    expect(existsSync(file)).toBe(false);
  });

  it('a corrupt file: the defaults, a line saying why, and the file set aside', () => {
    const file = fresh();
    new AppSettings(file).setRemote({ on: true, host: '127.0.0.1', port: 9000 });
    writeFileSync(file, '{"remote": {"on": tru');
    const logs: string[] = [];
    const a = new AppSettings(file, (l) => logs.push(l));
    expect(a.remote).toEqual({ on: false, host: '0.0.0.0', port: 8080 });
    expect(logs).toHaveLength(1);
    expect(logs[0]).toMatch(/settings: .*settings\.json: not JSON .*set aside as .*settings\.json\.corrupt, using the defaults/);
    expect(existsSync(`${file}.corrupt`)).toBe(true);
    // not an object
    writeFileSync(file, '[1, 2]');
    const logs2: string[] = [];
    expect(new AppSettings(file, (l) => logs2.push(l)).remote).toEqual(defaultSettings().remote);
    expect(logs2[0]).toMatch(/not a settings object/);
  });

  it('a wrong field alone: its default with a line, the rest kept', () => {
    const file = fresh();
    writeFileSync(join(file), JSON.stringify({ remote: { on: true, host: '127.0.0.1', port: 80 } }));
    const logs: string[] = [];
    expect(new AppSettings(file, (l) => logs.push(l)).remote).toEqual({ on: true, host: '0.0.0.0', port: 8080 });
    expect(logs[0]).toMatch(/remote address: port must be a whole number from 1024 to 65535, not 80; using 0\.0\.0\.0:8080/);
    writeFileSync(file, JSON.stringify({ remote: { on: 'yes', host: '::', port: 8443 } }));
    const logs2: string[] = [];
    expect(new AppSettings(file, (l) => logs2.push(l)).remote).toEqual({ on: false, host: '::', port: 8443 });
    expect(logs2[0]).toMatch(/remote\.on must be true or false; using off/);
  });
});
