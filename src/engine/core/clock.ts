/**
 * One clock for everything that runs on time beside the audio: MIDI out and
 * clock out, OSC out, DMX frames, meters, paced sources. It converts between
 * wall time (a monotonic millisecond clock: performance.now()) and audio time
 * (the context's currentTime, seconds), and schedules callbacks on either:
 * `at(audioTime, fn)` for an instant the audio will reach, `every(seconds, fn)`
 * for a period. All of them share one timer, armed for the earliest due.
 *
 * Pure: the wall clock and the timer come from a {@link ClockHost} (the Node
 * one is src/engine/node/clock.ts), the audio clock from an
 * {@link AudioTimeSource}; tests give fakes of both.
 *
 * Audio time as heard: the context's outputLatency (seconds between a sample
 * being rendered and leaving the device; 0 with no device) is added going to
 * wall time and taken off coming back, so MIDI, light and OSC sent "at" an
 * audio time go out when that sound is heard, not when it is rendered.
 */
import { Timebase } from './timebase.ts';

/** The audio clock: an AudioContext (or a Tone context), or anything with its currentTime. */
export interface AudioTimeSource {
  readonly currentTime: number;
  /** Seconds from rendering to the output (AudioContext.outputLatency), when known. */
  readonly outputLatency?: number;
}

/** What the clock needs from its platform. */
export interface ClockHost {
  /** Monotonic wall time, ms (performance.now()). */
  wallMs(): number;
  /** Unix epoch ms at wall time 0 (performance.timeOrigin). */
  readonly epochOriginMs: number;
  setTimer(fn: () => void, ms: number): unknown;
  clearTimer(handle: unknown): void;
}

/** Something scheduled: dispose() cancels it (safe to call more than once, and after it ran). */
export interface Disposable {
  dispose(): void;
}

export interface ClockOptions {
  /** Called with what a callback threw (it is counted, and the other callbacks run on). */
  onError?: (error: unknown) => void;
}

/**
 * How early a callback may run, ms. A timer in Node fires on a millisecond
 * loop clock and can come a fraction of a millisecond before the instant it
 * was set for; re-arming for that fraction would cost a turn of the loop and
 * make it late by a millisecond instead.
 */
const SLACK_MS = 0.5;

interface Entry {
  /** `at`: audio seconds; `every`: wall ms. */
  due: number;
  /** `every`: period, ms. */
  period?: number;
  seq: number;
  fn: (now: number) => void;
  live: boolean;
}

const inert: Disposable = { dispose: () => undefined };

/** The clock service; see the module comment. */
export class Clock {
  readonly stats = { fired: 0, errors: 0, lastError: '' };
  private readonly timebase = new Timebase();
  /** `at` entries by audio time, `every` entries by wall time: an offset change moves the one against the other. */
  private readonly atQueue: Entry[] = [];
  private readonly everyQueue: Entry[] = [];
  private seq = 0;
  private timer: unknown;
  private armedFor = Infinity;
  private disposed = false;

  /** @param audio the audio clock; none: audio time is wall time in seconds (sources with no engine). */
  constructor(
    private readonly host: ClockHost,
    private readonly audio?: AudioTimeSource,
    private readonly opts: ClockOptions = {},
  ) {}

  /** Wall time, ms. */
  wallMs(): number {
    return this.host.wallMs();
  }

  /** Audio time now (the context's currentTime), seconds. Each reading also refines the wall ↔ audio mapping. */
  now(): number {
    const wall = this.host.wallMs();
    if (!this.audio) return wall / 1000;
    const t = this.audio.currentTime;
    this.timebase.observe(t, wall / 1000);
    return t;
  }

  /** The audio time being heard now (now() less the output latency, read between render quanta). */
  heard(): number {
    return this.toAudio(this.host.wallMs());
  }

  /** Seconds from rendering to hearing (the context's outputLatency; 0 when unknown). */
  get latency(): number {
    const l = this.audio?.outputLatency;
    return typeof l === 'number' && Number.isFinite(l) && l > 0 ? l : 0;
  }

  /** The wall instant (ms) at which audio scheduled at `audioTime` is heard. */
  toWall(audioTime: number): number {
    if (!this.audio) return audioTime * 1000;
    this.now();
    return (this.timebase.toWall(audioTime) + this.latency) * 1000;
  }

  /** The audio time heard at wall instant `wallMs` (an event stamped then lines up with the sound heard then). */
  toAudio(wallMs: number): number {
    if (!this.audio) return wallMs / 1000;
    this.now();
    return this.timebase.toEngine(wallMs / 1000) - this.latency;
  }

  /** The latest audio time due now: what a callback run by {@link at} takes (it may run up to a fraction of a millisecond early). */
  dueUntil(): number {
    return this.toAudio(this.host.wallMs() + SLACK_MS);
  }

