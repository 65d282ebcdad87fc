/**
 * Bus building blocks: the reverb's impulse response and its per-context cache;
 * the delay loop's stability; a rebuild clearing a NaN a bus holds.
 */
import { describe, expect, it } from 'vitest';
import * as Tone from 'tone';
import '../node/platform/installGlobals.ts';
import { Bus, IMPULSES_KEPT, LOOP_LIMIT, makeReverbImpulse, reverbImpulse } from './buses.ts';
import type { BusSpec } from '../core/patchSchema.ts';
import { nonFiniteCount, peak, rms } from '../core/analysis.ts';

const SR = 8000;

describe('reverb impulse', () => {
  it('decays to −60 dB at its decay time, after its pre-delay, and is the same for the same seed', () => {
    const ctx = new OfflineAudioContext(1, 128, SR);
    const ir = makeReverbImpulse(ctx, 2, 0.1, 7);
    const d = ir.getChannelData(0);
    expect(ir.length).toBe(Math.round(2.1 * SR));
    expect(d.subarray(0, 0.1 * SR).every((x) => x === 0)).toBe(true);
    const rmsAt = (t: number) => Math.sqrt(d.subarray(t * SR, (t + 0.05) * SR).reduce((a, x) => a + x * x, 0) / (0.05 * SR));
    // e^(−6.91·t/decay): −60 dB over 2 s of tail, so −58.2 dB between these windows (± 1.5 dB: seeded noise)
    const expected = 20 * Math.log10(Math.exp((-6.91 * (2.075 - 0.135)) / 2));
    expect(Math.abs(20 * Math.log10(rmsAt(2.05) / rmsAt(0.11)) - expected)).toBeLessThan(1.5);
    expect(makeReverbImpulse(ctx, 2, 0.1, 7).getChannelData(1)).toStrictEqual(ir.getChannelData(1));
    expect(makeReverbImpulse(ctx, 2, 0.1, 8).getChannelData(0)).not.toStrictEqual(d);
  });

  it('is made once per context for the same response, and only the last few are kept', () => {
    const a = new OfflineAudioContext(1, 128, SR);
    const b = new OfflineAudioContext(1, 128, SR);
    const first = reverbImpulse(a, 1, 0.02, 1);
    expect(reverbImpulse(a, 1, 0.02, 1)).toBe(first);
    expect(reverbImpulse(b, 1, 0.02, 1)).not.toBe(first); // another context: its own
    expect(reverbImpulse(a, 1.5, 0.02, 1)).not.toBe(first);
    expect(reverbImpulse(a, 1, 0.02, 2)).not.toBe(first);
    expect(reverbImpulse(a, 1, 0.02, 1)).toBe(first); // still kept: now the newest
    for (let i = 0; i < IMPULSES_KEPT; i++) reverbImpulse(a, 2 + i, 0.02, 1);
    const again = reverbImpulse(a, 1, 0.02, 1);
    expect(again).not.toBe(first); // pushed out by newer ones, made afresh
    expect(again.getChannelData(0)).toStrictEqual(first.getChannelData(0));
  });
});

/** A bus alone at 48 kHz (wet 1, straight to the output), with `feed` connecting what goes in. */
async function renderBus(
  spec: BusSpec,
  seconds: number,
  feed: (raw: OfflineAudioContext, input: AudioNode) => void,
  at: Array<{ time: number; run: (bus: Bus) => void }> = [],
): Promise<Float32Array> {
  const raw = new OfflineAudioContext(1, Math.round(seconds * BUS_SR), BUS_SR);
  const ctx = new Tone.OfflineContext(raw as unknown as OfflineAudioContext);
  const bus = new Bus('b', spec, ctx, raw.destination, 1, 100);
  feed(raw, bus.input);
  for (const a of at) void raw.suspend(a.time).then(() => (a.run(bus), raw.resume()));
  const out = (await raw.startRendering()).getChannelData(0).slice();
  bus.dispose();
  return out;
}

const BUS_SR = 48000;

/** Plays `samples` into `input` from `time`. */
function burst(raw: OfflineAudioContext, input: AudioNode, time: number, samples: number[]): void {
  const buf = raw.createBuffer(1, 128, BUS_SR);
  const data = new Float32Array(128);
  data.set(samples);
  buf.copyToChannel(data, 0);
  const src = raw.createBufferSource();
  src.buffer = buf;
  src.connect(input);
  src.start(time);
}

const second = (x: Float32Array, from: number) => peak(x, Math.round(from * BUS_SR), Math.round((from + 1) * BUS_SR));

describe('delay bus', () => {
  // Loop gain below 1 at every frequency: echoes of an impulse die away whatever
  // the time (1 ms is below a render quantum: the loop runs at 128 frames).
  for (const time of [0.001, 0.01, 0.3]) {
    it(`decays at the largest feedback the schema allows (0.95, time ${time} s)`, async () => {
      const x = await renderBus({ type: 'delay', wet: 1, time, feedback: 0.95 }, 8, (raw, input) => burst(raw, input, 0.1, [1]));
      expect(nonFiniteCount(x)).toBe(0);
      const early = second(x, 0.1);
      const late = second(x, 7);
      expect(early).toBeGreaterThan(0.5); // the first echo
      expect(late).toBeLessThan(early * 0.5);
    });
  }

  it('holds at most LOOP_LIMIT·tanh(1) in its loop, however loud what comes in', async () => {
    const x = await renderBus({ type: 'delay', wet: 1, time: 0.05, feedback: 0.95 }, 2, (raw, input) => burst(raw, input, 0.1, [1e6, -1e6, 1e6]));
    // The first echo is the input itself; every later one has been round the loop.
    expect(second(x, 0.1)).toBeGreaterThan(1e5);
    expect(peak(x, Math.round(0.16 * BUS_SR))).toBeLessThanOrEqual(LOOP_LIMIT * Math.tanh(1) * 1.001);
    expect(peak(x, Math.round(0.16 * BUS_SR))).toBeGreaterThan(1); // and the loop still echoes
  });
});

describe('bus rebuild', () => {
  it('a chorus holding a NaN reports it, and sounds again once rebuilt', async () => {
    const seen: Array<string | undefined> = [];
    const x = await renderBus(
      { type: 'chorus', wet: 1 },
      3,
      (raw, input) => {
        const osc = raw.createOscillator();
        const level = raw.createGain();
        level.gain.value = 0.2;
        osc.connect(level).connect(input);
        osc.start(0);
        burst(raw, input, 1, [NaN, NaN, NaN, NaN]);
      },
      [
        { time: 0.9, run: (bus) => void seen.push(bus.fault()) },
        { time: 1.5, run: (bus) => void seen.push(bus.fault()) },
        { time: 1.6, run: (bus) => bus.rebuild(1.6) },
        { time: 2.5, run: (bus) => void seen.push(bus.fault()) },
      ],
    );
    expect(seen).toEqual([undefined, 'non-finite', undefined]);
    const bad = (from: number, to: number) => nonFiniteCount(x.subarray(from * BUS_SR, to * BUS_SR));
    expect(bad(1.1, 1.6)).toBeGreaterThan(0); // held, 0.5 s after the burst
    expect(bad(1.61, 3)).toBe(0);
    expect(rms(x, 2 * BUS_SR, 3 * BUS_SR)).toBeGreaterThan(0.05);
  });
});
