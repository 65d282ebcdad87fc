/**
 * The one door through which values reach AudioParams: finite-checked, clamped,
 * and applied as a ramp (setTargetAtTime), never as a jump. A NaN or ±Infinity
 * is refused here and counted; it never reaches the audio graph.
 */

/** Anything with the Web Audio setTargetAtTime signature (a native AudioParam or a Tone Param/Signal). */
export interface RampableParam {
  setTargetAtTime(value: number, startTime: number, timeConstant: number): unknown;
  setValueAtTime(value: number, time: number): unknown;
}

/** Counts values refused because they were not finite. */
export const guardStats = { refused: 0 };

/**
 * Ramps `param` towards `value` from `time` with time constant `tau` seconds
 * (reaches 95 % after 3τ). Returns false, changing nothing, if any input is not finite.
 */
export function rampTo(param: RampableParam, value: number, time: number, tau: number, min = -Infinity, max = Infinity): boolean {
  if (!Number.isFinite(value) || !Number.isFinite(time) || !Number.isFinite(tau)) {
    guardStats.refused++;
    return false;
  }
  const v = value < min ? min : value > max ? max : value;
  param.setTargetAtTime(v, Math.max(0, time), Math.max(0.001, tau));
  return true;
}

/** Sets a value at a time (for initial values, before anything sounds), guarded like {@link rampTo}. */
export function setAt(param: RampableParam, value: number, time: number, min = -Infinity, max = Infinity): boolean {
  if (!Number.isFinite(value) || !Number.isFinite(time)) {
    guardStats.refused++;
    return false;
  }
  param.setValueAtTime(value < min ? min : value > max ? max : value, Math.max(0, time));
  return true;
}
