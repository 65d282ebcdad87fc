/**
 * The one decision model of a supervisor: what to do when its session
 * process fails. {@link SupervisedSession} (src/engine/node/session/supervised.ts)
 * runs it for `ecosym run` and the desktop app's audio host alike, and the
 * 30-day soak test (src/engine/node/install/soak.test.ts) drives the same
 * object with the same {@link INSTALL_TIMINGS}. It owns the choice of patch;
 * the {@link RestartPolicy} it holds owns the timing:
 *
 * - **when** (RestartPolicy): the backoff series for every cause, a missing
 *   audio device's retries capped at `deviceMax` and never a crash loop;
 * - **what** (here): a patch in a crash loop is skipped for `skipFor`
 *   seconds: the next of the caller's candidates (an installation's playlist
 *   from its current entry on) that is not skipped, else the fallback, else
 *   the failing patch again: never nothing. Any other failure restarts the
 *   patch that failed.
 *
 * Pure: times are seconds on the caller's clock; patches are the caller's keys.
 */
import { RestartPolicy, type FaultCause, type RestartPolicyOptions } from './restartPolicy.ts';

export interface InstallPolicyOptions {
  restart?: RestartPolicyOptions;
  /** Seconds a patch in a crash loop is skipped before it gets another chance (default 3600). */
  skipFor?: number;
}

/** After a failure: wait `delay` seconds, then start `patch`. */
export interface InstallDecision {
  delay: number;
  patch: string;
  /** The failing patch is in a crash loop and is skipped for a while. */
  skipped: boolean;
  /** The patch is the fallback because every candidate is skipped. */
  fallback: boolean;
  /** Failures in a row so far (the restart policy's). */
  attempt: number;
  /** Failures of the failing patch within the crash-loop window, this one included (the restart policy's). */
  failures: number;
}

export class InstallPolicy {
  readonly restart: RestartPolicy;
  private readonly skipFor: number;
  /** Patch → until when it is skipped. */
  private readonly skipped = new Map<string, number>();

  constructor(opts: InstallPolicyOptions = {}) {
    this.restart = new RestartPolicy(opts.restart);
    this.skipFor = opts.skipFor ?? 3600;
    if (!(this.skipFor >= 0)) throw new Error(`install policy: need skipFor ≥ 0 seconds (got ${this.skipFor})`);
  }

  /** Failures by cause since the policy was made. */
  get counts(): Readonly<Record<FaultCause, number>> {
    return this.restart.counts;
  }

  /** The session (re)started and plays at `now`. */
  started(now: number): void {
    this.restart.started(now);
  }

  /** Skips `patch` from `now` for `skipFor` seconds (also: skips read back from a state file). */
  skip(now: number, patch: string): void {
    this.skipped.set(patch, now + this.skipFor);
  }

  /** The patches skipped at `now`, with until when. */
  skippedAt(now: number): Array<[string, number]> {
    return [...this.skipped].filter(([p]) => this.isSkipped(now, p));
  }

  /** Whether `patch` is being skipped at `now`. */
  isSkipped(now: number, patch: string): boolean {
    const until = this.skipped.get(patch);
    if (until === undefined) return false;
    if (now >= until) {
      this.skipped.delete(patch);
      return false;
    }
    return true;
  }

  /**
   * The patch to play: the first of `candidates` (the playlist from the current
   * entry on) not skipped; else the fallback; else (no fallback) the first
   * candidate again: never nothing.
   */
  choose(now: number, candidates: readonly string[], fallback?: string): { patch: string; fallback: boolean } {
    for (const c of candidates) if (!this.isSkipped(now, c)) return { patch: c, fallback: false };
    if (fallback !== undefined) return { patch: fallback, fallback: true };
    return { patch: candidates[0]!, fallback: false };
  }

  /**
   * The session playing `patch` failed with `cause`: when to start again
   * (the restart policy's delay) and which patch. `candidates` defaults to
   * the failing patch alone.
   */
  failed(now: number, patch: string, cause: FaultCause, candidates: readonly string[] = [patch], fallback?: string): InstallDecision {
    const d = this.restart.failed(now, patch, cause);
    const skipped = d.crashLoop && patch !== fallback;
    if (skipped) this.skip(now, patch);
    // Not in a crash loop (and not skipped since): the same patch again.
    if (!this.isSkipped(now, patch)) return { delay: d.delay, patch, skipped: false, fallback: patch === fallback && !candidates.includes(patch), attempt: d.attempt, failures: d.failures };
    const next = this.choose(now, candidates.includes(patch) ? candidates : [patch, ...candidates], fallback);
    return { delay: d.delay, patch: next.patch, skipped, fallback: next.fallback, attempt: d.attempt, failures: d.failures };
  }
}

