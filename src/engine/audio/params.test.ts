/** The param door, rendered: ramps anchored where they start, and a late param following a ghost. */
import { describe, expect, it } from 'vitest';
import '../node/platform/installGlobals.ts';
import { follow, GhostParam, rampTo, setAt } from './params.ts';

const SR = 8000;

/** Renders ConstantSourceNodes whose offsets the callback automates; returns each one's samples. */
async function offsets(n: number, automate: (params: AudioParam[], ctx: OfflineAudioContext) => void, seconds = 2): Promise<Float32Array[]> {
  const ctx = new OfflineAudioContext(n, seconds * SR, SR);
  const merger = ctx.createChannelMerger(n);
  const params: AudioParam[] = [];
  for (let i = 0; i < n; i++) {
    const c = ctx.createConstantSource();
    c.offset.value = 0;
    c.connect(merger, 0, i);
    c.start();
    params.push(c.offset);
  }
  merger.connect(ctx.destination);
  automate(params, ctx);
  const b = await ctx.startRendering();
  return Array.from({ length: n }, (_, i) => b.getChannelData(i).slice());
}

describe('follow', () => {
  it('a param made at 0.9 s follows the ghost: from then on the same curve as one ramped all along', async () => {
    const [direct, late] = await offsets(2, ([a, b]) => {
      const ghost = new GhostParam(0);
      for (const p of [a!, ghost]) {
        setAt(p, 0.2, 0);
        rampTo(p, 1, 0.25, 0.1);
        rampTo(p, 0.4, 0.7, 0.3); // still moving at 0.9 s
        rampTo(p, 0.8, 1.4, 0.05); // not begun at 0.9 s
      }
      ghost.prune(0.8);
      expect(ghost.ramps.map((r) => r.start)).toStrictEqual([0.7, 1.4]);
      follow(b!, ghost, 0.9);
    });
    const from = Math.round(0.9 * SR);
    let worst = 0;
    for (let i = from; i < direct!.length; i++) worst = Math.max(worst, Math.abs(direct![i]! - late![i]!));
    expect(worst).toBeLessThan(1e-5);
    // and it did move: down towards 0.4, then up to 0.8
    expect(late![Math.round(1.35 * SR)]!).toBeLessThan(0.5);
    expect(late![Math.round(1.9 * SR)]!).toBeCloseTo(0.8, 3);
    // before it was made, it was untouched
    expect(late![Math.round(0.5 * SR)]!).toBe(0);
  });
});
