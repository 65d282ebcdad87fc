/**
 * `ecosym new NAME [--from PATCH] [--out DIR]`: writes NAME.yaml, a commented
 * starter patch (or a copy of a patch, its comments kept) whose data, sample
 * and schema paths are rewritten relative to where it is written, so it
 * validates and plays there. Never overwrites a file.
 */
import { existsSync, linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { formatPatchError } from '../engine/core/patchLoader.ts';
import { PROJECT_ROOT, resolvePatchPath, SAMPLES_DIR } from '../engine/node/files.ts';
import { checkPatchFile, checkPatchText } from '../engine/node/patchCheck.ts';
import { UsageError } from './common.ts';

const FILE_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;

/**
 * How a patch written in `dir` names `target`: relative (forward slashes, ./ or ../) when `dir` is in
 * the project, so the project can move; absolute when it is elsewhere, so the file can.
 */
function relFrom(dir: string, target: string): string {
  const inProject = !relative(PROJECT_ROOT, dir).startsWith('..') && !isAbsolute(relative(PROJECT_ROOT, dir));
  if (!inProject) return target;
  const r = relative(dir, target).split(sep).join('/');
  return r.startsWith('../') || r === '..' ? r : `./${r}`;
}

/** The starter patch: one data stream, three voices, a reverb, a threshold and two scenes, each part explained. */
export function starterPatch(name: string, dir: string): string {
  const data = relFrom(dir, join(SAMPLES_DIR, 'data', 'global-temp.csv'));
  const knock = relFrom(dir, join(SAMPLES_DIR, 'wood', 'knock.wav'));
  const schema = relFrom(dir, join(PROJECT_ROOT, 'schema', 'patch.schema.json'));
  return `# ${name}: a starter patch made by \`ecosym new\`.
# Every field is described in docs/patch-reference.md (or \`ecosym schema --markdown\`).
# Check it with \`ecosym validate ${name}.yaml\`, look at its data with
# \`ecosym inspect ${name}.yaml\`, hear it with \`ecosym play ${name}.yaml\`.
$schema: ${schema}
name: ${name}
description: >
  Global temperature anomalies, 1880–2023: the warmer the year, the brighter
  and faster the piece; above +0.8 °C it moves to the "hot" scene.
seed: 1
tempo: 84            # BPM; the "pace" mapping below moves it with the data
key: D dorian        # tonic and mode
harmony:
  progression: [i, IV, i, v]   # roman numerals, diatonic to the key
  barsPerChord: 2

# Streams: where the numbers come from. A file path is relative to this patch;
# --data anomaly=URI on the command line plays another source instead.
streams:
  anomaly:
    source: ${data}#temp@year
    unit: degC
    default: 0
    description: Global land-ocean temperature anomaly (NASA GISS).

# Signals: each stream conditioned into 0…1 (range, curve, smoothing, thresholds).
signals:
  warmth: { from: anomaly, range: [-0.5, 1.2], smooth: 0.5s }
  hot: { from: anomaly, range: [-0.5, 1.2], threshold: { above: 0.76, hysteresis: 0.05, hold: 4s } }

# Buses: shared effects the voices send to.
buses:
  hall: { type: reverb, decay: 3, wet: 0.4 }

# Voices: the instruments. Each has exactly one rhythm form (euclid, pattern or hold).
voices:
  pad:
    synth: am
    oscillator: sine
    harmonicity: 2
    notes: { mode: chord, octave: 3 }
    rhythm: { hold: true }                 # a drone, one chord at a time
    envelope: { attack: 0.8, decay: 1, sustain: 0.7, release: 3 }
    filter: { type: lowpass, frequency: 800 }
    volume: -4
    send: { hall: 0.5 }
  bells:
    synth: fm
    harmonicity: 3
    modulationIndex: 6
    notes: { mode: arp-up, octave: 5, spread: 1 }
    rhythm: { euclid: [5, 16], every: 16n }  # 5 hits spread over 16 steps
    envelope: { attack: 0.005, decay: 0.4, sustain: 0.1, release: 1 }
    volume: -8
    send: { hall: 0.4 }
  ticks:
    synth: sampler
    samples: { C5: ${knock} }
    notes: { mode: fixed, note: C5 }
    rhythm: { pattern: "x...", every: 8n }
    volume: -14

# Mappings: signals drive parameters (see "Targets" in the reference).
mappings:
  - { from: warmth, to: pad.filter.frequency, range: [300, 4000], curve: exp }
  - { from: warmth, to: bells.density, range: [0.2, 1] }
  - { from: warmth, to: tempo, range: [72, 110], glide: 2s }
  - { from: hot, to: scene, on: hot, off: cool }

# Scenes: named states; switching crossfades over the scene's fade.
scenes:
  cool: { fade: 4s, voices: { ticks: { mute: true } } }
  hot: { fade: 3s, voices: { ticks: { volume: 6 }, bells: { octave: 1 } } }

master: { volume: -6, ceiling: -1 }
`;
}

/** Is this source string a file path (not a URL or a simulator)? */
function isFilePath(p: string): boolean {
  return p !== '' && !/^[A-Za-z][A-Za-z0-9+.-]*:/.test(p);
}

/**
 * A patch's text with every relative file path it names (stream sources, sampler
 * samples, $schema) rewritten from `fromDir` to `toDir`, and its name set.
 * Comments and layout are kept: only those strings change.
 */
export function copyPatchText(text: string, fromDir: string, toDir: string, name: string, paths: string[]): string {
  const distinct = [...new Set(paths.filter((p) => isFilePath(p) && !isAbsolute(p)))].sort((a, b) => b.length - a.length);
  let out = text;
  if (distinct.length) {
    const esc = distinct.map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
    // A path stands alone: after a space, quote, brace or colon, before a #, quote, space, comma, brace or the line's end.
    const re = new RegExp(`(?<=[\\s'"{:\\[,])(${esc.join('|')})(?=[#'"\\s,}\\]]|$)`, 'gm');
    // Comments stay as written: only the part of a line before a YAML comment (" #", or # first) changes.
    out = out
      .split('\n')
      .map((line) => {
        const c = /(^|\s)#/.exec(line);
        const code = c ? line.slice(0, c.index) : line;
        return code.replace(re, (p) => relFrom(toDir, resolve(fromDir, p))) + (c ? line.slice(c.index) : '');
      })
      .join('\n');
  }
  const named = out.replace(/^name:.*$/m, `name: ${name}`);
  return named === out && !/^name:/m.test(out) ? `name: ${name}\n${out}` : named;
}

export interface NewOptions {
  name: string;
  from?: string;
  out?: string;
}

/** `ecosym new`: returns the path written. */
export function newCommand(opts: NewOptions, log: (s: string) => void = console.log): string {
  const name = opts.name.replace(/\.ya?ml$/i, '');
  if (!FILE_NAME_RE.test(name)) throw new UsageError(`ecosym new: "${opts.name}" is not a usable name: letters, digits, _ or -, starting with a letter or digit`);
  const dir = resolve(opts.out ?? '.');
  const file = join(dir, `${name}.yaml`);
  if (existsSync(file)) throw new UsageError(`ecosym new: ${relative(process.cwd(), file) || file} exists; pick another name or --out folder (it is never overwritten)`, 1);

  let text: string;
  if (opts.from) {
    const src = resolvePatchPath(opts.from);
    const check = checkPatchFile(src);
    if (!check.ok) throw new UsageError(`ecosym new: --from ${opts.from} is not a valid patch:\n${check.errors.map((e) => formatPatchError(e)).join('\n')}`, 1);
    const p = check.pf.patch;
    const paths = [
      ...(p.$schema ? [p.$schema] : []),
      ...Object.values(p.streams).flatMap((s) => (s.source ? [s.source.split('#')[0]!.split('?')[0]!] : [])),
      ...Object.values(p.voices).flatMap((v) => Object.values(v.samples ?? {})),
    ];
    text = copyPatchText(readFileSync(src, 'utf8'), dirname(src), dir, name, paths);
  } else text = starterPatch(name, dir);

  // Check the text as if it were at its place, before anything is written.
  const check = checkPatchText(text, file);
  if (!check.ok) throw new Error(`ecosym new: the patch made for ${file} does not validate (a bug):\n${check.errors.map((e) => formatPatchError(e)).join('\n')}`);
  mkdirSync(dir, { recursive: true });
  // Written to a temporary file, then linked into place: the link fails if the name was taken meanwhile.
  const tmp = join(dir, `.${name}.yaml.${process.pid}.tmp`);
  writeFileSync(tmp, text);
  try {
    linkSync(tmp, file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw new UsageError(`ecosym new: ${file} exists; pick another name or --out folder (it is never overwritten)`, 1);
    throw e;
  } finally {
    unlinkSync(tmp);
  }
  const shown = relative(process.cwd(), file) || file;
  log(`wrote ${shown}${opts.from ? ` (from ${opts.from})` : ''}`);
  log(`  ecosym validate ${shown}   ecosym play ${shown}   reference: docs/patch-reference.md`);
  return file;
}
