/**
 * Render data from any source reaches the engine as the patch means it: text
 * categories through their map, units converted, bad values left out.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PatchSchema } from '../../core/patchSchema.ts';
import { renderOffline } from '../render.ts';
import type { Engine } from '../../audio/Engine.ts';
import { absolutizeFileUri, collectFeeds } from './collect.ts';

const patch = PatchSchema.parse({
  name: 'weather words',
  streams: { weather: { default: 0 }, temp: { unit: 'degC', valid: [-60, 60] } },
  signals: {
    wet: { from: 'weather', range: [0, 1], categories: { clear: 0, cloudy: 0.3, rain: 0.8, storm: 1 } },
    warm: { from: 'temp', range: [-10, 40] },
  },
  voices: { v: { synth: 'synth', rhythm: { euclid: [4, 16] } } },
  mappings: [
    { from: 'wet', to: 'v.filter.frequency', range: [200, 4000] },
    { from: 'warm', to: 'v.volume', range: [-30, -6] },
  ],
});

describe('collectFeeds', () => {
  it('renders text categories and converts units, leaving bad values out', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ecosym-collect-'));
    writeFileSync(
      join(dir, 'obs.ndjson'),
      [
        { time: 0, weather: 'clear', t: 50, unit: 'degF' },
        { time: 1, weather: 'RAIN ', t: 68, unit: 'degF' },
        { time: 2, weather: 'hail', t: 'n/a', unit: 'degF' },
        { time: 3, weather: 'storm', t: 77, unit: 'degF' },
      ]
        .map((o) => JSON.stringify(o))
        .join('\n'),
    );
    const feeds = await collectFeeds(
      patch,
      dir,
      new Map([
        ['weather', absolutizeFileUri('obs.ndjson#&value=weather&speed=1&loop=false', dir)],
        ['temp', absolutizeFileUri('obs.ndjson#&value=t&speed=1&loop=false', dir)],
      ]),
      { duration: 5 },
    );
    const byStream = Object.fromEntries(feeds.map((f) => [f.feed.stream, f.feed.points.map((p) => p.value)]));
    expect(byStream.weather).toEqual(['clear', 'RAIN ', 'hail', 'storm'].map((w) => w.trim()));
    expect(byStream.temp).toEqual([10, 20, 25]);
    expect(feeds.find((f) => f.feed.stream === 'temp')!.described).toMatch(/3 values, 1 rejected/);

    const seen: Array<[number, number]> = [];
    const r = await renderOffline({
      patch,
      duration: 4,
      data: feeds.map((f) => f.feed),
      actions: [0.5, 1.5, 2.5, 3.5].map((time) => ({
        time,
        run: (e: Engine) => {
          const { signals } = e.values();
          return () => void seen.push([signals.wet!, signals.warm!]);
        },
      })),
    });
    expect(r.errors).toEqual([]);
    // "hail" is not in the map: the signal keeps "rain" until "storm".
    expect(seen.map(([w]) => w)).toEqual([0, 0.8, 0.8, 1]);
    expect(seen.map(([, t]) => Number(t.toFixed(3)))).toEqual([0.4, 0.6, 0.6, 0.7]);
  });
});
