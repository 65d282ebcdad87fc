/**
 * `ecosym play --watch` as an author uses it: a real `ecosym` process playing
 * a patch file with no audio device; the file is saved broken (the problem is
 * printed with its line, and the status line keeps showing sound), then fixed
 * (the new version is swapped in).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEcosym, type RunningCli } from '../../tests/support/cli.ts';
import { until } from '../../tests/support/wait.ts';

const dir = mkdtempSync(join(tmpdir(), 'ecosym-play-watch-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function patchText(tempo: number | string): string {
  return `name: watched
tempo: ${tempo}
streams:
  x: { default: 1 }
voices:
  drone:
    synth: synth
    oscillator: sine
    volume: -12
    notes: { mode: chord, octave: 3 }
    rhythm: { hold: true }
`;
}

function save(file: string, text: string): void {
  writeFileSync(`${file}.tmp`, text);
  renameSync(`${file}.tmp`, file);
}

/** The peak (dBFS) on the last status line printed after `from` characters of output. */
function lastPeak(out: string, from: number): number | undefined {
  const m = [...out.slice(from).matchAll(/peak (-?[\d.]+|-inf) dBFS/g)].at(-1);
  return m ? (m[1] === '-inf' ? -Infinity : Number(m[1])) : undefined;
}

describe('ecosym play --watch', () => {
  let cli: RunningCli | undefined;
  afterAll(async () => {
    await cli?.stop();
  });

  it('prints a broken save with its line, plays on, and swaps in the fix', async () => {
    const file = join(dir, 'watched.yaml');
    save(file, patchText(90));
    cli = startEcosym(['play', file, '--sink', 'none', '--watch']);
    const out = () => cli!.stdout();
    await until(() => /watching 1 file/.test(out()), `the watch to start:\n${out()}\n${cli!.stderr()}`, 60_000);
    await until(() => (lastPeak(out(), 0) ?? -Infinity) > -40, 'the drone to sound', 60_000);

    save(file, patchText('[1, 2]'));
    // The report's lines may come in more than one chunk of output: wait for the problem's line.
    await until(() => /not reloaded[^]*watched\.yaml:2: tempo: /.test(out()), `the broken save to be reported with its line:\n${out()}`);
    const at = out().length;
    // Status lines after the report: still sounding.
    await until(() => lastPeak(out(), at) !== undefined, 'a status line after the report');
    expect(lastPeak(out(), at)!).toBeGreaterThan(-60);

    save(file, patchText(128));
    await until(() => /reloaded .*watched\.yaml \(.*watched\.yaml changed\)/.test(out()), `the fix to be swapped in:\n${out()}`);
    const r = await cli.stop();
    cli = undefined;
    expect(r.code).toBe(143);
    expect(r.stderr).not.toMatch(/uncaught|unhandled/i);
  }, 120_000);
});
