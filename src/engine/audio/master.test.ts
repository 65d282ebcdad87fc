/**
 * The master chain's level cap and fade-in, rendered offline and measured: a
 * cap bounds the sample peak (a loud input stays under it), a cap above the
 * ceiling does not make anything louder, and a fade-in starts from silence.
 */
import { describe, expect, it } from 'vitest';
import { peak, rms } from '../core/analysis.ts';
import { MasterChain } from './master.ts';

const SR = 48000;
const db = (x: number) => 20 * Math.log10(x);
const at = (t: number) => Math.round(t * SR);

/** A sine at twice full scale through a master chain (ceiling -1 dBFS, volume 0 dB), `setup` scheduling on it. */
async function render(seconds: number, setup: (m: MasterChain) => void): Promise<Float32Array> {
  const ctx = new OfflineAudioContext(1, at(seconds), SR);
  const m = new MasterChain(ctx, -1, 0, ctx.destination);
  const osc = ctx.createOscillator();
  osc.frequency.value = 220;
  const drive = ctx.createGain();
  drive.gain.value = 2;
  osc.connect(drive).connect(m.input);
  osc.start(0);
  setup(m);
  const buf = await ctx.startRendering();
  return buf.getChannelData(0).slice();
}

describe('master chain: level cap', () => {
  it('a cap bounds the sample peak under it; a cap above the ceiling is the ceiling; lifting it brings the level back', async () => {
    const x = await render(4, (m) => {
      m.setCap(-30, 1);
      m.setCap(-0.1, 2); // above the ceiling: no louder than the ceiling
      m.setCap(-30, 3);
    });
    const pk = (a: number, b: number) => db(peak(x.subarray(at(a), at(b))));
    expect(pk(0.2, 1)).toBeGreaterThan(-3);
    expect(pk(0.2, 1)).toBeLessThanOrEqual(-1 + 1e-3);
    expect(pk(1.2, 2)).toBeLessThanOrEqual(-30 + 1e-3);
    expect(pk(1.2, 2)).toBeGreaterThan(-32); // it still plays, at the cap
    expect(pk(2.5, 3)).toBeGreaterThan(-3); // raised back (0.3 s time constant)
    expect(pk(2.5, 3)).toBeLessThanOrEqual(-1 + 1e-3);
    expect(pk(3.2, 4)).toBeLessThanOrEqual(-30 + 1e-3); // lowered again within 0.2 s
    expect(db(rms(x, at(1.2), at(2))) - db(rms(x, at(0.2), at(1)))).toBeLessThan(-25);
  });

  it('rejects a cap that is not a number, changing nothing', async () => {
    const x = await render(1, (m) => {
      expect(() => m.setCap(Number.NaN, 0.1)).toThrow(/level cap/);
      expect(m.capDb).toBeUndefined();
    });
    expect(db(peak(x.subarray(at(0.5))))).toBeGreaterThan(-3);
  });
});

describe('master chain: fade-in', () => {
  it('starts from silence: the RMS of the first 100 ms is far below the RMS at the end of the fade', async () => {
    const x = await render(3.5, (m) => m.fadeIn(3, 0));
    const first = db(rms(x, 0, at(0.1)));
    const end = db(rms(x, at(2.9), at(3.0)));
    const after = db(rms(x, at(3.2), at(3.5)));
    expect(first).toBeLessThan(end - 25);
    expect(end).toBeGreaterThan(-6);
    expect(Math.abs(after - end)).toBeLessThan(1);
    // Halfway in gain: about -6 dB from the full level.
    expect(db(rms(x, at(1.45), at(1.55))) - after).toBeCloseTo(-6, 0);
  });

  it('fadeIn(0) plays at once', async () => {
    const x = await render(0.5, (m) => m.fadeIn(0, 0));
    expect(db(rms(x, at(0.02), at(0.1)))).toBeGreaterThan(-6);
  });
});
