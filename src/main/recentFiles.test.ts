import { afterAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MAX_RECENT, RecentFiles } from './recentFiles.ts';

const dir = mkdtempSync(join(tmpdir(), 'ecosym-recent-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const patch = (name: string) => {
  const p = join(dir, `${name}.yaml`);
  writeFileSync(p, 'name: x\n');
  return p;
};

describe('RecentFiles', () => {
  it('keeps files newest first, once each, at most ten, across restarts of the app', () => {
    const file = join(dir, 'a', 'recent.json');
    let t = 1000;
    const r = new RecentFiles(file, undefined, () => t++);
    const paths = Array.from({ length: 12 }, (_, i) => patch(`p${i}`));
    for (const p of paths) r.add(p);
    r.add(paths[5]!);
    const list = r.list();
    expect(list).toHaveLength(MAX_RECENT);
    expect(list[0]!.path).toBe(paths[5]);
    expect(list[1]!.path).toBe(paths[11]);
    expect(new Set(list.map((x) => x.path)).size).toBe(MAX_RECENT);
    expect(list.some((x) => x.path === paths[0])).toBe(false);
    // Saved as it changed: a new instance reads the same list; no temporary file left.
    expect(new RecentFiles(file).list()).toEqual(list);
    expect(readdirSync(join(dir, 'a'))).toEqual(['recent.json']);
    expect(JSON.parse(readFileSync(file, 'utf8')).recent).toHaveLength(MAX_RECENT);
    expect(r.has(paths[5]!)).toBe(true);
    expect(r.has(paths[0]!)).toBe(false);
  });

  it('leaves out files that are gone', () => {
    const r = new RecentFiles(join(dir, 'b.json'));
    const a = patch('gone');
    const b = patch('kept');
    r.add(a);
    r.add(b);
    unlinkSync(a);
    expect(r.list().map((x) => x.path)).toEqual([b]);
  });

  it('sets a corrupt file aside, says so, and starts empty', () => {
    const file = join(dir, 'c.json');
    writeFileSync(file, '{"recent": [ {"path": "/x", "openedAt": 1}, ');
    const lines: string[] = [];
    const r = new RecentFiles(file, (l) => lines.push(l));
    expect(r.list()).toEqual([]);
    expect(lines.join('\n')).toMatch(/not JSON.*set aside as .*c\.json\.corrupt/);
    expect(existsSync(`${file}.corrupt`)).toBe(true);
    // Entries of the wrong shape are dropped, good ones kept.
    const ok = patch('ok');
    writeFileSync(file, JSON.stringify({ recent: [{ path: 3 }, { path: ok, openedAt: 5 }, 'x', null] }));
    expect(new RecentFiles(file).list()).toEqual([{ path: ok, openedAt: 5 }]);
  });
});