/** What the silence watch says after a level sample. */
export type SilenceVerdict = 'ok' | 'rearm' | 'restart';

/**
 * Output below `floorDb` for longer than the entry allows while the show
 * should sound: first `rearm` (the supervisor reloads the patch in the running
 * session), and if it is still silent `rearmGrace` seconds later, `restart`.
 * Silence while the show should not sound (off, muted, fading) is not counted.
 */
export class SilenceWatch {
  private silentSince: number | undefined;
  private rearmedAt: number | undefined;
  /** Seconds of silence beyond what entries allow, while the show should sound. */
  unplannedSeconds = 0;
  private lastAt: number | undefined;
  /** Re-arms and restarts asked. */
  rearms = 0;
  restarts = 0;

  constructor(
    readonly floorDb = -60,
    readonly rearmGrace = 5,
  ) {}

  /** A new session started: the watch starts over. */
  reset(): void {
    this.silentSince = undefined;
    this.rearmedAt = undefined;
    this.lastAt = undefined;
  }

  sample(now: number, rmsDb: number, shouldSound: boolean, allowed: number): SilenceVerdict {
    const dt = this.lastAt === undefined ? 0 : Math.max(0, now - this.lastAt);
    this.lastAt = now;
    if (!shouldSound || rmsDb >= this.floorDb) {
      this.silentSince = undefined;
      this.rearmedAt = undefined;
      return 'ok';
    }
    this.silentSince ??= now;
    if (now - this.silentSince > allowed) this.unplannedSeconds += Math.min(dt, now - this.silentSince - allowed);
    if (this.rearmedAt !== undefined) {
      if (now - this.rearmedAt < this.rearmGrace) return 'ok';
      this.rearmedAt = undefined;
      this.silentSince = now;
      this.restarts++;
      return 'restart';
    }
    if (now - this.silentSince >= allowed) {
      this.rearmedAt = now;
      this.rearms++;
      return 'rearm';
    }
    return 'ok';
  }
}

/**
 * The installation's timings, chosen so a fault is answered within 3 s of
 * being detectable: a kill is restarted at once (a second fault in a row
 * after 0.25 s, then doubling), a missing device is retried at most every
 * second, and a re-arm that did not bring the sound back is followed by a
 * restart after 0.5 s. A hang is a heartbeat (every 250 ms) missing for
 * `hangAfter` = 5 s: a starved 2-core machine was seen to delay one by
 * 1.6 s, and a false hang restarts a playing show (worse than a late
 * detection); a session that plays but stops sounding is the silence
 * watch's, not a hang. The 30-day soak test (node/install/soak.test.ts)
 * checks the plan; `npm run bench -- --install` measures the real restart-to-sound.
 */
export const INSTALL_TIMINGS = {
  restart: { first: 0, initial: 0.25, factor: 2, max: 30, healthyAfter: 30, crashLoop: { count: 3, within: 60 }, deviceMax: 1 },
  hangAfter: 5,
  rearmGrace: 0.5,
  skipFor: 3600,
} as const;

/** The decisions of `ecosym run`, with {@link INSTALL_TIMINGS}: the object the soak test drives too. */
export function installPolicy(): InstallPolicy {
  return new InstallPolicy({ restart: INSTALL_TIMINGS.restart, skipFor: INSTALL_TIMINGS.skipFor });
}

/**
 * The schedule's level cap, followed: {@link LevelCapFollower.want} says the
 * cap to send to the session when the plan's cap changed (quiet hours began or
 * ended), never above the show's maxLevel; {@link LevelCapFollower.sent}
 * records that the session took it (a failed send is asked again next time).
 */
export class LevelCapFollower {
  private current: number | undefined;

  constructor(readonly maxLevel: number) {}

  /** The cap to send for the plan's `levelCap`, or undefined when the session already has it. */
  want(planCap: number): number | undefined {
    const cap = Math.min(planCap, this.maxLevel);
    return cap === this.current ? undefined : cap;
  }

  /** The session took `cap`. */
  sent(cap: number): void {
    this.current = cap;
  }

  /** The cap the session has (undefined before the first send). */
  get cap(): number | undefined {
    return this.current;
  }
}
