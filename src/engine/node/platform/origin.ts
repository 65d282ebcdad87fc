/**
 * Native time for a segment of a render: the engine keeps piece time, and a
 * segment's context starts at piece time `origin` (its time 0). While
 * {@link TimeOrigin.run} runs engine code, every native AudioParam automation
 * and source start/stop is moved `origin` seconds earlier; what falls before
 * the context's start ("the past", while the engine replays the piece up to
 * the origin without sound) is not scheduled but kept as a curve per param:
 * its last value and the exponential approach under way (setValueAtTime,
 * setTargetAtTime; ramps and curves that ended). Each param gets that curve,
 * as it stands at the origin, at time 0, before its first event after the
 * origin or at {@link TimeOrigin.flush}: an exponential approach is the same
 * curve from any point on it, so the param then moves as it would have in a
 * context started at piece time 0 (to float rounding).
 *
 * The prototypes of AudioParam and of the source nodes are patched once
 * ({@link installTimeOrigin}); outside `run` they behave as before. `run` is
 * synchronous, so two renders taking turns (each awaiting its own context)
 * never see each other's origin.
 */

interface Past {
  v0: number;
  start: number;
  target: number;
  tau: number;
}

function curveAt(s: Past, time: number): number {
  if (time <= s.start) return s.v0;
  return s.target + (s.v0 - s.target) * Math.exp(-(time - s.start) / s.tau);
}

let active: TimeOrigin | undefined;
const activate = (o: TimeOrigin | undefined) => void (active = o);

type ParamMethods = {
  setValueAtTime(v: number, t: number): AudioParam;
  setTargetAtTime(v: number, t: number, tau: number): AudioParam;
  linearRampToValueAtTime(v: number, t: number): AudioParam;
  exponentialRampToValueAtTime(v: number, t: number): AudioParam;
  setValueCurveAtTime(c: Float32Array | number[], t: number, d: number): AudioParam;
  cancelScheduledValues(t: number): AudioParam;
  cancelAndHoldAtTime(t: number): AudioParam;
};

let original: ParamMethods | undefined;

/** A segment's origin: piece time of its context's time 0. */
export class TimeOrigin {
  private readonly past = new Map<AudioParam, Past>();
  private flushed = false;
  constructor(readonly origin: number) {}

  /** Runs engine code with native times moved to this origin. */
  run<T>(fn: () => T): T {
    const previous = active;
    activate(this);
    try {
      return fn();
    } finally {
      active = previous;
    }
  }

  /** Puts every param that has only a past on its curve at time 0 (the dry run is over). */
  flush(): void {
    this.flushed = true;
    for (const param of [...this.past.keys()]) this.settle(param);
  }

  /** Params waiting for their past to be put at time 0 (tests). */
  get pending(): number {
    return this.past.size;
  }

  /** Native time for piece time `t` (never before the context's start). */
  at(t: number): number {
    return Math.max(0, t - this.origin);
  }

  /** Records an event before the origin; true when it was one. */
  remember(param: AudioParam, t: number, next: (before: Past | undefined, value: number) => Past): boolean {
    if (!(t < this.origin)) {
      this.settle(param);
      return false;
    }
    const before = this.past.get(param);
    const value = before ? curveAt(before, t) : param.value;
    this.past.set(param, next(before, value));
    // After the dry run (a node made while rendering: Tone sets its params at time 0), at once.
    if (this.flushed) this.settle(param);
    return true;
  }

  /** Writes a param's past, as it stands at the origin, at native time 0. */
  settle(param: AudioParam): void {
    const s = this.past.get(param);
    if (!s || !original) return;
    this.past.delete(param);
    const v = curveAt(s, this.origin);
    original.setValueAtTime.call(param, v, 0);
    if (s.target !== v) original.setTargetAtTime.call(param, s.target, 0, s.tau);
  }
}

