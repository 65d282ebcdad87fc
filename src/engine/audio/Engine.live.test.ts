/**
 * Live input on the engine (what the MIDI bridge drives), rendered offline and
 * measured: held notes sound at their pitch until released, retrigger, steal
 * and carry over a patch swap; an external tempo and transport move the grid.
 */
import { describe, expect, it } from 'vitest';
import { renderOffline, type RenderAction } from '../node/render.ts';
import { parsePatchOrThrow } from '../core/patchLoader.ts';
import { pitch, rms } from '../core/analysis.ts';
import { midiToHz } from '../core/theory.ts';
import type { Engine } from './Engine.ts';
import type { NoteEvent } from '../core/sequencer.ts';

const SR = 48000;

/** A quiet patch: its own voice never plays (density 0); `keys` waits for live notes. */
const LIVE_TEXT = `name: live
tempo: 120
key: C major
streams: { s: {} }
voices:
  keys: { synth: synth, oscillator: sine, poly: 2, volume: -6, density: 0, rhythm: { pattern: "x" }, envelope: { attack: 0.005, decay: 0.01, sustain: 1, release: 0.05 } }
  bells: { synth: sampler, samples: { C5: tone.wav }, density: 0, rhythm: { pattern: "x" } }
`;
const LIVE = parsePatchOrThrow(LIVE_TEXT, 'live.yaml');

/** A one-second 523 Hz (C5) sine as the sampler's only sample. */
function toneBuffer(): AudioBuffer {
  const ctx = new OfflineAudioContext(1, SR, SR);
  const b = ctx.createBuffer(1, SR, SR);
  const d = b.getChannelData(0);
  for (let i = 0; i < d.length; i++) d[i] = 0.5 * Math.sin((2 * Math.PI * midiToHz(72) * i) / SR) * Math.min(1, (SR - i) / 2000);
  return b;
}

const at = (time: number, run: (e: Engine, t: number) => void): RenderAction => ({ time, run: (e, t) => run(e, t) });
/** An action that reads the engine at `time` into `into` (once, for the render returned). */
const read = <T>(time: number, into: T[], get: (e: Engine, t: number) => T): RenderAction => ({
  time,
  run: (e, t) => {
    const v = get(e, t);
    return () => void into.push(v);
  },
});
const level = (x: Float32Array, from: number, to: number) => rms(x, Math.round(from * SR), Math.round(to * SR));

async function render(actions: RenderAction[], duration = 3, patch = LIVE) {
  const r = await renderOffline({ patch, duration, sampleRate: SR, actions, samples: new Map([['tone.wav', toneBuffer()]]) });
  expect(r.errors).toStrictEqual([]);
  return r.channels[0]!;
}

