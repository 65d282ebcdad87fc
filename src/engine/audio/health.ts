/**
 * Audio health probes: taps the engine reads between scheduler windows to find
 * a part of the graph that has gone non-finite or run away.
 *
 * Why rebuild rather than wait: a NaN stored in a node's state stays there
 * (measured with node-web-audio-api: four NaN samples into a Tone.Chorus bus
 * were still coming out of it seconds later; a delay loop that had overflowed
 * kept the output NaN after its feedback and wet were set to 0, and after
 * panic and unmute, as 0 × NaN is NaN). Nothing upstream clears such a node:
 * only replacing it does.
 */

/**
 * A level (linear, +120 dBFS) no sound within the schema's ranges reaches on its
 * way to the master (the loudest voice: a resonant filter at +30 dB, +24 dB of
 * volume, +12 dB of scene gain, a few notes at once, is near +90 dBFS), and far
 * below float overflow (+770 dBFS): a signal above it is running away and is
 * caught seconds before it overflows into Infinity and NaN.
 */
export const RUNAWAY_LEVEL = 1e6;

/** What a probe saw: samples that are NaN or ±Infinity, or a level above {@link RUNAWAY_LEVEL}. */
export type AudioFault = 'non-finite' | 'runaway';

/**
 * An AnalyserNode used as a probe: it keeps the last `size` samples of what
 * it is fed (down-mixed to mono), and outputs nothing anyone listens to.
 */
export function makeProbe(raw: BaseAudioContext, size = 2048): AnalyserNode {
  const probe = raw.createAnalyser();
  probe.fftSize = size;
  return probe;
}

const scratch = new WeakMap<AnalyserNode, Float32Array<ArrayBuffer>>();

/** Reads a probe: the fault among its last samples, or undefined when they are sound. */
export function probeFault(probe: AnalyserNode): AudioFault | undefined {
  let buf = scratch.get(probe);
  if (!buf) scratch.set(probe, (buf = new Float32Array(probe.fftSize)));
  probe.getFloatTimeDomainData(buf);
  let runaway = false;
  for (let i = 0; i < buf.length; i++) {
    const x = buf[i]!;
    // NaN fails both comparisons; ±Infinity passes the first.
    if (!(x - x === 0)) return 'non-finite';
    if (x > RUNAWAY_LEVEL || x < -RUNAWAY_LEVEL) runaway = true;
  }
  return runaway ? 'runaway' : undefined;
}
