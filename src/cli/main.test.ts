import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PROJECT_ROOT } from '../engine/node/files.ts';

const BIN = resolve(PROJECT_ROOT, 'bin/ecosym.mjs');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function ecosym(args: string[], cwd = PROJECT_ROOT, env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return new Promise((done) => {
    execFile(process.execPath, [BIN, ...args], { cwd, timeout: 120_000, maxBuffer: 16 << 20, env: { ...process.env, ...env } }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      done({ code, stdout, stderr });
    });
  });
}

const tmp = () => mkdtempSync(join(tmpdir(), 'ecosym-cli-'));

/**
 * A machine without an audio device, on any Linux machine (sound card or not):
 * ALSA reads an empty configuration, so it knows no "default" PCM and the
 * device cannot be opened. It also prints an `ALSA lib … Unknown PCM default`
 * line to fd 2, like a machine without a card does.
 */
function noDeviceEnv(): NodeJS.ProcessEnv {
  const conf = join(tmp(), 'empty-asound.conf');
  writeFileSync(conf, '');
  return { ALSA_CONFIG_PATH: conf };
}
const NOT_LINUX = process.platform !== 'linux';
const LINUX_ONLY = NOT_LINUX ? ' — skipped: no device is simulated through ALSA_CONFIG_PATH, which only Linux reads' : '';

describe('ecosym validate', () => {
  it('passes the built-in patches', async () => {
    const r = await ecosym(['validate', 'patches/seattle-drift.yaml', 'patches/carbon-pulse.yaml', 'patches/warming-stripes.yaml', '--no-data']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split('\n')).toStrictEqual([
      'ok patches/seattle-drift.yaml',
      'ok patches/carbon-pulse.yaml',
      'ok patches/warming-stripes.yaml',
    ]);
  });

  it('exits 1 with one line per error, each naming file, line and path', async () => {
    const dir = tmp();
    const file = join(dir, 'broken.yaml');
    writeFileSync(
      file,
      readFileSync(join(PROJECT_ROOT, 'patches/warming-stripes.yaml'), 'utf8')
        .replace('to: lead.detune', 'to: lead.detun')
        .replace('tempo: 80', 'tempo: 900')
        .replace('    poly: 2\n', '    polly: 2\n'),
    );
    const r = await ecosym(['validate', file]);
    expect(r.code).toBe(1);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines.every((l) => l.startsWith(`${file}:`))).toBe(true);
    expect(lines.some((l) => /:\d+: tempo: .*300/.test(l))).toBe(true);
    expect(lines.some((l) => /:\d+: mappings\[0\]\.to: "lead\.detun"/.test(l))).toBe(true);
    expect(lines.some((l) => /voices\.lead: unknown key "polly" \(did you mean "poly"\?\)/.test(l))).toBe(true);
  });
});