describe('live notes', () => {
  it('a held note sounds at its pitch from its start until its release', async () => {
    const ok: boolean[] = [];
    const x = await render([
      read(0.5, ok, (e, t) => e.playNote('keys', 69, 0.9, t)),
      read(1.5, ok, (e, t) => e.releaseNote('keys', 69, t)),
      read(1.6, ok, (e, t) => e.releaseNote('keys', 69, t)), // twice: nothing held
    ]);
    expect(ok).toStrictEqual([true, true, false]);
    expect(level(x, 0.1, 0.45)).toBe(0);
    expect(level(x, 0.6, 1.4)).toBeGreaterThan(0.05);
    expect(pitch(x, SR, 0.6 * SR, 1.4 * SR)).toBeCloseTo(440, -1);
    expect(level(x, 1.8, 2.9)).toBeLessThan(1e-4);
  });

  it('refuses unknown voices and non-numbers, never throwing', async () => {
    const results: boolean[][] = [];
    await render(
      [
        read(0.1, results, (e, t) => [e.playNote('nope', 60, 1, t), e.playNote('keys', NaN, 1, t), e.playNote('keys', 60, Infinity, t), e.releaseNote('nope', 60, t)]),
      ],
      0.5,
    );
    expect(results).toStrictEqual([[false, false, false, false]]);
  });

  it('the same note again retriggers it: one release ends it', async () => {
    let held = -1;
    const x = await render([
      at(0.2, (e, t) => void e.playNote('keys', 60, 0.9, t)),
      at(0.6, (e, t) => void e.playNote('keys', 60, 0.9, t)),
      at(0.7, (e) => void (held = e.heldNotes)),
      at(1.0, (e, t) => void e.releaseNote('keys', 60, t)),
    ]);
    expect(held).toBe(1);
    expect(level(x, 1.3, 2.5)).toBeLessThan(1e-4);
  });

  it('a chord past the pool steals a held note; the stolen note releasing does not cut the new one', async () => {
    const x = await render([
      at(0.2, (e, t) => void e.playNote('keys', 60, 0.9, t)),
      at(0.3, (e, t) => void e.playNote('keys', 64, 0.9, t)),
      at(0.4, (e, t) => void e.playNote('keys', 67, 0.9, t)), // poly 2: steals 60's slot
      at(0.8, (e, t) => void e.releaseNote('keys', 60, t)), // 60 is gone: nothing happens
      at(1.4, (e, t) => void e.releaseAll(t)),
    ]);
    // 67 still sounds between 60's release and releaseAll
    expect(level(x, 0.9, 1.35)).toBeGreaterThan(0.05);
    expect(level(x, 1.7, 2.5)).toBeLessThan(1e-4);
  });

  it('the pool makes instruments as notes need them, up to poly; one made late follows the detune already set', async () => {
    const sizes: number[] = [];
    const size = (e: Engine) => e.runtime!.voices.get('keys')!.size;
    const x = await render([
      read(0.1, sizes, size),
      at(0.2, (e, t) => void e.playNote('keys', 57, 0.9, t)),
      read(0.25, sizes, size),
      // an octave up on every instrument, including those not made yet
      at(0.3, (e, t) => void e.setParameter('keys.detune', 1200, t)),
      at(1.0, (e, t) => void e.playNote('keys', 69, 0.9, t)), // 57 holds the first: a second instrument
      read(1.05, sizes, size),
      at(1.5, (e, t) => void e.releaseNote('keys', 57, t)),
      at(2.2, (e, t) => void e.playNote('keys', 60, 0.9, t)), // the first is free again: no third
      at(2.3, (e, t) => void e.playNote('keys', 64, 0.9, t)), // both busy, poly 2: steals
      read(2.35, sizes, size),
      at(2.8, (e, t) => void e.releaseAll(t)),
    ]);
    expect(sizes).toStrictEqual([0, 1, 2, 2]);
    // The late instrument alone: A4 an octave up, as the first one was.
    expect(pitch(x, SR, 1.7 * SR, 2.15 * SR)).toBeCloseTo(880, -1);
    expect(pitch(x, SR, 0.6 * SR, 0.95 * SR)).toBeCloseTo(440, -1);
  });

  it('in live play an unused instrument is reclaimed; the pool reuses the one freed last and makes reclaimed ones again, following the detune set meanwhile', async () => {
    const POOL = parsePatchOrThrow(LIVE_TEXT.replace('poly: 2', 'poly: 4'), 'pool.yaml');
    const alive: number[] = [];
    const instruments = (e: Engine) => e.runtime!.voices.get('keys')!.instruments;
    const stats: Array<{ reclaimed: number; collections: number }> = [];
    const chord = (t0: number, t1: number, notes: number[]) => [
      ...notes.map((n, k) => at(t0 + k * 0.01, (e, t) => void e.playNote('keys', n, 0.9, t))),
      at(t1, (e, t) => void e.releaseAll(t)),
    ];
    const actions = [
      ...chord(0.2, 1.0, [60, 64, 67]),
      read(1.5, alive, instruments),
      // one note at a time for 12 s: the instrument freed last each time, so two stay unused
      ...[2, 4, 6, 8, 10, 12].flatMap((t0) => chord(t0, t0 + 0.3, [72])),
      read(14.5, alive, instruments), // before the sweep at engine time 15
      read(15.5, alive, instruments),
      read(15.5, stats, (e) => ({ reclaimed: e.stats.reclaimed, collections: e.stats.collections })),
      at(16, (e, t) => void e.setParameter('keys.detune', 1200, t)),
      ...chord(17, 18, [60, 64, 67]),
      read(17.5, alive, instruments),
      // 57 takes the instrument never reclaimed (slot 0, the first of those freed last),
      // 69 one made again after the detune: alone, A4 an octave up
      at(19, (e, t) => void e.playNote('keys', 57, 0.9, t)),
      at(19.01, (e, t) => void e.playNote('keys', 69, 0.9, t)),
      at(19.2, (e, t) => void e.releaseNote('keys', 57, t)),
      at(20.5, (e, t) => void e.releaseAll(t)),
    ];
    const r = await renderOffline({ patch: POOL, duration: 21, sampleRate: SR, actions, reclaimAfter: 5, samples: new Map([['tone.wav', toneBuffer()]]) });
    expect(r.errors).toStrictEqual([]);
    const x = r.channels[0]!;
    expect(alive).toStrictEqual([3, 3, 1, 3]);
    expect(stats[0]!.reclaimed).toBe(2);
    // the chord on two instruments made again sounds as the first did
    expect(Math.abs(20 * Math.log10(level(x, 17.2, 17.9) / level(x, 0.4, 0.9)))).toBeLessThan(1);
    expect(pitch(x, SR, 19.5 * SR, 20.4 * SR)).toBeCloseTo(880, -1);
    // kept for the whole render without it
    const kept: number[] = [];
    await render([...chord(0.2, 1.0, [60, 64, 67]), read(16, kept, instruments)], 17, POOL);
    expect(kept).toStrictEqual([3]);
  });

  it('plays a sampler voice, held and released', async () => {
    const x = await render([at(0.2, (e, t) => void e.playNote('bells', 72, 1, t)), at(0.5, (e, t) => void e.releaseNote('bells', 72, t))]);
    expect(level(x, 0.25, 0.45)).toBeGreaterThan(0.02);
    expect(pitch(x, SR, 0.25 * SR, 0.45 * SR)).toBeCloseTo(midiToHz(72), -1);
    expect(level(x, 1.5, 2.5)).toBeLessThan(1e-4);
  });

  it('a note held across a patch swap is released in the patch that started it', async () => {
    const x = await render([
      at(0.2, (e, t) => void e.playNote('keys', 69, 0.9, t)),
      at(0.5, (e, t) => e.load(LIVE, { time: t, crossfade: 2 })), // the old patch fades over 2 s
      at(0.7, (e, t) => void e.releaseNote('keys', 69, t)),
    ]);
    // released at 0.7: silent well before the old patch's fade would have silenced it
    expect(level(x, 1.0, 1.4)).toBeLessThan(1e-4);
  });
});

