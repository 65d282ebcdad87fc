/**
 * Simulated feeds, so a patch can be played and tested with no network:
 * a bounded random walk, a sine, daily and seasonal cycles, noise, random
 * steps, and scripted faults (bad values, duplicate and backwards times,
 * silences) to rehearse a patch's outage behaviour. Deterministic: the same
 * spec and seed give the same samples. Pure: the caller paces it.
 */
import { hash01 } from '../random.ts';
import type { SourceSpec } from './uri.ts';

export type SimSpec = Extract<SourceSpec, { kind: 'sim' }>;

export interface SimSample {
  /** Seconds since the simulation started (when it is sent). */
  t: number;
  /** Epoch seconds the reading claims to be from. */
  dataTime: number;
  /** Usually a number; a fault may make it NaN, Infinity, null or text. */
  value: unknown;
}

export class Simulator {
  private index = 0;
  private walk: number;
  private prevDataTime = NaN;
  private readonly firedFaults = new Set<number>();

  constructor(
    readonly spec: SimSpec,
    readonly startDataTime: number,
  ) {
    this.walk = (spec.min + spec.max) / 2;
  }

  /** The clean value of the shape at data offset u (seconds since start, in data time). */
  shapeValue(u: number, i: number): number {
    const { min, max, period, seed, shape } = this.spec;
    const mid = (min + max) / 2;
    const amp = (max - min) / 2;
    const jitter = (hash01(seed, i, 7) - 0.5) * 0.1 * amp;
    switch (shape) {
      case 'sine':
        return mid + amp * Math.sin((2 * Math.PI * u) / period);
      case 'daily':
        // Coldest at dawn (a quarter period in), warmest mid-afternoon.
        return clamp(mid - 0.9 * amp * Math.cos((2 * Math.PI * (u - period / 8)) / period) + jitter, min, max);
      case 'seasonal': {
        const year = -Math.cos((2 * Math.PI * u) / period);
        const day = -Math.cos((2 * Math.PI * u) / 86400);
        return clamp(mid + amp * (0.75 * year + 0.15 * day) + jitter, min, max);
      }
      case 'noise':
        return min + (max - min) * hash01(seed, i, 1);
      case 'steps':
        return min + (max - min) * hash01(seed, Math.floor(u / period), 2);
      case 'walk': {
        let x = this.walk + (hash01(seed, i, 3) * 2 - 1) * this.spec.step;
        if (x > max) x = 2 * max - x;
        if (x < min) x = 2 * min - x;
        this.walk = clamp(x, min, max);
        return this.walk;
      }
    }
  }

  /** Samples due in [t0, t1) seconds since start, in order. Call with increasing windows. */
  until(t1: number): SimSample[] {
    const out: SimSample[] = [];
    const { rate, speed, faults } = this.spec;
    for (;;) {
      const t = this.index / rate;
      if (t >= t1) return out;
      const i = this.index++;
      const u = t * speed;
      let value: unknown = this.shapeValue(u, i);
      let dataTime = this.startDataTime + u;
      if (faults.some((f) => f.kind === 'silence' && t >= f.at && t < f.at + f.length)) continue;
      faults.forEach((f, k) => {
        if (f.kind === 'silence' || t < f.at || this.firedFaults.has(k)) return;
        this.firedFaults.add(k);
        if (f.kind === 'nan') value = NaN;
        else if (f.kind === 'inf') value = Infinity;
        else if (f.kind === 'null') value = null;
        else if (f.kind === 'string') value = 'n/a';
        else if (f.kind === 'spike') value = this.spec.max + 100 * (this.spec.max - this.spec.min);
        else if (f.kind === 'duplicate' && Number.isFinite(this.prevDataTime)) dataTime = this.prevDataTime;
        else if (f.kind === 'backwards' && Number.isFinite(this.prevDataTime)) dataTime = this.prevDataTime - speed / rate;
      });
      this.prevDataTime = dataTime;
      out.push({ t, dataTime, value });
    }
  }
}

function clamp(x: number, lo: number, hi: number): number {
  return x < lo ? lo : x > hi ? hi : x;
}
