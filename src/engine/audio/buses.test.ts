/** Bus building blocks: the reverb's impulse response and its per-context cache. */
import { describe, expect, it } from 'vitest';
import '../node/platform/installGlobals.ts';
import { IMPULSES_KEPT, makeReverbImpulse, reverbImpulse } from './buses.ts';

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