describe('external tempo and transport', () => {
  const TICK = parsePatchOrThrow(
    `name: tick
tempo: 120
key: C major
streams: { s: {} }
voices:
  t: { synth: synth, rhythm: { pattern: "x" } }
`,
    'tick.yaml',
  );

  async function notes(actions: RenderAction[], duration = 4): Promise<NoteEvent[]> {
    const out: NoteEvent[] = [];
    const r = await renderOffline({ patch: TICK, duration, sampleRate: SR, actions, onEvent: (e) => void (e.type === 'note' && out.push(e)) });
    expect(r.errors).toStrictEqual([]);
    return out;
  }

  it('setTempo wins over the patch from the next steps on; undefined gives it back', async () => {
    let tempo: number | undefined;
    const ev = await notes([
      at(1, (e) => e.setTempo(150)),
      at(2, (e) => void (tempo = e.tempo)),
      at(2.5, (e) => e.setTempo(undefined)),
    ]);
    const gap = (t: number) => {
      const i = ev.findIndex((e) => e.time >= t);
      return ev[i + 1]!.time - ev[i]!.time;
    };
    expect(gap(0.5)).toBeCloseTo(0.125, 9);
    expect(gap(1.6)).toBeCloseTo(0.1, 9);
    expect(gap(3.2)).toBeCloseTo(0.125, 9);
    expect(tempo).toBe(150);
  });

  it('stop generates nothing from its time; start plays step 0 at its time; continue goes on from a step', async () => {
    const ev = await notes([
      at(1, (e, t) => e.transport('stop', t)),
      at(2, (e, t) => e.transport('start', t + 0.05)),
      at(2.5, (e, t) => e.transport('stop', t)),
      at(3, (e, t) => e.transport('continue', t, 64)),
    ]);
    // the look-ahead had generated steps up to 0.25 s past the stop
    expect(ev.filter((e) => e.time >= 1.25 && e.time < 2.05)).toStrictEqual([]);
    const restart = ev.find((e) => e.time >= 2.05)!;
    expect([restart.step, restart.time]).toStrictEqual([0, 2.05]);
    const cont = ev.find((e) => e.time >= 3)!;
    expect([cont.step, cont.time]).toStrictEqual([64, 3]);
    expect(ev.filter((e) => e.time >= 2.75 && e.time < 3)).toStrictEqual([]);
  });

  it('a patch loaded while stopped stays stopped, and keeps the external tempo', async () => {
    const ev = await notes([
      at(0.5, (e) => e.setTempo(100)),
      at(1, (e, t) => e.transport('stop', t)),
      at(1.5, (e, t) => e.load(TICK, { time: t, crossfade: 0.1 })),
      at(2.5, (e, t) => e.transport('start', t)),
    ]);
    expect(ev.filter((e) => e.time >= 1.3 && e.time < 2.5)).toStrictEqual([]);
    const after = ev.filter((e) => e.time >= 2.5);
    expect(after[0]!.step).toBe(0);
    expect(after[1]!.time - after[0]!.time).toBeCloseTo(60 / 100 / 4, 9);
  });
});
