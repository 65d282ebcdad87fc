/**
 * The Chromium baseline of `npm run bench` without Chromium: the page script
 * must bundle for a browser, and the page's program (the same code, run here on
 * node-web-audio-api) must render the samples that cross into the page and
 * measure what it rendered, so a silent browser render stops the bench.
 */
import { describe, expect, it } from 'vitest';
import { listBuiltinPatchFiles, loadPatchFile, loadPatchSamples, patchId } from '../src/engine/node/files.ts';
import type { NoteEvent } from '../src/engine/core/sequencer.ts';
import { bundlePage, sampleData } from '../benchmarks/toneChromium.ts';
import { plainToneInPage, toAudioBuffers } from '../benchmarks/toneChromiumPage.ts';

const file = listBuiltinPatchFiles().find((f) => patchId(f) === 'warming-stripes')!;

async function patchWithSamples() {
  const pf = loadPatchFile(file);
  const samples = await loadPatchSamples(pf);
  return { pf, samples };
}

const knock = (time: number): NoteEvent => ({ voice: 'ticks', notes: [72], time, duration: 0.1, velocity: 1, step: 0 });

describe('bench: plain Tone in Chromium', () => {
  // esbuild fails for a browser target if the program ever imports a Node module.
  it('bundles the page script for a browser, Tone and the program included', async () => {
    const script = await bundlePage();
    expect(script).toContain('plainToneInPage');
    // Tone's own code (PolySynth's warning) is in the script, not left as an import the page cannot resolve.
    expect(script).toContain('Max polyphony exceeded');
  });

  it('carries decoded samples into the page unchanged', async () => {
    const { samples } = await patchWithSamples();
    expect(samples.size).toBeGreaterThan(0);
    const back = toAudioBuffers(structuredClone(sampleData(samples)));
    for (const [path, b] of samples) {
      const c = back.get(path)!;
      expect(c.sampleRate, path).toBe(b.sampleRate);
      expect(c.numberOfChannels, path).toBe(b.numberOfChannels);
      for (let ch = 0; ch < b.numberOfChannels; ch++) expect(c.getChannelData(ch), `${path} channel ${ch}`).toEqual(b.getChannelData(ch));
    }
  });

  it('renders the notes with the transferred samples and counts the seconds that sound', async () => {
    const { pf, samples } = await patchWithSamples();
    const payload = (events: NoteEvent[]) => ({ patch: pf.patch, events, duration: 4, samples: sampleData(samples), sampleRate: 48000 });
    // Knocks (a sampler voice, dry, 0.12 s long) in seconds 0 and 2 only; one knock
    // is just under −60 dBFS over a second, four are above it.
    const knocks = [0.1, 0.25, 0.4, 0.55].flatMap((t) => [knock(t), knock(2 + t)]);
    const played = await plainToneInPage(payload(knocks));
    expect(played.renderedSeconds).toBe(4);
    expect(played.audibleSeconds).toBe(2);
    expect(played.wallSeconds).toBeGreaterThan(0);
    const silent = await plainToneInPage(payload([]));
    expect(silent.audibleSeconds).toBe(0);
  });
});
