/**
 * `ecosym render`: bounce a patch to WAV faster than real time.
 */
import { relative } from 'node:path';
import { formatSeconds } from '../engine/core/units.ts';
import { loadPatchFile, loadPatchSamples, patchId, resolvePatchPath, writeFileAtomic } from '../engine/node/files.ts';
import { renderOffline, stemNames, stemWidth } from '../engine/node/render.ts';
import { FlacStreamWriter } from '../engine/node/flacStream.ts';
import { planFor } from '../engine/node/bridges/oscOut.ts';
import { oscLogLine, type TimedOscMessage } from '../engine/core/oscOut.ts';
import type { Engine } from '../engine/audio/Engine.ts';
import type { WavDepth } from '../engine/node/wav.ts';
import { WAV_MAX_DATA_BYTES, wavDataBytes, WavStreamWriter } from '../engine/node/wavStream.ts';
import { SIGNAL_EXIT_CODES } from './stop.ts';
import { outputPlan, resolveLayout } from '../engine/core/spatial.ts';
import { MidiFileRecorder } from '../engine/node/midi/file.ts';
import { resolveMidi } from '../engine/core/midi/config.ts';
import { dbfs, durationArg, numberArg, progressBar, streamFeeds, UsageError } from './common.ts';

export interface RenderArgs {
  patch: string;
  duration?: string;
  out?: string;
  seed?: string;
  sampleRate?: string;
  data: string[];
  speed?: string;
  bits?: string;
  /** Also write the notes as a standard MIDI file here. */
  midi?: string;
  quiet?: boolean;
  /** Writes the OSC the patch would have sent, one JSON line per message with its time. */
  oscLog?: string;
  /** Output channels (default: the patch's output layout's); fewer folds the layout down to stereo. */
  channels?: string;
  /** wav or flac (default: from the --out extension, else wav). */
  format?: string;
  /** Also write one stereo file per voice and per bus, beside the mix. */
  stems?: boolean;
  /** Segment length ("60s", "2m") or "off": memory bounded by the segment (default: 60 s segments above 2 minutes). */
  segment?: string;
}

/** What the render writes into: a WAV or a FLAC file, as it comes. */
interface AudioWriter {
  readonly path: string;
  readonly frames: number;
  readonly nonFinite: number;
  write(channels: readonly Float32Array[], frames?: number): void;
  finish(): void;
  abort(): void;
}

export interface RenderSummary {
  file: string;
  seconds: number;
  peakDb: number;
  rmsDb: number;
  speed: number;
  notes: number;
  /** The MIDI file written, if asked for. */
  midiFile?: string;
  /** The stem files written, if asked for. */
  stemFiles?: string[];
}

/**
 * Where to send progress when a parent process asked for it (`ECOSYM_PROGRESS=ipc`:
 * a session's bounce runs this command in a child): Node's IPC, or an Electron
 * utility process's `process.parentPort` (the desktop app). Undefined otherwise.
 */
function ipcProgress(): ((m: unknown) => void) | undefined {
  if (process.env.ECOSYM_PROGRESS !== 'ipc') return undefined;
  const port = (process as unknown as { parentPort?: { postMessage(m: unknown): void } }).parentPort;
  if (port) return (m) => port.postMessage(m);
  if (typeof process.send !== 'function' || !process.connected) return undefined;
  return (m) => {
    if (process.connected) process.send!(m);
  };
}

/** The terminal's bar, plus `{type: 'progress', done, total}` messages to the parent at each whole percent. */
function progressReporter(bar: ReturnType<typeof progressBar>): ReturnType<typeof progressBar> {
  const send = ipcProgress();
  if (!send) return bar;
  let last = -1;
  return {
    update(done, total) {
      bar.update(done, total);
      const pct = Math.floor((100 * done) / total);
      if (pct === last) return;
      last = pct;
      send({ type: 'progress', done, total });
    },
    end: () => bar.end(),
  };
}

