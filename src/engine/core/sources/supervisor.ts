/**
 * What a stream plays when its feed goes quiet, and how it comes back.
 *
 * Live samples pass straight through. When nothing has arrived for `after`
 * seconds, the stream follows its patch policy:
 * - `hold`: keep the last value (nothing is sent);
 * - `default`: glide to the stream's default over `glide` seconds;
 * - `replay`: play the last recorded hours of the feed (kept in memory and on
 *   disk) at their own pace, looping, with data times moving forward so
 *   auto-range windows keep working; with no history it holds.
 * When live data returns after an outage, the stream glides from where it was
 * to the live value over `glide` seconds instead of jumping.
 * Pure: the caller ticks it with the wall clock (seconds) and sends what it emits.
 */

export interface StalePolicy {
  /** Seconds without data after which the stream is stale. */
  after: number;
  then: 'hold' | 'default' | 'replay';
  /** Seconds to glide to the default, and back to live data on recovery. */
  glide: number;
  /** The stream's default raw value. */
  default: number;
  /** Seconds of history kept for replay. */
  history: number;
}

export type SupervisorMode = 'live' | 'stale' | 'fallback' | 'recovering';

interface Point {
  value: number;
  dataTime: number;
}

/** Most points kept for replay, whatever the history length. */
const MAX_HISTORY_POINTS = 50_000;

export class StreamSupervisor {
  mode: SupervisorMode = 'live';
  /** The last value sent on (raw units), if any. */
  current: number | undefined;
  private lastLive = -Infinity;
  private lastDataTime = NaN;
  /** Recent live points; those before `head` have expired (dropped in batches, not per sample). */
  private readonly history: Point[] = [];
  private head = 0;
  /** The history being replayed, copied once when an outage starts. */
  private replay: Point[] = [];
  private glideFrom = 0;
  private glideTo = 0;
  private glideStart = 0;
  private glideEnd = 0;
  private gliding = false;
  private replayIndex = 0;
  private replayLoop = 0;
  private replayStart = 0;
  private replayShift = 0;

  constructor(
    readonly policy: StalePolicy,
    private readonly emit: (value: number, dataTime: number) => void,
    now: number,
  ) {
    this.lastLive = now;
  }

  /** Seeds history (e.g. from the on-disk cache after a restart), oldest first. */
  seed(points: Array<{ value: number; dataTime: number }>): void {
    for (const p of points) this.remember(p.value, p.dataTime);
  }

  private remember(value: number, dataTime: number): void {
    const h = this.history;
    const last = h[h.length - 1];
    if (last && dataTime <= last.dataTime) return;
    h.push({ value, dataTime });
    const horizon = dataTime - this.policy.history;
    while (this.head < h.length - 1 && h[this.head]!.dataTime < horizon) this.head++;
    if (h.length - this.head > MAX_HISTORY_POINTS) this.head = h.length - MAX_HISTORY_POINTS;
    if (this.head > 1024 && this.head * 2 > h.length) {
      h.splice(0, this.head);
      this.head = 0;
    }
    this.lastDataTime = dataTime;
  }

  /** Sends a value remembered from before a restart, without counting it as live. */
  restore(value: number, dataTime: number): void {
    this.send(value, dataTime);
  }

  /** Points available for replay. */
  get historyLength(): number {
    return this.history.length - this.head;
  }

  /** A live, accepted numeric sample. Returns true when it went straight through. */
  live(value: number, dataTime: number, now: number): boolean {
    this.remember(value, dataTime);
    this.lastLive = now;
    if (this.mode === 'live' || (this.mode === 'stale' && this.policy.then === 'hold' && !this.gliding) || this.current === undefined) {
      this.mode = 'live';
      this.send(value, dataTime);
      return true;
    }
    // Back from an outage: glide from where the stream is to the live value.
    // Values arriving during the glide move its target, not its schedule.
    if (this.mode === 'recovering' && this.gliding) this.glideTo = value;
    else {
      this.mode = 'recovering';
      this.startGlide(this.current, value, now);
    }
    return false;
  }

  /** Advances the clock; emits glides and replayed values that are due. */
  tick(now: number): void {
    if ((this.mode === 'live' || this.mode === 'recovering') && now - this.lastLive > this.policy.after) this.goStale(now);
    if (this.gliding) {
      const done = now >= this.glideEnd;
      const x = done ? 1 : (now - this.glideStart) / Math.max(1e-9, this.glideEnd - this.glideStart);
      if (x > 0) this.send(this.glideFrom + (this.glideTo - this.glideFrom) * x, this.nextDataTime(now));
      if (done) {
        this.gliding = false;
        if (this.mode === 'recovering') this.mode = 'live';
      }
    }
    if (this.mode === 'fallback') this.replayDue(now);
  }

  private goStale(now: number): void {
    this.gliding = false;
    if (this.policy.then === 'replay' && this.historyLength >= 2) {
      this.mode = 'fallback';
      const h = (this.replay = this.history.slice(this.head));
      const first = h[0]!.dataTime;
      const last = h[h.length - 1]!.dataTime;
      const step = (last - first) / (h.length - 1);
      this.replayIndex = 0;
      this.replayLoop = 0;
      this.replayStart = now;
      // Replayed data times continue after the last live one.
      this.replayShift = last + step - first;
      if (this.current !== undefined) this.startGlide(this.current, h[0]!.value, now);
      return;
    }
    this.mode = 'stale';
    if (this.policy.then === 'default' && this.current !== undefined) this.startGlide(this.current, this.policy.default, now);
  }

  private replayDue(now: number): void {
    const h = this.replay;
    const first = h[0]!.dataTime;
    const span = h[h.length - 1]!.dataTime - first + (h[h.length - 1]!.dataTime - first) / (h.length - 1);
    for (let guard = 0; guard < 10_000; guard++) {
      const p = h[this.replayIndex]!;
      const due = this.replayStart + this.replayLoop * span + (p.dataTime - first);
      if (due > now) return;
      if (!this.gliding) this.send(p.value, p.dataTime + this.replayShift + this.replayLoop * span);
      if (++this.replayIndex >= h.length) {
        this.replayIndex = 0;
        this.replayLoop++;
      }
    }
  }

  private startGlide(from: number, to: number, now: number): void {
    this.glideFrom = from;
    this.glideTo = to;
    this.glideStart = now;
    this.glideEnd = now + this.policy.glide;
    this.gliding = true;
    if (this.policy.glide <= 0) this.tick(now);
  }

  private nextDataTime(now: number): number {
    // Glide points carry data times just after the last one sent, so they are
    // never out of order for the conditioning windows.
    return Number.isFinite(this.lastDataTime) ? this.lastDataTime + 1e-3 : now;
  }

  private send(value: number, dataTime: number): void {
    if (!Number.isFinite(value)) return;
    this.current = value;
    if (Number.isFinite(dataTime) && dataTime > this.lastDataTime) this.lastDataTime = dataTime;
    this.emit(value, dataTime);
  }
}
