import { describe, expect, it } from 'vitest';
import { conditionSpec } from './PatchRuntime.ts';
import { Conditioner } from '../core/conditioning.ts';
import { parsePatchOrThrow } from '../core/patchLoader.ts';

const PATCH = `name: Spec
streams:
  level: { unit: m }
  sky: {}
signals:
  plain: { from: level, range: [0, 4], smooth: 2s, threshold: { above: 0.8 } }
  robust:
    from: level
    range: { auto: 24h, percentiles: [5, 95] }
    outliers: { window: 5 }
    filter: { oneEuro: { beta: 0.1 } }
    slew: 0.25
    threshold: { below: 0.2, hysteresis: 0.1 }
  rising: { from: level, derive: rate, rateUnit: h, range: [-1, 1] }
  daily: { from: level, derive: rate, rateUnit: d, range: "auto" }
  weather: { from: sky, range: [0, 1], categories: { rain: 0.8, clear: 0 } }
voices:
  pad: { synth: fm, rhythm: { hold: true } }
`;

describe('conditionSpec (a patch signal → the Conditioner spec)', () => {
  const p = parsePatchOrThrow(PATCH, 'spec.yaml');
  const specOf = (name: string) => {
    const s = p.signals[name]!;
    return conditionSpec(s, p.streams[s.from]!.unit);
  };

  it('passes the existing fields as before, with the stream unit', () => {
    expect(specOf('plain')).toStrictEqual({
      range: { fixed: [0, 4] },
      curve: 'lin',
      smoothSeconds: 2,
      clamp: true,
      invert: false,
      threshold: { above: 0.8, hysteresis: 0.05, hold: 0 },
      oneEuro: undefined,
      slewPerSecond: undefined,
      outliers: undefined,
      rate: undefined,
      categories: undefined,
      unit: 'm',
    });
  });

  it('passes every new field', () => {
    expect(specOf('robust')).toMatchObject({
      range: { autoWindowSeconds: 86400, percentiles: [5, 95] },
      oneEuro: { minCutoff: 1, beta: 0.1, dCutoff: 1 },
      slewPerSecond: 0.25,
      outliers: { window: 5, threshold: 3, action: 'reject' },
      threshold: { below: 0.2, hysteresis: 0.1 },
      unit: 'm',
    });
    expect(specOf('rising').rate).toStrictEqual({ perSeconds: 3600 });
    expect(specOf('daily')).toMatchObject({ range: { autoWindowSeconds: Infinity }, rate: { perSeconds: 86400 } });
    expect(specOf('weather')).toMatchObject({ categories: { rain: 0.8, clear: 0 }, unit: undefined });
  });

  it('every resolved spec builds a Conditioner that conditions', () => {
    for (const name of Object.keys(p.signals)) {
      const c = new Conditioner(specOf(name));
      c.push(name === 'weather' ? 'Rain' : 1, 0, 0);
      const r = c.push(name === 'weather' ? 'clear' : 2, 1, 3600, name === 'weather' ? undefined : 'ft');
      expect(r, name).toBeDefined();
      expect(Number.isFinite(r!.value)).toBe(true);
    }
  });
});
