/**
 * The Tone.js workarounds, each against the Tone bug it hides: switched off,
 * the bug still happens (when such a test fails, Tone fixed it and the fix can
 * go); on, it is fixed. Also the engine's reaches into Tone's private fields,
 * which a Tone upgrade may move.
 */
import { describe, expect, it } from 'vitest';
import * as Tone from 'tone';
import { instrumentFor } from '../voices.ts';
import type { VoiceSpec } from '../../core/patchSchema.ts';
import { instrumentOscillators, liveSourceCount, setOfflineClock, tonePlatform, toneFixes } from './index.ts';

tonePlatform.install();

function offline(): { raw: OfflineAudioContext; ctx: Tone.OfflineContext } {
  const raw = new OfflineAudioContext({ numberOfChannels: 1, length: 4800, sampleRate: 48000 });
  return { raw, ctx: new Tone.OfflineContext(raw as unknown as OfflineAudioContext) };
}

describe('stopOnDispose: a disposed Tone source stops its native node', () => {
  /** Native sources started by a Signal (a ConstantSourceNode) and an Oscillator (its own and its params' signals), and left running after dispose(). */
  function leftRunning(): { started: number; left: number } {
    const { raw, ctx } = offline();
    const signal = new Tone.Signal({ context: ctx, value: 1 });
    const osc = new Tone.Oscillator({ context: ctx, frequency: 440 }).start(0);
    const started = liveSourceCount(raw);
    signal.dispose();
    osc.dispose();
    return { started, left: liveSourceCount(raw) };
  }

  it('without the fix, Tone 15.5 leaves every one running', () => {
    toneFixes.stopOnDispose = false;
    try {
      const { started, left } = leftRunning();
      expect(started).toBeGreaterThanOrEqual(2);
      expect(left).toBe(started);
    } finally {
      toneFixes.stopOnDispose = true;
    }
  });

  it('with it, none', () => {
    const { started, left } = leftRunning();
    expect(started).toBeGreaterThanOrEqual(2);
    expect(left).toBe(0);
  });

  it('a source disposed before it started is disposed quietly', () => {
    const { raw, ctx } = offline();
    const osc = new Tone.Oscillator({ context: ctx });
    expect(() => osc.dispose()).not.toThrow();
    expect(liveSourceCount(raw)).toBe(0);
  });
});

describe("instrumentOscillators: Tone's private oscillator fields", () => {
  const spec = (synth: VoiceSpec['synth']) => ({ synth }) as VoiceSpec;

  it.each([
    ['synth', 1],
    ['mono', 1],
    ['membrane', 1],
    ['fm', 2],
    ['am', 2],
    ['metal', 6],
  ] as const)('%s has %i, each a Tone source that starts and stops', (synth, count) => {
    const { ctx } = offline();
    const { Class, options } = instrumentFor(spec(synth), ctx, true);
    const inst = new Class(options);
    const oscs = instrumentOscillators(inst);
    expect(oscs).toHaveLength(count);
    for (const osc of oscs) {
      osc.start(0);
      expect((osc as unknown as Tone.Oscillator).state).toBe('started');
    }
    inst.dispose();
  });
});

describe("setOfflineClock: Tone's private offline clock", () => {
  it("moves a Tone.OfflineContext's time, which Tone's scheduling reads", () => {
    const { ctx } = offline();
    setOfflineClock(ctx, 1.5);
    expect(ctx.currentTime).toBe(1.5);
    expect(ctx.now()).toBe(1.5);
  });
});
