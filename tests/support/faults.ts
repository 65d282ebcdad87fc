/**
 * Faults injected through real APIs, for tests of what the code does when a
 * part it does not own misbehaves.
 */

/** A fault put in place, with what it did. */
export interface Fault {
  /** Puts the real methods back. */
  restore(): void;
  /** Offline renders started (startRendering calls) while it was in place. */
  readonly renders: number;
  /** Suspend points it made node-web-audio-api refuse. */
  readonly refused: number;
}

/**
 * Makes node-web-audio-api refuse offline suspend points, as it does when one is
 * registered late: the first `times` points asked for in [from, to) seconds are
 * registered only once rendering has begun, which it refuses. Counts renders
 * started, so a test sees a render start over that its caller does not.
 */
export function refuseSuspendPoints(from: number, to: number, times: number): Fault {
  const proto = OfflineAudioContext.prototype as unknown as {
    suspend(t: number): Promise<void>;
    startRendering(): Promise<AudioBuffer>;
  };
  const { suspend, startRendering } = proto;
  let left = times;
  let late: Array<() => void> = [];
  let renders = 0;
  let refused = 0;
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
      return new Promise<void>((resolve, reject) =>
        late.push(() =>
          void suspend.call(this, t).then(resolve, (e: unknown) => {
            refused++;
            reject(e);
          }),
        ),
      );
    }
    return suspend.call(this, t).then(release);
  };
  proto.startRendering = function (this: unknown) {
    renders++;
    return startRendering.call(this);
  };
  return {
    restore: () => void Object.assign(proto, { suspend, startRendering }),
    get renders() {
      return renders;
    },
    get refused() {
      return refused;
    },
  };
}
