/**
 * The one door through which values reach AudioParams: finite-checked, clamped,
 * and applied as a ramp (setTargetAtTime), never as a jump. A NaN or ±Infinity
 * is refused here and counted; it never reaches the audio graph.
 *
 * node-web-audio-api 2.2.0 evaluates a setTargetAtTime curve before its start
 * time when it follows another event: a gain at 0.3 given setTargetAtTime(1, t+1,
 * 0.125) read −2041 until t+1 (e^((start−now)/τ) growth). Anchoring every ramp
 * with setValueAtTime(value at start, start) at the same time avoids it (measured:
 * exact hold until the start). That needs the value at the start time, so each
 * param keeps a shadow of its last ramp: v(t) = target + (v0 − target)·e^(−(t−start)/τ).
 */

/** Anything with the Web Audio automation signatures (a native AudioParam or a Tone Param/Signal). */
export interface RampableParam {
  setTargetAtTime(value: number, startTime: number, timeConstant: number): unknown;
  setValueAtTime(value: number, time: number): unknown;
  readonly value: number;
}

interface Shadow {
  v0: number;
  target: number;
  start: number;
  tau: number;
}

const shadows = new WeakMap<object, Shadow>();

function shadowOf(param: RampableParam): Shadow {
  let s = shadows.get(param);
  if (!s) {
    const v = Number.isFinite(param.value) ? param.value : 0;
    s = { v0: v, target: v, start: -Infinity, tau: 1 };
    shadows.set(param, s);
  }
  return s;
}

function remember(param: RampableParam, s: Shadow): void {
  shadows.set(param, s);
  if (param instanceof GhostParam) param.ramps.push(s);
}

/** Where a ramp is at `time` (its start value until it starts). */
function curveAt(s: Shadow, time: number): number {
  if (time <= s.start) return s.v0;
  return s.target + (s.v0 - s.target) * Math.exp(-(time - s.start) / s.tau);
}

/** The value a param automated only through this module has at `time`. */
export function valueAt(param: RampableParam, time: number): number {
  return curveAt(shadowOf(param), time);
}

/** Counts values refused because they were not finite. */
export const guardStats = { refused: 0 };

/**
 * Ramps `param` towards `value` from `time` with time constant `tau` seconds
 * (reaches 95 % after 3τ). Returns false, changing nothing, if any input is not finite.
 * A time earlier than the param's last ramp is moved to it, keeping events in order.
 */
export function rampTo(param: RampableParam, value: number, time: number, tau: number, min = -Infinity, max = Infinity): boolean {
  if (!Number.isFinite(value) || !Number.isFinite(time) || !Number.isFinite(tau)) {
    guardStats.refused++;
    return false;
  }
  const s = shadowOf(param);
  const t = Math.max(0, time, s.start);
  const v = value < min ? min : value > max ? max : value;
  const tc = Math.max(0.001, tau);
  const from = valueAt(param, t);
  param.setValueAtTime(from, t);
  param.setTargetAtTime(v, t, tc);
  remember(param, { v0: from, target: v, start: t, tau: tc });
  return true;
}

/** Sets a value at a time (initial values, scene cuts), guarded like {@link rampTo}. */
export function setAt(param: RampableParam, value: number, time: number, min = -Infinity, max = Infinity): boolean {
  if (!Number.isFinite(value) || !Number.isFinite(time)) {
    guardStats.refused++;
    return false;
  }
  const s = shadowOf(param);
  const t = Math.max(0, time, s.start === -Infinity ? 0 : s.start);
  const v = value < min ? min : value > max ? max : value;
  param.setValueAtTime(v, t);
  remember(param, { v0: v, target: v, start: t, tau: 1 });
  return true;
}

/**
 * A param that exists only as its automation: it takes {@link rampTo} and
 * {@link setAt} like a real one and keeps the ramps, so that a real param made
 * later can {@link follow} it (voices make pool instruments when first needed).
 */
export class GhostParam implements RampableParam {
  /** Ramps in time order; those before the last one begun by {@link prune}'s time are gone. */
  readonly ramps: Shadow[] = [];
  constructor(readonly value: number) {}
  setValueAtTime(): void {}
  setTargetAtTime(): void {}
  /** Forgets ramps that no longer shape the curve at `now` or later. */
  prune(now: number): void {
    let k = 0;
    while (k + 1 < this.ramps.length && this.ramps[k + 1]!.start <= now) k++;
    if (k > 0) this.ramps.splice(0, k);
  }
}

/**
 * Puts `param` on the curve of `ghost` from `time` on: its value at `time`,
 * the ramp under way then, and every ramp after it, exactly (an exponential
 * approach is the same curve from any point on it). `time` must not be before
 * the ghost's last {@link GhostParam.prune}.
 */
export function follow(param: RampableParam, ghost: GhostParam, time: number): void {
  const t = Math.max(0, time);
  const ramps = ghost.ramps;
  let k = -1;
  while (k + 1 < ramps.length && ramps[k + 1]!.start <= t) k++;
  const at = k >= 0 ? ramps[k]! : { v0: ghost.value, target: ghost.value, start: -Infinity, tau: 1 };
  const from = curveAt(at, t);
  param.setValueAtTime(from, t);
  if (at.target !== from) param.setTargetAtTime(at.target, t, at.tau);
  let last: Shadow = { v0: from, target: at.target, start: t, tau: at.tau };
  for (const r of ramps.slice(k + 1)) {
    param.setValueAtTime(r.v0, r.start);
    if (r.target !== r.v0) param.setTargetAtTime(r.target, r.start, r.tau);
    last = r;
  }
  shadows.set(param, { ...last });
}
