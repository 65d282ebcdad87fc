/**
 * Engine time ↔ wall time, the estimate under the clock service
 * (src/engine/core/clock.ts): sending scheduled MIDI, OSC and light at the
 * right moment, and placing incoming events on the engine's clock. Pure: fed
 * pairs (engine time, wall time) read together.
 *
 * An AudioContext's currentTime moves in render quanta (2.67 ms at 48 kHz in
 * node-web-audio-api, measured) and lags the instant it is read by up to one
 * of them, so (engine − wall) read at random moments is a sawtooth under the
 * true offset: its maximum is the offset. The estimate follows new maxima at
 * once and sinks slowly (`drift` seconds per second: a context with no device
 * ran 0.998–1.002 times wall speed from one second to the next here, under
 * load); a reading far below (the audio clock stalled) starts it afresh.
 * (AudioContext.getOutputTimestamp() would give the pair directly; in
 * node-web-audio-api 2.2 it throws "not yet implemented".)
 */
export class Timebase {
  /** Engine seconds minus wall seconds. */
  private offset: number | undefined;
  private lastWall = 0;
  resets = 0;

  constructor(
    private readonly drift = 5e-3,
    private readonly stall = 0.05,
  ) {}

  /** Records a reading: `engine` (seconds) read at `wall` (seconds). */
  observe(engine: number, wall: number): void {
    if (!Number.isFinite(engine) || !Number.isFinite(wall)) return;
    const sample = engine - wall;
    if (this.offset === undefined) this.offset = sample;
    else {
      const sunk = this.offset - this.drift * Math.max(0, wall - this.lastWall);
      if (sample < sunk - this.stall) {
        this.offset = sample;
        this.resets++;
      } else this.offset = Math.max(sample, sunk);
    }
    this.lastWall = wall;
  }

  get ready(): boolean {
    return this.offset !== undefined;
  }

  /** Wall seconds at which engine time `t` comes. */
  toWall(t: number): number {
    return t - (this.offset ?? 0);
  }

  /** Engine time at wall seconds `w`. */
  toEngine(w: number): number {
    return w + (this.offset ?? 0);
  }
}