  /** Unix epoch seconds at which `audioTime` is heard (OSC timetags). */
  toEpoch(audioTime: number): number {
    return (this.host.epochOriginMs + this.toWall(audioTime)) / 1000;
  }

  /** The audio time heard at Unix epoch seconds `epoch`. */
  fromEpoch(epoch: number): number {
    return this.toAudio(epoch * 1000 - this.host.epochOriginMs);
  }

  /** Runs `fn` when audio time `audioTime` is heard (at once, on the next timer turn, if it has passed). */
  at(audioTime: number, fn: (now: number) => void): Disposable {
    if (this.disposed || Number.isNaN(audioTime)) return inert;
    return this.add(this.atQueue, { due: audioTime, seq: this.seq++, fn, live: true });
  }

  /**
   * Runs `fn` every `periodSeconds` of wall time, the first time one period
   * from now. On a grid: a late run does not push the next ones later, and
   * periods missed altogether (the process stalled) are skipped, not caught up.
   */
  every(periodSeconds: number, fn: (now: number) => void): Disposable {
    if (!(periodSeconds > 0)) throw new RangeError(`Clock.every: the period must be above 0 seconds, got ${periodSeconds}`);
    if (this.disposed) return inert;
    const period = periodSeconds * 1000;
    return this.add(this.everyQueue, { due: this.host.wallMs() + period, period, seq: this.seq++, fn, live: true });
  }

  /** How many callbacks are waiting. */
  get pending(): number {
    return this.atQueue.length + this.everyQueue.length;
  }

  /** Cancels everything and lets the timer go; later at/every schedule nothing. */
  dispose(): void {
    this.disposed = true;
    for (const e of [...this.atQueue, ...this.everyQueue]) e.live = false;
    this.atQueue.length = this.everyQueue.length = 0;
    this.disarm();
  }

  private add(queue: Entry[], entry: Entry): Disposable {
    insert(queue, entry);
    this.arm();
    return {
      dispose: () => {
        if (!entry.live) return;
        entry.live = false;
        const i = queue.indexOf(entry);
        if (i >= 0) queue.splice(i, 1);
        if (this.pending === 0) this.disarm();
      },
    };
  }

  /** Wall ms at which the earliest entry is due. */
  private nextDue(): number {
    const a = this.atQueue[0];
    const e = this.everyQueue[0];
    return Math.min(a ? this.toWall(a.due) : Infinity, e ? e.due : Infinity);
  }

  private arm(): void {
    if (this.disposed) return;
    const due = this.nextDue();
    if (due === Infinity) return this.disarm();
    if (this.timer !== undefined && this.armedFor <= due) return;
    this.disarm();
    this.armedFor = due;
    this.timer = this.host.setTimer(() => this.fire(), Math.max(0, due - this.host.wallMs()));
  }

  private disarm(): void {
    if (this.timer !== undefined) this.host.clearTimer(this.timer);
    this.timer = undefined;
    this.armedFor = Infinity;
  }

  private fire(): void {
    this.timer = undefined;
    this.armedFor = Infinity;
    // One at a time, each checked against the clock as it is then: a callback
    // may schedule, cancel, take long or dispose the clock.
    for (;;) {
      if (this.disposed) return;
      const limit = this.host.wallMs() + SLACK_MS;
      const a = this.atQueue[0];
      const e = this.everyQueue[0];
      const aDue = a ? this.toWall(a.due) : Infinity;
      const eDue = e ? e.due : Infinity;
      if (Math.min(aDue, eDue) > limit) break;
      // the earlier of the two heads; an `at` first on a tie
      const entry = aDue <= eDue ? this.atQueue.shift()! : this.everyQueue.shift()!;
      if (entry.period === undefined) entry.live = false;
      this.run(entry);
      if (entry.period !== undefined && entry.live && !this.disposed) {
        // the next slot of the grid after now (now as it is after the callback, which may have taken long)
        const wall = this.host.wallMs();
        entry.due += entry.period;
        if (entry.due <= wall) entry.due += Math.floor((wall - entry.due) / entry.period + 1) * entry.period;
        insert(this.everyQueue, entry);
      }
    }
    this.arm();
  }

  private run(entry: Entry): void {
    this.stats.fired++;
    try {
      entry.fn(this.now());
    } catch (e) {
      this.stats.errors++;
      this.stats.lastError = (e as Error)?.message ?? String(e);
      try {
        this.opts.onError?.(e);
      } catch {
        // a reporter that throws must not stop the clock
      }
    }
  }
}

/** Inserts after every entry due at the same time or earlier (first scheduled, first run). */
function insert(queue: Entry[], entry: Entry): void {
  let lo = 0;
  let hi = queue.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (queue[mid]!.due <= entry.due) lo = mid + 1;
    else hi = mid;
  }
  queue.splice(lo, 0, entry);
}
