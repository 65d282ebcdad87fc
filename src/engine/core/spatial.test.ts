import { describe, expect, it } from 'vitest';
import { foldDownGains, outputPlan, panGains, placeAt, resolveLayout, stereoPan, type Layout } from './spatial.ts';
import { PatchSchema } from './patchSchema.ts';

const ring8 = resolveLayout({ layout: 'ring', channels: 8 });
const sumSq = (g: number[]) => g.reduce((s, x) => s + x * x, 0);

describe('equal-power panning', () => {
  it('a place at a speaker sounds only there; between two, only those two', () => {
    expect(panGains(ring8, 90)).toEqual([0, 0, 1, 0, 0, 0, 0, 0].map((x, i) => (i === 2 ? 1 : expect.closeTo(x, 12))));
    const g = panGains(ring8, 67.5);
    expect(g[1]).toBeCloseTo(Math.SQRT1_2, 12);
    expect(g[2]).toBeCloseTo(Math.SQRT1_2, 12);
    expect(g.filter((x, i) => i !== 1 && i !== 2 && x !== 0)).toEqual([]);
  });

  it('keeps the summed power at 1 all round every layout, wrapping past 360° and −180°', () => {
    const layouts: Layout[] = [ring8, resolveLayout({ layout: 'quad' }), resolveLayout({ layout: '5.1' }), resolveLayout({ layout: 'stereo' }), resolveLayout({ layout: 'ring', channels: 3 })];
    for (const l of layouts) for (let a = -400; a <= 400; a += 7.3) expect(sumSq(panGains(l, a)), `${l.name} at ${a}°`).toBeCloseTo(1, 10);
    const line = resolveLayout({ layout: 'line', channels: 5 });
    for (let x = -0.2; x <= 1.2; x += 0.01) expect(sumSq(panGains(line, x))).toBeCloseTo(1, 10);
  });

  it('5.1 never sends to the LFE channel; the wrap-around gap of a ring pans between its last and first speakers', () => {
    const l = resolveLayout({ layout: '5.1' });
    for (let a = -180; a <= 180; a += 5) expect(panGains(l, a)[3]).toBe(0);
    const g = panGains(ring8, 337.5);
    expect(g[7]).toBeCloseTo(Math.SQRT1_2, 12);
    expect(g[0]).toBeCloseTo(Math.SQRT1_2, 12);
  });

  it('folds down to stereo by left–right place, at equal power', () => {
    expect(stereoPan(ring8, 0)).toBe(0);
    expect(stereoPan(ring8, 90)).toBe(1);
    expect(stereoPan(ring8, -45)).toBe(-1);
    expect(stereoPan(ring8, 180)).toBeCloseTo(0, 12);
    for (let a = 0; a < 360; a += 10) expect(sumSq(foldDownGains(ring8, a))).toBeCloseTo(1, 12);
  });
});

describe('positions over time', () => {
  it('an orbit turns at its period; a line orbit goes there and back', () => {
    expect(placeAt(ring8, { orbit: 8, from: 0 }, 2)).toBe(90);
    expect(placeAt(ring8, { orbit: -8, from: 45 }, 2)).toBe(-45);
    const line = resolveLayout({ layout: 'line', channels: 4 });
    expect([0, 2, 4, 6].map((t) => placeAt(line, { orbit: 8, from: 0 }, t))).toEqual([0, 0.5, 1, 0.5]);
  });

  it('a drift wanders within its width, smoothly, the same for the same seed', () => {
    const p = { drift: 30, from: 90, width: 45 };
    const xs = Array.from({ length: 600 }, (_, i) => placeAt(ring8, p, i * 0.5, 0.5, 7));
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(45);
    expect(Math.max(...xs)).toBeLessThanOrEqual(135);
    expect(Math.max(...xs) - Math.min(...xs)).toBeGreaterThan(30);
    for (let i = 1; i < xs.length; i++) expect(Math.abs(xs[i]! - xs[i - 1]!)).toBeLessThan(10);
    expect(placeAt(ring8, p, 12.3, 0.5, 7)).toBe(xs.length && placeAt(ring8, p, 12.3, 0.5, 7));
    expect(placeAt(ring8, p, 12.3, 0.5, 8)).not.toBe(placeAt(ring8, p, 12.3, 0.5, 7));
  });

  it('follow maps its signal across a range', () => {
    expect(placeAt(ring8, { follow: 'x', range: [0, 180], glide: 0 }, 0, 0.25)).toBe(45);
    expect(placeAt(ring8, { follow: 'x', glide: 0 }, 0, 1)).toBe(180);
  });
});

describe('output plans', () => {
  it('plays a layout as itself where the device has room, and folds it to stereo (saying so) where not', () => {
    expect(outputPlan(ring8, 32)).toEqual({ channels: 8, folded: false });
    expect(outputPlan(ring8, 2)).toMatchObject({ channels: 2, folded: true, note: expect.stringMatching(/made for 8 channels \(ring\); this output has 2: folded down to stereo/) });
  });
});

describe('the output section and positions in a patch', () => {
  const base = { name: 'x', streams: { s: { default: 0 } }, signals: { level: { from: 's', range: [0, 1] } } };
  const voice = (position: unknown) => ({ v: { synth: 'synth', rhythm: { hold: true }, position } });
  const errors = (p: unknown) => {
    const r = PatchSchema.safeParse(p);
    return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  };

  it('accepts every kind of position', () => {
    for (const position of [45, { speaker: 3 }, { orbit: 20 }, { orbit: -5, from: 90 }, { drift: 60, width: 30 }, { follow: 'level', range: [-90, 90], glide: 2 }])
      expect(errors({ ...base, output: { layout: 'ring', channels: 8 }, voices: voice(position) }), JSON.stringify(position)).toEqual([]);
  });

  it('says what is wrong and where', () => {
    expect(errors({ ...base, output: { layout: 'quad', channels: 8 }, voices: voice(0) })).toEqual(['output.channels: layout "quad" has 4 channels, not 8']);
    expect(errors({ ...base, output: { layout: 'ring', channels: 4 }, voices: voice({ speaker: 6 }) })).toEqual(['voices.v.position: speaker 6: the ring layout has 4 channels']);
    expect(errors({ ...base, output: { layout: 'zones', zones: ['a', 'b'] }, voices: voice({ zone: 'c' }) })).toEqual(['voices.v.position: unknown zone "c" (zones: a, b)']);
    expect(errors({ ...base, voices: voice({ follow: 'nope' }) })).toEqual(['voices.v.position.follow: unknown signal "nope" (signals: level)']);
    expect(errors({ ...base, output: { layout: 'zones' }, voices: voice(0) })).toEqual(['output.zones: layout "zones" needs zones: [name, …], one per channel']);
  });
});
