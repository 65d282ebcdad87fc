import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readStateFile, STATE_VERSION, writeStateFile, type InstallState } from './stateFile.ts';

const dir = () => mkdtempSync(join(tmpdir(), 'ecosym-state-'));
const state = (restarts: number): InstallState => ({
  version: STATE_VERSION,
  savedAt: 1_780_000_000_000 + restarts,
  show: 'show.yaml',
  cursor: { playlist: 'main', index: 1, startedAt: 1_780_000_000_000 },
  patch: 'seattle-drift',
  scene: 'calm',
  restarts,
  skipped: { 'carbon-pulse': 1_780_000_360_000 },
});

describe('state file', () => {
  it('round-trips a state, leaving no temporary file', () => {
    const d = dir();
    const f = join(d, 'show.state.json');
    writeStateFile(f, state(3));
    writeStateFile(f, state(4));
    expect(readStateFile(f)).toStrictEqual(state(4));
    expect(readdirSync(d)).toStrictEqual(['show.state.json']);
  });

  it('a write killed before its rename leaves the previous state whole', () => {
    const d = dir();
    const f = join(d, 'show.state.json');
    writeStateFile(f, state(1));
    expect(() =>
      writeStateFile(f, state(2), {
        beforeRename: () => {
          throw new Error('killed');
        },
      }),
    ).toThrow('killed');
    expect(readStateFile(f)).toStrictEqual(state(1));
    expect(readdirSync(d)).toStrictEqual(['show.state.json']);
  });

  it('a truncated, corrupt or foreign file is ignored with a log line naming the file and the problem', () => {
    const d = dir();
    const f = join(d, 'show.state.json');
    writeStateFile(f, state(5));
    const whole = readFileSync(f, 'utf8');
    const cases: Array<[string, RegExp]> = [
      [whole.slice(0, whole.length >> 1), /corrupt or truncated/],
      ['\u0000\u0000\u0000', /corrupt or truncated/],
      ['', /corrupt or truncated .*0 bytes/],
      [JSON.stringify({ ...state(1), version: 99 }), /not a state of this version \(version: /],
      [JSON.stringify({ ...state(1), cursor: { playlist: 'main', index: -1, startedAt: 0 } }), /cursor\.index/],
    ];
    for (const [text, why] of cases) {
      writeFileSync(f, text);
      const lines: string[] = [];
      expect(readStateFile(f, (l) => lines.push(l))).toBeUndefined();
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain(f);
      expect(lines[0]).toMatch(why);
      expect(lines[0]).toContain('the playlist starts over');
    }
  });

  it('no state file yet: undefined and no log line', () => {
    const lines: string[] = [];
    expect(readStateFile(join(dir(), 'none.json'), (l) => lines.push(l))).toBeUndefined();
    expect(lines).toStrictEqual([]);
  });
});
