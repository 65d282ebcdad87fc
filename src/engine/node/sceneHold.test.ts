/** Noisy data around a threshold: scenes change at most once per hold, rendered through the engine. */
import { describe, expect, it } from 'vitest';
import './platform/installGlobals.ts';
import { parsePatchOrThrow } from '../core/patchLoader.ts';
import { renderOffline } from './render.ts';

const patch = (threshold: string, mapping = '') =>
  parsePatchOrThrow(
    `name: Hold
streams: { wind: {} }
signals:
  gale: { from: wind, range: [0, 1], threshold: { above: 0.5, hysteresis: 0.02${threshold} } }
voices:
  pad: { synth: synth, rhythm: { hold: true }, volume: -20 }
mappings:
  - { from: gale, to: scene, on: gusty, off: calm${mapping} }
scenes:
  calm: { fade: 0.5s }
  gusty: { fade: 0.5s, voices: { pad: { volume: 6 } } }
`,
    'hold.yaml',
  );

// 20 values a second for 30 s, jumping across the level: a fixed sequence.
const noisy = Array.from({ length: 600 }, (_, i) => ({ time: i / 20, value: 0.5 + 0.3 * Math.sin(i * 12.9898) * Math.cos(i * 78.233) }));

async function sceneTimes(p: ReturnType<typeof patch>): Promise<number[]> {
  const times: number[] = [];
  await renderOffline({ patch: p, duration: 30, sampleRate: 8000, data: [{ stream: 'wind', points: noisy }], onEvent: (e) => void (e.type === 'scene' && times.push(e.time)) });
  return times.filter((t) => t > 0);
}

describe('scene changes from noisy data', () => {
  it('without a hold the scene flickers', async () => {
    expect((await sceneTimes(patch(''))).length).toBeGreaterThan(30);
  });

  it('threshold hold 5s: at most one change per 5 s of playing', async () => {
    const t = await sceneTimes(patch(', hold: 5s'));
    expect(t.length).toBeGreaterThanOrEqual(2);
    expect(t.length).toBeLessThanOrEqual(6);
    for (let i = 1; i < t.length; i++) expect(t[i]! - t[i - 1]!).toBeGreaterThanOrEqual(5 - 1e-6);
  });

  it('mapping hold 8s limits the scene changes of the mapping, and the last wish is kept', async () => {
    const t = await sceneTimes(patch('', ', hold: 8s'));
    expect(t.length).toBeGreaterThanOrEqual(2);
    expect(t.length).toBeLessThanOrEqual(4);
    for (let i = 1; i < t.length; i++) expect(t[i]! - t[i - 1]!).toBeGreaterThanOrEqual(8 - 1e-6);
  });
});