/** Patches AudioParam and the source nodes for {@link TimeOrigin}. Idempotent. */
export function installTimeOrigin(): void {
  if (original) return;
  const proto = AudioParam.prototype as unknown as ParamMethods;
  const o: ParamMethods = {
    setValueAtTime: proto.setValueAtTime,
    setTargetAtTime: proto.setTargetAtTime,
    linearRampToValueAtTime: proto.linearRampToValueAtTime,
    exponentialRampToValueAtTime: proto.exponentialRampToValueAtTime,
    setValueCurveAtTime: proto.setValueCurveAtTime,
    cancelScheduledValues: proto.cancelScheduledValues,
    cancelAndHoldAtTime: proto.cancelAndHoldAtTime,
  };
  original = o;
  const ended = (v: number, t: number): Past => ({ v0: v, start: t, target: v, tau: 1 });
  proto.setValueAtTime = function (this: AudioParam, v, t) {
    const a = active;
    if (!a) return o.setValueAtTime.call(this, v, t);
    if (a.remember(this, t, () => ended(v, t))) return this;
    return o.setValueAtTime.call(this, v, a.at(t));
  };
  proto.setTargetAtTime = function (this: AudioParam, v, t, tau) {
    const a = active;
    if (!a) return o.setTargetAtTime.call(this, v, t, tau);
    if (a.remember(this, t, (_, from) => ({ v0: from, start: t, target: v, tau }))) return this;
    return o.setTargetAtTime.call(this, v, a.at(t), tau);
  };
  proto.linearRampToValueAtTime = function (this: AudioParam, v, t) {
    const a = active;
    if (!a) return o.linearRampToValueAtTime.call(this, v, t);
    if (a.remember(this, t, () => ended(v, t))) return this;
    return o.linearRampToValueAtTime.call(this, v, a.at(t));
  };
  proto.exponentialRampToValueAtTime = function (this: AudioParam, v, t) {
    const a = active;
    if (!a) return o.exponentialRampToValueAtTime.call(this, v, t);
    if (a.remember(this, t, () => ended(v, t))) return this;
    return o.exponentialRampToValueAtTime.call(this, v, a.at(t));
  };
  proto.setValueCurveAtTime = function (this: AudioParam, c, t, d) {
    const a = active;
    if (!a) return o.setValueCurveAtTime.call(this, c, t, d);
    if (t + d < a.origin && a.remember(this, t + d, () => ended(c[c.length - 1]!, t + d))) return this;
    return o.setValueCurveAtTime.call(this, c, a.at(t), Math.min(d, t + d - a.origin));
  };
  proto.cancelScheduledValues = function (this: AudioParam, t) {
    const a = active;
    if (!a) return o.cancelScheduledValues.call(this, t);
    // Before the origin: nothing native is that old; what comes next replaces the past.
    if (t < a.origin) return o.cancelScheduledValues.call(this, 0);
    a.settle(this);
    return o.cancelScheduledValues.call(this, a.at(t));
  };
  proto.cancelAndHoldAtTime = function (this: AudioParam, t) {
    const a = active;
    if (!a) return o.cancelAndHoldAtTime.call(this, t);
    if (a.remember(this, t, (_, from) => ended(from, t))) return o.cancelScheduledValues.call(this, 0);
    return o.cancelAndHoldAtTime.call(this, a.at(t));
  };
  for (const Source of [AudioScheduledSourceNode, AudioBufferSourceNode]) {
    const sp = Source.prototype as unknown as { start?: (...a: number[]) => void; stop?: (t?: number) => void };
    if (Object.hasOwn(sp, 'start')) {
      const start = sp.start!;
      sp.start = function (this: AudioScheduledSourceNode, when = 0, ...rest: number[]) {
        return start.call(this, active ? active.at(when) : when, ...rest);
      };
    }
    if (Object.hasOwn(sp, 'stop')) {
      const stop = sp.stop!;
      sp.stop = function (this: AudioScheduledSourceNode, when = 0) {
        return stop.call(this, active ? active.at(when) : when);
      };
    }
  }
}
