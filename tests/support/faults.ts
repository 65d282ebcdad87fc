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
  };
  const { suspend } = proto;
  let left = times;
  let late: Array<() => void> = [];
  // Once a suspend point is reached, rendering has surely begun: then the held
  // points ask. (Right after startRendering() is not enough: under load its
  // native future may not have run yet, and a point asked for then is accepted.)
  const release = () => {
    const ask = late;
    late = [];
    for (const f of ask) f();
  };
  proto.suspend = function (this: unknown, t: number) {
    if (left > 0 && t >= from && t < to) {
      left--;
      return new Promise<void>((resolve, reject) => late.push(() => void suspend.call(this, t).then(resolve, reject)));
    }
    return suspend.call(this, t).then(release);
  };
  return () => Object.assign(proto, { suspend });
}
