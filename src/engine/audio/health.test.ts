/**
 * The audio can never stay broken: a delay patch that used to run away renders
 * clean, and a NaN forced into a bus is found within a scheduler window, the
 * bus and master rebuilt, the sound back within 100 ms, panic and mute working
 * after it. Rendered offline and measured.
 */
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { renderOffline, type RenderAction } from '../node/render.ts';
import { loadPatchFile, loadPatchSamples, PATCHES_DIR } from '../node/files.ts';
import { parsePatchOrThrow } from '../core/patchLoader.ts';
import { nonFiniteCount, peak, rms } from '../core/analysis.ts';
import type { Patch } from '../core/patchSchema.ts';
import type { EngineEvent } from './Engine.ts';

const SR = 48000;
const db = (x: number) => 20 * Math.log10(x);
const at = (t: number) => Math.round(t * SR);

/** RMS in dBFS of [from, to) seconds of a channel. */
const level = (x: Float32Array, from: number, to: number) => db(rms(x, at(from), at(to)));

describe('runaway feedback', () => {
  it('carbon-pulse with a 10 ms echo at feedback 0.85 renders finite and never goes silent', async () => {
    // On the old loop this render had 1,315,008 non-finite samples from 16.3 s on.
    const pf = loadPatchFile(join(PATCHES_DIR, 'carbon-pulse.yaml'));
    const patch: Patch = structuredClone(pf.patch);
    patch.buses.echo = { type: 'delay', time: 0.01, feedback: 0.85, wet: 0.3 };
    const samples = await loadPatchSamples(pf, { sampleRate: SR });
    const r = await renderOffline({ patch, duration: 30, samples });
    for (const x of r.channels) {
      expect(nonFiniteCount(x)).toBe(0);
      for (let s = 0; s < 30; s++) expect(level(x, s, s + 1)).toBeGreaterThan(-40);
    }
    expect(r.errors).toEqual([]); // nothing for the watchdog to find, either
  });
});

/** A held chord into a chorus bus (wet 1): a chorus keeps a NaN in its loop for good. */
const CHORUS = parsePatchOrThrow(
  `name: chorus
tempo: 120
key: C major
streams: { s: { default: 0 } }
buses: { wide: { type: chorus, wet: 1 } }
voices:
  pad: { synth: synth, oscillator: sine, poly: 3, notes: { mode: chord, octave: 4 }, rhythm: { hold: true }, envelope: { attack: 0.05, release: 0.5 }, volume: -12, send: { wide: 1 } }
`,
  'chorus.yaml',
);

/** Four NaN samples into a bus's input at `time`. */
function nanInto(bus: string, time: number): RenderAction {
  return {
    time,
    exact: true,
    run: (engine, t, raw) => {
      const buf = raw.createBuffer(2, 128, SR);
      const nan = new Float32Array(128).fill(NaN, 0, 4);
      buf.copyToChannel(nan, 0);
      buf.copyToChannel(nan, 1);
      const src = raw.createBufferSource();
      src.buffer = buf;
      src.connect(engine.runtime!.buses.get(bus)!.input);
      src.start(t);
    },
  };
}

describe('audio watchdog', () => {
  it('a NaN forced into a bus: found within a window, rebuilt, the sound back within 100 ms; panic and mute work after', async () => {
    const controls: RenderAction[] = [
      { time: 4, exact: true, run: (e, t) => e.panic(t) },
      { time: 5, exact: true, run: (e, t) => e.setMuted(false, t) },
    ];
    const clean = await renderOffline({ patch: CHORUS, duration: 6, actions: controls });
    const faults: Array<Extract<EngineEvent, { type: 'fault' }>> = [];
    const r = await renderOffline({
      patch: CHORUS,
      duration: 6,
      actions: [nanInto('wide', 2), ...controls],
      onEvent: (e) => void (e.type === 'fault' && faults.push(e)),
    });
    // One fault, found at the first window edge after the NaN (windows are 0.25 s).
    expect(faults.length).toBe(1);
    const found = faults[0]!;
    expect(found.fault).toBe('non-finite');
    expect(found.time).toBeGreaterThan(2);
    expect(found.time).toBeLessThan(2.26);
    expect(found.rebuilt).toContain('bus "wide" (non-finite)');
    expect(r.errors.map(String)).toEqual([expect.stringMatching(/^Error: audio fault at 2\.\d+ s: non-finite samples coming into the master; rebuilt bus "wide"/)]);
    for (const [c, x] of r.channels.entries()) {
      const ref = clean.channels[c]!;
      expect(nonFiniteCount(x)).toBe(0);
      // From 100 ms after the rebuild, every 50 ms sounds as the clean render does (the
      // rebuilt chorus's sweep starts afresh, hence the margin).
      for (let t = found.time + 0.1; t + 0.05 <= 4; t += 0.05) expect(Math.abs(level(x, t, t + 0.05) - level(ref, t, t + 0.05))).toBeLessThan(3);
      // Panic silences it; unmute brings the same sound back.
      expect(peak(x, at(4.05), at(5))).toBeLessThan(1e-4);
      for (let t = 5.1; t + 0.05 <= 6; t += 0.05) expect(Math.abs(level(x, t, t + 0.05) - level(ref, t, t + 0.05))).toBeLessThan(3);
    }
  });
});

describe('voice rebuild', () => {
  it('a rebuilt voice plays on as it was set: its last volume, send and scene gain', async () => {
    const patch = parsePatchOrThrow(
      `name: rebuild
tempo: 120
key: C major
streams: { s: { default: 0 } }
buses: { room: { type: reverb, decay: 0.5, wet: 1 } }
voices:
  pad: { synth: synth, oscillator: triangle, poly: 4, notes: { mode: root, octave: 4, length: 2 }, rhythm: { euclid: [8, 8] }, envelope: { attack: 0.01, release: 0.05 }, volume: -12 }
scenes:
  quiet: { voices: { pad: { volume: -12 } } }
`,
      'rebuild.yaml',
    );
    const r = await renderOffline({
      patch,
      duration: 5,
      actions: [
        { time: 1, run: (e, t) => void (e.setParameter('pad.volume', -24, t), e.setParameter('pad.send.room', 1, t)) },
        { time: 3, exact: true, run: (e, t) => e.runtime!.rebuildVoice('pad', t) },
      ],
    });
    expect(r.errors).toEqual([]);
    for (const x of r.channels) {
      const before = level(x, 2, 3);
      expect(before).toBeLessThan(-40); // −12 −24 −12 dB, and the master's −6
      expect(Math.abs(level(x, 3.2, 4.2) - before)).toBeLessThan(1);
    }
  });
});