describe('ecosym schema and patches', () => {
  it('schema prints the committed JSON Schema', async () => {
    const r = await ecosym(['schema']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(readFileSync(join(PROJECT_ROOT, 'schema/patch.schema.json'), 'utf8'));
  });

  it('schema --show prints the committed JSON Schema of show files', async () => {
    const r = await ecosym(['schema', '--show']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(readFileSync(join(PROJECT_ROOT, 'schema/show.schema.json'), 'utf8'));
  });

  it('patches --json lists each built-in patch with its streams', async () => {
    const r = await ecosym(['patches', '--json']);
    expect(r.code).toBe(0);
    const list = JSON.parse(r.stdout) as Array<{ id: string; name: string; description: string; streams: Array<{ name: string; description?: string }> }>;
    expect(list.map((p) => p.id)).toStrictEqual(['carbon-pulse', 'four-chapters', 'iowa-power', 'mote-pulse', 'quake-week', 'seattle-drift', 'seattle-sky', 'warming-stripes']);
    for (const p of list) {
      expect(p.description.length).toBeGreaterThan(40);
      expect(p.streams.length).toBeGreaterThan(0);
      for (const s of p.streams) expect(s.description?.length).toBeGreaterThan(20);
    }
    expect(list.find((p) => p.id === 'seattle-drift')!.streams.map((s) => s.name)).toStrictEqual(['temperature', 'wind', 'pressure']);
  });
});

describe('ecosym render', () => {
  it('bounces a WAV with a summary; same seed gives the same bytes, another seed other bytes', async () => {
    const dir = tmp();
    const a = await ecosym(['render', 'warming-stripes', '--duration', '3s', '--seed', '3', '--out', join(dir, 'a.wav')]);
    const b = await ecosym(['render', 'warming-stripes', '--duration', '3s', '--seed', '3', '--out', join(dir, 'b.wav')]);
    const c = await ecosym(['render', 'warming-stripes', '--duration', '3s', '--seed', '4', '--out', join(dir, 'c.wav')]);
    expect([a.code, b.code, c.code]).toStrictEqual([0, 0, 0]);
    expect(a.stdout).toMatch(/Wrote .*a\.wav: 3\.0s, peak -\d+\.\d dBFS, RMS -\d+\.\d dBFS, \d+ notes, \d+\.\dx real time/);
    const wa = readFileSync(join(dir, 'a.wav'));
    expect(wa.subarray(0, 4).toString()).toBe('RIFF');
    expect(wa.readUInt32LE(24)).toBe(48000);
    expect(wa.length).toBeGreaterThan(3 * 48000 * 2 * 3);
    expect(wa.equals(readFileSync(join(dir, 'b.wav')))).toBe(true);
    expect(wa.equals(readFileSync(join(dir, 'c.wav')))).toBe(false);
  });

  it('binds --data columns and says what is wrong with a bad binding', async () => {
    const dir = tmp();
    const ok = await ecosym(['render', 'warming-stripes', '--duration', '2s', '--out', join(dir, 'x.wav'), '--data', 'anomaly=samples/data/global-temp.csv#temp@year']);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('data: anomaly ← temp @ year (144 rows: 144 kept; 144 values)');
    const badColumn = await ecosym(['render', 'warming-stripes', '--duration', '2s', '--out', join(dir, 'y.wav'), '--data', 'anomaly=samples/data/global-temp.csv#tmp']);
    expect(badColumn.code).toBe(1);
    expect(badColumn.stderr).toContain('no column "tmp" (columns: year, temp)');
    const badStream = await ecosym(['render', 'warming-stripes', '--duration', '2s', '--data', 'rain=samples/data/global-temp.csv']);
    expect(badStream.code).toBe(2);
    expect(badStream.stderr).toContain('the patch has no stream "rain" (streams: anomaly)');
    expect(existsSync(join(dir, 'y.wav'))).toBe(false);
  });

  it('rejects unknown commands and options with exit 2', async () => {
    expect((await ecosym(['bounce'])).code).toBe(2);
    expect((await ecosym(['render', 'warming-stripes', '--lenght', '3s'])).code).toBe(2);
  });
});

describe('ecosym play', () => {
  it('--sink none plays in real time and prints levels and stream values', async () => {
    const r = await ecosym(['play', 'carbon-pulse', '--sink', 'none', '--duration', '3s', '--loop', '3s']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Playing Carbon Pulse (no audio device: --sink none)');
    const levels = r.stdout.split('\n').filter((l) => /peak -?\d+\.\d dBFS {2}rms -?\d+\.\d dBFS {2}\| co2=\d+/.test(l));
    expect(levels.length).toBeGreaterThanOrEqual(2);
    const notes = Number(/Stopped: (\d+) notes, 0 engine errors/.exec(r.stdout)?.[1]);
    // 3 s at about 100 BPM: kicks, hats, bass and stabs make dozens of notes
    expect(notes).toBeGreaterThan(20);
  });

  it.skipIf(NOT_LINUX)(`without a device says so first, names --sink none, and exits 3; the driver's lines only with --verbose${LINUX_ONLY}`, async () => {
    const env = noDeviceEnv();
    const r = await ecosym(['play', 'carbon-pulse', '--duration', '1s'], PROJECT_ROOT, env);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/^ecosym: no audio output device could be opened/);
    expect(r.stderr).toContain('--sink none');
    expect(r.stderr).not.toContain('ALSA lib');
    expect(r.stderr).toContain('--verbose shows what the audio driver said');
    const v = await ecosym(['play', 'carbon-pulse', '--duration', '1s', '--verbose'], PROJECT_ROOT, env);
    expect(v.code).toBe(3);
    expect(v.stderr).toMatch(/^ecosym: no audio output device could be opened/);
    expect(v.stderr).toMatch(/The audio driver said:\nALSA lib .*Unknown PCM default/);
  });

  it.skipIf(NOT_LINUX)(`demo bounces to out/demo.wav when there is no device, without the driver's lines${LINUX_ONLY}`, async () => {
    const dir = tmp();
    const r = await ecosym(['demo'], dir, noDeviceEnv());
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    // First the browser route to the UI (the desktop app does not start from npm start), then why it bounces.
    expect(lines[0]).toMatch(/^The app's screens in a browser: npx ecosym serve seattle-drift/);
    expect(lines[1]).toMatch(/^No audio device here/);
    expect(r.stdout).toContain('Bouncing the demo to out/demo.wav');
    expect(r.stderr).not.toContain('ALSA lib');
    const wav = readFileSync(join(dir, 'out/demo.wav'));
    expect(wav.length).toBeGreaterThan(60 * 48000 * 2 * 3);
  });
});
