/** Data in the shapes real feeds serve, for tests. */

/** Two features in the shape of the USGS earthquake GeoJSON feed (out of time order, as served). */
export const USGS_SAMPLE = {
  type: 'FeatureCollection',
  metadata: { generated: 1764140000000, title: 'USGS All Earthquakes, Past Hour' },
  features: [
    {
      type: 'Feature',
      properties: { mag: 2.4, place: '10 km N of Somewhere, CA', time: 1764139500000, updated: 1764139600000, type: 'earthquake' },
      geometry: { type: 'Point', coordinates: [-117.5, 35.7, 8.2] },
      id: 'ci40000002',
    },
    {
      type: 'Feature',
      properties: { mag: 1.1, place: '5 km S of Elsewhere, AK', time: 1764139000000, updated: 1764139100000, type: 'earthquake' },
      geometry: { type: 'Point', coordinates: [-150.1, 61.2, 30.5] },
      id: 'ak0000001',
    },
  ],
};

/**
 * A held sine chord on a `co2` stream, with scenes `calm` and `storm`: it sounds
 * at once and steadily, so a test can read a level from its first second.
 * `co2` adds fields to the stream (`, maxRate: 50`).
 */
export function heldChordPatch(name: string, opts: { co2?: string } = {}): string {
  return `name: ${name}
tempo: 90
streams:
  co2: { unit: ppm, default: 400, valid: [0, 2000]${opts.co2 ?? ''} }
signals:
  level: { from: co2, range: [300, 500] }
voices:
  pad:
    synth: synth
    oscillator: sine
    volume: -6
    envelope: { attack: 0.05, release: 1 }
    notes: { mode: chord, octave: 3 }
    rhythm: { hold: true }
scenes:
  calm: {}
  storm: {}
`;
}
