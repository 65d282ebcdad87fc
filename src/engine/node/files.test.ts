/** Samples a patch names are confined to its folder and the sample folders, regular files only, size-capped. */
import { afterAll, describe, expect, it } from 'vitest';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadPatchFile, loadPatchSamples, PATCHES_DIR, SAMPLES_DIR } from './files.ts';
import { garbageCollector } from './platform/gc.ts';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const ORIGINAL = readFileSync(join(PATCHES_DIR, 'seattle-drift.yaml'), 'utf8');
const BELL = '../samples/bells/bell-c5.wav';
/** The line of the bells' sample in the patch (its key's line). */
const BELL_LINE = ORIGINAL.split('\n').findIndex((l) => l.includes(BELL)) + 1;

/** seattle-drift in a folder of its own, its bell sample at `samplePath`. */
function patchIn(samplePath: string): { dir: string; file: string } {
  const dir = mkdtempSync(join(tmpdir(), 'ecosym-files-'));
  dirs.push(dir);
  const file = join(dir, 'p.yaml');
  // Data sources and the other samples point back at the built-in ones.
  writeFileSync(file, ORIGINAL.replaceAll('../samples/', `${SAMPLES_DIR}/`).replace(`${SAMPLES_DIR}/bells/bell-c5.wav`, samplePath));
  return { dir, file };
}

async function loadError(file: string, env: NodeJS.ProcessEnv = {}, maxBytes?: number): Promise<string> {
  const pf = loadPatchFile(file);
  return loadPatchSamples(pf, { env, maxBytes }).then(
    () => 'loaded',
    (e: Error) => e.message,
  );
}

describe('sample files', () => {
  it('a sample beside the patch and the built-in samples load', async () => {
    const { dir, file } = patchIn('bell.wav');
    copyFileSync(join(SAMPLES_DIR, 'bells/bell-c5.wav'), join(dir, 'bell.wav'));
    const samples = await loadPatchSamples(loadPatchFile(file), { env: {} });
    expect(samples.get('bell.wav')!.duration).toBeGreaterThan(0.5);
    expect([...samples.keys()].filter((k) => k.startsWith(SAMPLES_DIR)).length).toBeGreaterThan(0);
  });

  it('a path climbing out of the patch folder is refused, naming the patch file, line and path', async () => {
    const { file } = patchIn('../../../../etc/passwd');
    const msg = await loadError(file);
    expect(msg).toMatch(new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:${BELL_LINE}: voices\\.bells\\.samples\\.C5: "\\.\\./\\.\\./\\.\\./\\.\\./etc/passwd" is outside the folders samples may come from`));
  });

  it('/dev/zero is refused: outside the folders, and not a regular file even when /dev is a sample folder', async () => {
    const { file } = patchIn('/dev/zero');
    expect(await loadError(file)).toContain(`p.yaml:${BELL_LINE}: voices.bells.samples.C5: "/dev/zero" is outside the folders samples may come from`);
    expect(await loadError(file, { ECOSYM_SAMPLES_DIR: '/dev' })).toContain(`p.yaml:${BELL_LINE}: voices.bells.samples.C5: "/dev/zero" is not a regular file`);
  });

  it('a symbolic link in the patch folder pointing out of it is refused', async () => {
    const { dir, file } = patchIn('bell.wav');
    symlinkSync('/etc/passwd', join(dir, 'bell.wav'));
    expect(await loadError(file)).toContain('"bell.wav" is outside the folders samples may come from');
  });

  it('a named pipe in the patch folder is refused without waiting for a writer', async () => {
    const { dir, file } = patchIn('bell.wav');
    execFileSync('mkfifo', [join(dir, 'bell.wav')]);
    expect(await loadError(file)).toContain('"bell.wav" is not a regular file');
  });

  it('a sample folder from ECOSYM_SAMPLES_DIR is allowed; a file over the size limit is refused', async () => {
    const lib = mkdtempSync(join(tmpdir(), 'ecosym-lib-'));
    dirs.push(lib);
    copyFileSync(join(SAMPLES_DIR, 'bells/bell-c5.wav'), join(lib, 'bell.wav'));
    const { file } = patchIn(join(lib, 'bell.wav'));
    expect(await loadError(file)).toContain('is outside the folders samples may come from');
    expect(await loadError(file, { ECOSYM_SAMPLES_DIR: lib })).toBe('loaded');
    expect(await loadError(file, { ECOSYM_SAMPLES_DIR: lib }, 1000)).toMatch(/voices\.bells\.samples\.C5: ".*bell\.wav" is \d+ bytes, over the 1000-byte limit for a sample/);
  });
});

describe('sample decoding over a long show', () => {
  it('frees its decode context after every load (node-web-audio-api keeps one it was not told to drop), and the samples it decoded stay whole', async () => {
    // Every OfflineAudioContext made while loading, watched for collection.
    const Original = globalThis.OfflineAudioContext;
    let made = 0;
    let alive = 0;
    const registry = new FinalizationRegistry(() => void alive--);
    globalThis.OfflineAudioContext = class extends Original {
      constructor(...args: ConstructorParameters<typeof Original>) {
        super(...args);
        made++;
        alive++;
        registry.register(this, made);
      }
    } as typeof Original;
    const pf = loadPatchFile(join(PATCHES_DIR, 'seattle-drift.yaml'));
    const loads: Array<Map<string, AudioBuffer>> = [];
    try {
      for (let i = 0; i < 6; i++) loads.push(await loadPatchSamples(pf, { env: {} }));
    } finally {
      globalThis.OfflineAudioContext = Original;
    }
    const gc = garbageCollector()!;
    for (let k = 0; k < 5 && alive > 0; k++) {
      await new Promise((r) => setTimeout(r, 20));
      gc();
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(made).toBe(6);
    // The newest may still be held a while (platform.test.ts: exactly one at most); none piles up.
    expect(alive).toBeLessThanOrEqual(1);
    // The buffers outlive their decode context: the first load's equal the last's, sample for sample.
    const first = [...loads[0]!.values()];
    const last = [...loads[5]!.values()];
    expect(first.length).toBeGreaterThan(0);
    for (let i = 0; i < first.length; i++) {
      const a = first[i]!.getChannelData(0).slice();
      const b = last[i]!.getChannelData(0).slice();
      expect(a.length).toBe(b.length);
      expect(Math.max(...a.map(Math.abs))).toBeGreaterThan(0.01);
      expect(a).toEqual(b);
    }
  });
});