/** Renders and writes the WAV; prints a summary. */
export async function renderCommand(a: RenderArgs, log: (s: string) => void = console.log): Promise<RenderSummary> {
  const pf = loadPatchFile(resolvePatchPath(a.patch));
  const duration = durationArg(a.duration, 60);
  const sampleRate = numberArg(a.sampleRate, '--sample-rate') ?? 48000;
  if (sampleRate < 8000 || sampleRate > 192000) throw new UsageError(`--sample-rate ${sampleRate}: expected 8000…192000`);
  const seed = a.seed === undefined ? undefined : Number(a.seed);
  if (seed !== undefined && (!Number.isInteger(seed) || seed < 0)) throw new UsageError(`--seed "${a.seed}": expected a whole number ≥ 0`);
  const bits = (a.bits ?? '24') as WavDepth;
  if (!['16', '24', '32f'].includes(bits)) throw new UsageError(`--bits "${a.bits}": expected 16, 24 or 32f`);
  if (a.midi !== undefined && !/\.midi?$/i.test(a.midi)) throw new UsageError(`--midi "${a.midi}": expected a .mid file`);
  const speed = numberArg(a.speed, '--speed');
  const oscSection = pf.patch.osc?.out;
  if (a.oscLog !== undefined && !oscSection) throw new UsageError(`--osc-log: patch "${pf.patch.name}" has no osc.out messages`);
  const oscPlan = a.oscLog !== undefined && oscSection ? planFor(oscSection) : undefined;
  const oscMessages: TimedOscMessage[] = [];
  const { feeds, described, paces } = await streamFeeds(pf, a.data, duration, speed, (stream, uri) =>
    log(`Capturing ${stream} live from ${uri} for ${formatSeconds(duration)} before rendering…`),
  );
  const segmentSeconds = a.segment === undefined ? undefined : a.segment === 'off' ? 0 : durationArg(a.segment, 60, '--segment');
  const format = a.format ?? (a.out && /\.flac$/i.test(a.out) ? 'flac' : 'wav');
  if (format !== 'wav' && format !== 'flac') throw new UsageError(`--format "${a.format}": expected wav or flac`);
  if (format === 'flac' && a.bits === '32f') throw new UsageError('--bits 32f: FLAC holds 16 or 24 bits; use --format wav for float');
  const out = a.out ?? `out/${patchId(pf.file)}.${format}`;
  const samples = await loadPatchSamples(pf, { sampleRate });
  if (!a.quiet) {
    log(`Rendering ${pf.patch.name} (${relative(process.cwd(), pf.file) || pf.file}), ${formatSeconds(duration)} at ${sampleRate} Hz, seed ${seed ?? pf.patch.seed}`);
    for (const d of described) log(`  data: ${d}`);
    for (const p of paces) log(`  pace: ${p}`);
  }
  const recorder = a.midi === undefined ? undefined : new MidiFileRecorder();
  const layout = resolveLayout(pf.patch.output);
  const channels = numberArg(a.channels, '--channels') ?? layout.channels;
  if (!Number.isInteger(channels) || channels < 1 || channels > 32) throw new UsageError(`--channels ${a.channels}: expected a whole number 1…32`);
  const plan = outputPlan(layout, channels);
  if (plan.folded && channels !== plan.channels) throw new UsageError(`--channels ${channels}: the ${layout.name} layout has ${layout.channels}; give ${layout.channels}, or 2 (or 1) to fold it down`);
  if (!a.quiet && (pf.patch.output || plan.folded)) log(`  output: ${plan.note ?? `${channels} channels (${layout.name})`}`);
  if (format === 'wav' && wavDataBytes(Math.round(duration * sampleRate), { channels, depth: bits }) > WAV_MAX_DATA_BYTES)
    throw new UsageError(`--duration ${formatSeconds(duration)}: more than a WAV's 4 GB at ${channels} channels, ${bits}-bit; use a lower bit depth or a shorter piece`);
  const stems = a.stems ? stemNames(pf.patch) : [];
  // A stem has the layout's channels in a positioned patch: as many as fit beside the mix go in each render.
  const width = stemWidth(pf.patch, channels);
  const perRender = Math.floor((32 - channels) / width);
  if (stems.length && perRender < 1) throw new UsageError(`--stems: a stem of ${width} channels does not fit beside the mix's ${channels} in a render (at most 32 channels)`);
  const groups = stems.length ? Array.from({ length: Math.ceil(stems.length / perRender) }, (_, g) => stems.slice(g * perRender, (g + 1) * perRender)) : [[]];
  if (format === 'flac' && channels > 8) throw new UsageError(`--format flac: FLAC holds at most 8 channels, the output has ${channels}`);
  const frames = Math.max(128, Math.round(duration * sampleRate));
  const open = (path: string, n: number): Promise<AudioWriter> =>
    format === 'flac'
      ? FlacStreamWriter.open(path, { channels: n, sampleRate, bits: bits === '16' ? 16 : 24, totalFrames: frames })
      : Promise.resolve(new WavStreamWriter(path, { channels: n, sampleRate, depth: bits }));
  // Each file is written as the audio comes, to x.part, renamed when complete.
  const stemPath = (name: string) => out.replace(/(\.[^./\\]+)?$/, (ext) => `.${name}${ext || `.${format}`}`);
  const writers: AudioWriter[] = [];
  const abortAll = () => {
    for (const w of writers) w.abort();
  };
  try {
    writers.push(await open(out, channels));
    for (const name of stems) writers.push(await open(stemPath(name), width));
  } catch (e) {
    abortAll();
    throw e;
  }
  const writer = writers[0]!;
  // Ctrl-C or SIGTERM: nothing half-written is left, and the exit code says which signal.
  const onSignal = (signal: NodeJS.Signals) => {
    abortAll();
    bar.end();
    console.error(`Stopped (${signal}): ${out} not written`);
    process.exit(SIGNAL_EXIT_CODES[signal as keyof typeof SIGNAL_EXIT_CODES]);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let peak = 0;
  let power = 0;
  const bar = progressReporter(progressBar('rendering'));
  let result!: Awaited<ReturnType<typeof renderOffline>>;
  try {
    // Past 32 channels the stems take more than one render; only the first writes the mix and the events.
    for (const [g, group] of groups.entries()) {
      const first = g === 0;
      const offset = groups.slice(0, g).reduce((n, x) => n + x.length, 0);
      if (!first && !a.quiet) log(`  stems: render ${g + 1} of ${groups.length} (${group.join(', ')})`);
      const pass = await renderOffline({
        patch: pf.patch,
        duration,
        sampleRate,
        seed,
        samples,
        data: feeds,
        channels,
        stems: group,
        segmentSeconds,
        onPlan: (plan) => {
          if (!first || a.quiet) return;
          if (plan.reason) log(`  in one piece: ${plan.reason}`);
          else if (plan.starts.length > 1) log(`  in ${plan.starts.length} segments, each after a ${formatSeconds(plan.preRoll)} pre-roll (memory bounded by the segment)`);
        },
        onProgress: (done, total) => bar.update((g * total + done) / groups.length, total),
        onBlock: (block, _start, frames) => {
          group.forEach((_, k) => writers[offset + k + 1]!.write(block.slice(channels + width * k, channels + width * (k + 1)), frames));
          if (!first) return;
          writer.write(block.slice(0, channels), frames);
          for (const ch of block.slice(0, channels))
            for (let i = 0; i < frames; i++) {
              const x = ch[i]!;
              if (!Number.isFinite(x)) continue;
              const m = Math.abs(x);
              if (m > peak) peak = m;
              power += x * x;
            }
        },
        onEvent:
          first && (oscPlan || recorder)
            ? (e) => {
                recorder?.event(e);
                if (oscPlan && (e.type === 'note' || e.type === 'beat' || e.type === 'scene' || e.type === 'threshold' || e.type === 'mute'))
                  oscMessages.push(...oscPlan.event(e));
              }
            : undefined,
        actions: first && oscPlan
          ? Array.from({ length: Math.floor(duration * oscSection!.rate) }, (_, i) => ({
              time: i / oscSection!.rate,
              // The plan remembers what it sent: it samples in the delivery, in order with the events.
              run: (engine: Engine, time: number) => {
                const values = engine.values();
                return () => void oscMessages.push(...oscPlan.sample(time, values));
              },
            }))
          : undefined,
      });
      if (first) result = pass;
      else result!.errors.push(...pass.errors);
    }
    for (const w of writers) w.finish();
  } catch (e) {
    abortAll();
    throw e;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    bar.end();
  }
  if (result.errors.length) for (const e of result.errors.slice(0, 5)) console.error(`warning: ${(e as Error)?.message ?? String(e)}`);
  if (writer.nonFinite) console.error(`warning: ${writer.nonFinite} non-finite samples were written as silence`);
  if (a.oscLog !== undefined) {
    // Events are known a window ahead of the samples: order the log by time.
    const sorted = oscMessages.map((m, i) => ({ m, i })).sort((x, y) => x.m.time - y.m.time || x.i - y.i);
    writeFileAtomic(a.oscLog, sorted.map((x) => oscLogLine(x.m)).join('\n') + (sorted.length ? '\n' : ''));
    if (!a.quiet) log(`Wrote ${a.oscLog}: ${sorted.length} OSC messages`);
  }
  const rms = Math.sqrt(power / Math.max(1, writer.frames * channels));
  const summary: RenderSummary = {
    file: out,
    seconds: duration,
    peakDb: 20 * Math.log10(peak),
    rmsDb: 20 * Math.log10(rms),
    speed: result.speed,
    notes: result.notes,
    ...(a.midi && { midiFile: a.midi }),
    ...(stems.length && { stemFiles: writers.slice(1).map((w) => w.path) }),
  };
  ipcProgress()?.({ type: 'rendered', ...summary });
  if (!a.quiet && stems.length) log(`Wrote ${stems.length} stems (voices dry, bus returns; before the master${width > 2 ? `; ${width} channels each, positioned as in the mix` : ''}): ${writers.slice(1).map((w) => w.path).join(', ')}`);
  if (!a.quiet) log(`Wrote ${out}: ${formatSeconds(duration)}, peak ${dbfs(peak)}, RMS ${dbfs(rms)}, ${result.notes} notes, ${result.speed.toFixed(1)}x real time`);
  if (recorder && a.midi) {
    const voices = Object.keys(pf.patch.voices);
    writeFileAtomic(a.midi, recorder.toBytes({ voices, channels: resolveMidi(pf.patch).setup.channels, name: pf.patch.name }));
    if (!a.quiet) log(`Wrote ${a.midi}: ${recorder.notes.reduce((n, e) => n + e.notes.length, 0)} notes on ${voices.length} tracks (one per voice), with the tempo`);
  }
  return summary;
}
