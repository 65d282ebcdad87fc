/**
 * The gate every sample passes before it may reach the engine: bad data is
 * rejected and counted per reason, never passed on. Pure and per stream.
 *
 * Rejected: null/undefined, objects, booleans, non-numeric text (unless the
 * stream maps text categories), NaN and ±Infinity, a time before the last
 * accepted one (out of order) or equal to it (duplicate), a value outside the
 * stream's physically valid range, and a jump faster than the stream's `maxRate`
 * (a spike). Numeric text ("12.5", as some APIs send numbers) is accepted as
 * a number. A sample that says its unit (°F, ft, mph…) is converted to the
 * stream's unit first; one whose unit cannot be converted is rejected.
 */
import { convertUnit } from '../units.ts';
import { parseFiniteNumber } from '../numbers.ts';

export type RejectReason = 'null' | 'not-a-number' | 'non-finite' | 'bad-unit' | 'bad-time' | 'out-of-order' | 'duplicate' | 'out-of-range' | 'spike';

export const REJECT_REASONS: readonly RejectReason[] = ['null', 'not-a-number', 'non-finite', 'bad-unit', 'bad-time', 'out-of-order', 'duplicate', 'out-of-range', 'spike'];

export interface GateOptions {
  /** Values outside [lo, hi] are impossible readings (a sensor's error codes such as -9999). */
  valid?: readonly [number, number];
  /** Largest believable change, in stream units per second of data time. */
  maxRate?: number;
  /** Pass non-numeric text on (the stream maps categories such as "rain"). */
  text?: boolean;
  /** Consecutive, mutually consistent "spikes" after which the new level is believed. */
  confirmAfter?: number;
  /** The stream's unit: a sample in another unit is converted, or rejected when it cannot be. */
  unit?: string;
}

export interface Accepted {
  value: number | string;
  dataTime: number;
}

/** Coerces a feed value: numbers as they are, numeric text to a number; anything else as a reason. */
export function coerceValue(v: unknown, allowText = false): number | string | RejectReason {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'number') return Number.isFinite(v) ? v : 'non-finite';
  if (typeof v === 'string') {
    // The strict parser: `1e309` is non-finite, `0x190` is not a number (or a category).
    const n = parseFiniteNumber(v);
    if (typeof n === 'number' || n === 'non-finite') return n;
    return allowText && n === 'not-a-number' ? v.trim() : 'not-a-number';
  }
  return 'not-a-number';
}

export class SampleGate {
  readonly counts: Record<RejectReason, number> = Object.fromEntries(REJECT_REASONS.map((r) => [r, 0])) as Record<RejectReason, number>;
  accepted = 0;
  private lastTime = -Infinity;
  private lastValue: number | undefined;
  private pending: Array<{ value: number; dataTime: number }> = [];

  constructor(readonly opts: GateOptions = {}) {}

  get rejected(): number {
    return REJECT_REASONS.reduce((n, r) => n + this.counts[r], 0);
  }

  /** Checks one sample; returns it (numbers coerced) or the reason it was rejected. */
  accept(raw: unknown, dataTime: number, unit?: string): Accepted | RejectReason {
    const reason = this.check(raw, dataTime, unit);
    if (typeof reason === 'string') {
      this.counts[reason]++;
      return reason;
    }
    this.accepted++;
    return reason;
  }

  private check(raw: unknown, dataTime: number, unit?: string): Accepted | RejectReason {
    let value = coerceValue(raw, this.opts.text);
    if (value === 'null' || value === 'non-finite' || value === 'not-a-number') return value;
    if (typeof value === 'number' && unit !== undefined && this.opts.unit !== undefined && unit !== this.opts.unit) {
      const converted = convertUnit(value, unit, this.opts.unit);
      if (typeof converted === 'string' || !Number.isFinite(converted)) return 'bad-unit';
      value = converted;
    }
    if (!Number.isFinite(dataTime)) return 'bad-time';
    if (dataTime < this.lastTime) return 'out-of-order';
    if (dataTime === this.lastTime) return 'duplicate';
    if (typeof value === 'number') {
      const valid = this.opts.valid;
      if (valid && (value < valid[0] || value > valid[1])) return 'out-of-range';
      if (this.opts.maxRate !== undefined && this.lastValue !== undefined && !this.believable(value, dataTime)) return 'spike';
      this.lastValue = value;
      this.pending = [];
    }
    this.lastTime = dataTime;
    return { value, dataTime };
  }

  /**
   * A jump faster than maxRate is a spike, unless the same new level keeps
   * coming: after `confirmAfter` consistent samples the level is real (a
   * sensor was moved, a feed changed its baseline) and is accepted.
   */
  private believable(value: number, dataTime: number): boolean {
    const rate = this.opts.maxRate!;
    const dt = Math.max(dataTime - this.lastTime, 1e-9);
    if (Math.abs(value - this.lastValue!) <= rate * dt) return true;
    const prev = this.pending[this.pending.length - 1];
    const consistent = !prev || Math.abs(value - prev.value) <= rate * Math.max(dataTime - prev.dataTime, 1e-9);
    this.pending = consistent ? [...this.pending, { value, dataTime }] : [{ value, dataTime }];
    if (this.pending.length >= (this.opts.confirmAfter ?? 3)) {
      this.pending = [];
      return true;
    }
    return false;
  }
}
