/**
 * The page side of the Chromium baseline: bundled with Tone.js and
 * {@link renderPlainTone} by benchmarks/toneChromium.ts and injected into a
 * blank page, where it defines `globalThis.plainToneInPage`. The program is the
 * one the Node baseline runs; only the samples cross over as raw channel data
 * (an AudioBuffer cannot be passed into a page) and only measurements come back
 * (a 5 min stereo render is 115 MB of samples).
 */
import type { NoteEvent } from '../src/engine/core/sequencer.ts';
import type { Patch } from '../src/engine/core/patchSchema.ts';
import { audibleSeconds, renderPlainTone } from './plainTone.ts';

/** A decoded sample as it crosses into the page. */
export interface SampleData {
  sampleRate: number;
  channels: Float32Array[];
}

/** What the driver hands the page: the same inputs as {@link renderPlainTone}. */
export interface PagePayload {
  patch: Patch;
  events: readonly NoteEvent[];
  duration: number;
  samples: Record<string, SampleData>;
  sampleRate: number;
}

/** What comes back: wall seconds of the Tone.Offline call, measured in the page. */
export interface PageResult {
  wallSeconds: number;
  dropped: number;
  /** Seconds of the rendered left channel above −60 dBFS ({@link audibleSeconds}). */
  audibleSeconds: number;
  /** Length of the render, in seconds, as the page's buffer says. */
  renderedSeconds: number;
}

/** Copies transferred channel data into AudioBuffers of the running realm. */
export function toAudioBuffers(samples: Record<string, SampleData>): Map<string, AudioBuffer> {
  const out = new Map<string, AudioBuffer>();
  for (const [path, s] of Object.entries(samples)) {
    const buffer = new AudioBuffer({ length: s.channels[0]!.length, numberOfChannels: s.channels.length, sampleRate: s.sampleRate });
    s.channels.forEach((data, ch) => buffer.copyToChannel(data as Float32Array<ArrayBuffer>, ch));
    out.set(path, buffer);
  }
  return out;
}

/** Renders the payload with plain Tone.Offline in the running realm and measures it. */
export async function plainToneInPage(p: PagePayload): Promise<PageResult> {
  const r = await renderPlainTone(p.patch, p.events, p.duration, toAudioBuffers(p.samples), p.sampleRate);
  return {
    wallSeconds: r.wallSeconds,
    dropped: r.dropped,
    audibleSeconds: audibleSeconds(r.buffer.getChannelData(0), r.buffer.sampleRate),
    renderedSeconds: r.buffer.duration,
  };
}

(globalThis as { plainToneInPage?: typeof plainToneInPage }).plainToneInPage = plainToneInPage;
