/**
 * When to restart a session's process, and when a patch has failed too often
 * to try again: the timing half of a supervisor's decisions (the desktop app's
 * audio host, `ecosym run`), driven by the caller's clock (seconds, any
 * origin). Supervisors do not call it directly: `InstallPolicy`
 * (installPolicy.ts) holds one and adds which patch to play after a crash loop.
 *
 * - **Backoff that never gives up**: the first restart after `initial`
 *   seconds (or `first`, 0 for at once), each failure in a row doubling it up to `max`. A process that
 *   stayed up `healthyAfter` seconds before failing starts the series over, so
 *   a kill every few hours is always answered at once.
 * - **Crash loops per patch**: `crashLoop.count` failures of the same patch
 *   within `crashLoop.within` seconds say that patch cannot run here; the
 *   caller moves on (the next patch of a playlist, a safe fallback) and the
 *   patch's count starts over.
 * - **No audio device** (`device`): retried at least every `deviceMax`
 *   seconds and never a crash loop: a device that comes back is used at once.
 * - **Hangs**: a process whose heartbeat has not arrived for `hangAfter`
 *   seconds is hung ({@link HeartbeatWatch}); the caller kills it and it
 *   counts as a failure like any other.
 */
export interface RestartPolicyOptions {
  /** Seconds before the first restart of a series (default 0.5). */
  initial?: number;
  /** Seconds before the very first restart of a series when it differs from `initial` (0: at once; the second waits `initial`). */
  first?: number;
  /** Each failure in a row multiplies the delay by this (default 2). */
  factor?: number;
  /** Longest delay, seconds (default 30). */
  max?: number;
  /** Seconds up after which a failure starts the series over (default 30). */
  healthyAfter?: number;
  /** Failures of one patch within a window that make a crash loop (default 3 in 60 s). */
  crashLoop?: { count: number; within: number };
  /** Longest delay between retries of a missing audio device, seconds (default 1): it may come back any moment. */
  deviceMax?: number;
}

/** Why a session process went away. */
export type FaultCause = 'exit' | 'crash' | 'hang' | 'start' | 'silence' | 'device';

/** What the caller should do after a failure. */
export interface RestartDecision {
  /** Seconds to wait before starting again. */
  delay: number;
  /** Failures in a row so far (1 for the first of a series). */
  attempt: number;
  /** True when this patch is in a crash loop: start something else. */
  crashLoop: boolean;
  /** Failures of this patch within the crash-loop window, this one included (0 for a missing device: never the patch's). */
  failures: number;
}

const DEFAULTS: Required<Omit<RestartPolicyOptions, 'first'>> = { initial: 0.5, factor: 2, max: 30, healthyAfter: 30, crashLoop: { count: 3, within: 60 }, deviceMax: 1 };

export class RestartPolicy {
  private readonly o: Required<Omit<RestartPolicyOptions, 'first'>> & { first?: number };
  private inARow = 0;
  private startedAt: number | undefined;
  /** Failure times per patch, within the crash-loop window. */
  private readonly failures = new Map<string, number[]>();
  /** Failures by cause, since the policy was made. */
  readonly counts: Record<FaultCause, number> = { exit: 0, crash: 0, hang: 0, start: 0, silence: 0, device: 0 };
  /** Every failure, since the policy was made. */
  total = 0;

  constructor(opts: RestartPolicyOptions = {}) {
    this.o = { ...DEFAULTS, ...opts };
    if (this.o.first !== undefined && !(this.o.first >= 0 && this.o.first <= this.o.initial)) throw new Error(`restart policy: need 0 ≤ first ≤ initial (got ${this.o.first}, ${this.o.initial})`);
    if (!(this.o.initial > 0) || !(this.o.factor >= 1) || !(this.o.max >= this.o.initial)) throw new Error(`restart policy: need initial > 0, factor ≥ 1 and max ≥ initial (got ${this.o.initial}, ${this.o.factor}, ${this.o.max})`);
  }

  /** The process (re)started at `now`. */
  started(now: number): void {
    this.startedAt = now;
  }

  /** The process playing `patch` failed at `now`. */
  failed(now: number, patch: string, cause: FaultCause): RestartDecision {
    this.total++;
    this.counts[cause]++;
    if (this.startedAt !== undefined && now - this.startedAt >= this.o.healthyAfter) this.inARow = 0;
    this.startedAt = undefined;
    this.inARow++;
    // With `first`, the series is first, initial, initial × factor…; without, initial, initial × factor…
    const shift = this.o.first === undefined ? 1 : 2;
    const delay = this.inARow === 1 && this.o.first !== undefined ? this.o.first : Math.min(this.o.max, this.o.initial * this.o.factor ** (this.inARow - shift));
    // No device is not the patch's fault: no crash loop, and retried at least every deviceMax seconds.
    if (cause === 'device') return { delay: Math.min(delay, this.o.deviceMax), attempt: this.inARow, crashLoop: false, failures: 0 };
    const { count, within } = this.o.crashLoop;
    const times = (this.failures.get(patch) ?? []).filter((t) => now - t < within);
    times.push(now);
    const crashLoop = times.length >= count;
    if (crashLoop) this.failures.delete(patch);
    else this.failures.set(patch, times);
    return { delay, attempt: this.inARow, crashLoop, failures: times.length };
  }

  /** Failures in a row now (0 once a process ran healthy and has not failed since… until its next failure). */
  get attempt(): number {
    return this.inARow;
  }
}

/**
 * Watches a heartbeat: hung when none has come for `hangAfter` seconds since
 * the last one (or since {@link reset}, the process start).
 */
export class HeartbeatWatch {
  private last: number;
  /** Beats seen since the last reset. */
  beats = 0;

  constructor(
    readonly hangAfter: number,
    now: number,
  ) {
    if (!(hangAfter > 0)) throw new Error(`heartbeat watch: hangAfter must be > 0 seconds (got ${hangAfter})`);
    this.last = now;
  }

  /** A new process: the wait starts now. */
  reset(now: number): void {
    this.last = now;
    this.beats = 0;
  }

  beat(now: number): void {
    this.last = Math.max(this.last, now);
    this.beats++;
  }

  /** Seconds since the last beat. */
  silentFor(now: number): number {
    return Math.max(0, now - this.last);
  }

  hung(now: number): boolean {
    return this.silentFor(now) >= this.hangAfter;
  }
}
