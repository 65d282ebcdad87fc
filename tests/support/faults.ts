/**
 * Faults injected through real APIs, for tests of what the code does when a
 * part it does not own misbehaves.
 */

/**
 * Makes node-web-audio-api refuse offline suspend points, as it does when one is
 * registered late: the first `times` points asked for in [from, to) seconds are
 * registered only once rendering has begun, which it refuses. Returns a function
 * that puts the real methods back.
 */
export function refuseSuspendPoints(from: number, to: number, times: number): () => void {
  const proto = OfflineAudioContext.prototype as unknown as {
    suspend(t: number): Promise<void>;
    startRendering(): Promise<AudioBuffer>;
  };
  const { suspend, startRendering } = proto;
  let left = times;
  let late: Array<() => void> = [];
  proto.suspend = function (this: unknown, t: number) {
    if (left > 0 && t >= from && t < to) {
      left--;
      return new Promise<void>((resolve, reject) => late.push(() => void suspend.call(this, t).then(resolve, reject)));
    }
    return suspend.call(this, t);
  };
  proto.startRendering = function (this: unknown) {
    const rendering = startRendering.call(this);
    const register = late;
    late = [];
    setTimeout(() => register.forEach((f) => f()), 0);
    return rendering;
  };
  return () => Object.assign(proto, { suspend, startRendering });
}
