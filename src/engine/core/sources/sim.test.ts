import { describe, expect, it } from 'vitest';
import { Simulator, type SimSpec } from './sim.ts';
import { parseSourceUri } from './uri.ts';

const sim = (uri: string) => new Simulator(parseSourceUri(uri) as SimSpec, 1_700_000_000);

describe('Simulator', () => {
  it('emits at its rate, deterministically for a seed, within [min, max]', () => {
    for (const shape of ['walk', 'sine', 'daily', 'seasonal', 'noise', 'steps']) {
      const a = sim(`sim:${shape}?min=-5&max=30&rate=10&seed=4`).until(60);
      const b = sim(`sim:${shape}?min=-5&max=30&rate=10&seed=4`).until(60);
      const c = sim(`sim:${shape}?min=-5&max=30&rate=10&seed=5`).until(60);
      expect(a).toHaveLength(600);
      expect(a).toEqual(b);
      if (shape !== 'sine') expect(a).not.toEqual(c);
      const values = a.map((s) => s.value as number);
      expect(Math.min(...values)).toBeGreaterThanOrEqual(-5);
      expect(Math.max(...values)).toBeLessThanOrEqual(30);
    }
  });

  it('windows cut anywhere give the same samples', () => {
    const whole = sim('sim:walk?rate=7&seed=9').until(20);
    const s = sim('sim:walk?rate=7&seed=9');
    const parts = [0.3, 1, 5.55, 12, 20].flatMap((t) => s.until(t));
    expect(parts).toEqual(whole);
  });

  it('daily: one cycle per simulated day, coldest near dawn and warmest in the afternoon', () => {
    // speed 1440: a day in a minute
    const day = sim('sim:daily?min=0&max=20&rate=24&speed=1440').until(60);
    const values = day.map((s) => s.value as number);
    const coldest = day[values.indexOf(Math.min(...values))]!;
    const warmest = day[values.indexOf(Math.max(...values))]!;
    const hour = (s: { dataTime: number }) => ((s.dataTime - 1_700_000_000) / 3600) % 24;
    expect(hour(coldest)).toBeGreaterThan(1);
    expect(hour(coldest)).toBeLessThan(5);
    expect(hour(warmest)).toBeGreaterThan(13);
    expect(hour(warmest)).toBeLessThan(17);
  });

  it('scripted faults: bad values once each, a silence, duplicate and backwards times', () => {
    const s = sim('sim:sine?rate=1&faults=nan@2s,null@3s,string@4s,inf@5s,spike@6s,duplicate@7s,backwards@8s,silence@10s+5s').until(20);
    const at = (t: number) => s.find((x) => x.t === t);
    expect(at(2)!.value).toBeNaN();
    expect(at(3)!.value).toBeNull();
    expect(at(4)!.value).toBe('n/a');
    expect(at(5)!.value).toBe(Infinity);
    expect(at(6)!.value).toBe(101);
    expect(at(7)!.dataTime).toBe(at(6)!.dataTime);
    expect(at(8)!.dataTime).toBeLessThan(at(7)!.dataTime);
    expect(s.filter((x) => x.t >= 10 && x.t < 15)).toEqual([]);
    expect(typeof at(9)!.value).toBe('number');
    expect(s).toHaveLength(15);
  });
});
