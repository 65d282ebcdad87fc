/**
 * The decisions of an installation's supervisor (`ecosym run`) on top of the
 * session's {@link RestartPolicy}: which patch to start after a failure (a
 * patch in a crash loop is skipped for a while: the next playlist entry, or
 * the show's fallback when every entry is skipped), how soon to retry an
 * audio device that went away (short, capped retries: a USB interface plugged
 * back must sound at once), and the silence watch (output below the floor
 * while the show should sound: re-arm first, then restart). Pure: times are
 * seconds on the caller's clock.
 */
import { RestartPolicy, type FaultCause, type RestartPolicyOptions } from './restartPolicy.ts';

/** A fault as the supervisor sees it: the session's causes, plus the audio device gone. */
export type InstallFault = FaultCause | 'device';

export interface InstallPolicyOptions {
  restart?: RestartPolicyOptions;
  /** First and longest delay between retries of a missing audio device, seconds (default 0.5 and 2). */
  device?: { initial: number; max: number };
  /** Seconds a patch in a crash loop is skipped before it gets another chance (default 3600). */
  skipFor?: number;
}

/** After a failure: wait `delay` seconds, then start `patch`. */
export interface InstallDecision {
  delay: number;
  patch: string;
  /** The failing patch is in a crash loop and is skipped for a while. */
  skipped: boolean;
  /** The patch is the fallback because every entry is skipped. */
  fallback: boolean;
  attempt: number;
}

export class InstallPolicy {
  readonly restart: RestartPolicy;
  private readonly device: { initial: number; max: number };
  private readonly skipFor: number;
  private deviceInARow = 0;
  /** Patch → until when it is skipped. */
  private readonly skipped = new Map<string, number>();
  /** Failures by cause (the device's too). */
  readonly counts: Record<InstallFault, number> = { exit: 0, crash: 0, hang: 0, start: 0, silence: 0, device: 0 };

  constructor(opts: InstallPolicyOptions = {}) {
    this.restart = new RestartPolicy(opts.restart);
    this.device = opts.device ?? { initial: 0.5, max: 2 };
    this.skipFor = opts.skipFor ?? 3600;
    if (!(this.device.initial > 0 && this.device.max >= this.device.initial)) throw new Error(`install policy: need 0 < device.initial ≤ device.max (got ${this.device.initial}, ${this.device.max})`);
  }

  /** The session (re)started and plays at `now`. */
  started(now: number): void {
    this.restart.started(now);
    this.deviceInARow = 0;
  }

  /** Skips `patch` from `now` for `skipFor` seconds (a crash loop seen by the caller). */
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
   * The session playing `patch` failed. A missing device is retried soon and
   * never blamed on the patch; any other fault goes through the restart
   * policy's backoff, and a crash loop marks the patch skipped.
   */
  failed(now: number, patch: string, cause: InstallFault, candidates: readonly string[], fallback?: string): InstallDecision {
    this.counts[cause]++;
    if (cause === 'device') {
      this.deviceInARow++;
      const delay = Math.min(this.device.max, this.device.initial * 2 ** (this.deviceInARow - 1));
      return { delay, patch, skipped: false, fallback: false, attempt: this.deviceInARow };
    }
    const d = this.restart.failed(now, patch, cause);
    if (d.crashLoop && patch !== fallback) this.skip(now, patch);
    const next = this.choose(now, candidates.includes(patch) || patch === fallback ? candidates : [patch, ...candidates], fallback);
    return { delay: d.delay, patch: next.patch, skipped: d.crashLoop && patch !== fallback, fallback: next.fallback, attempt: d.attempt };
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
 * The installation's timings, chosen so a fault is answered within 3 s: a kill
 * is restarted at once (a second fault in a row after 0.25 s, then doubling), a hang is seen after 1.5 s without a heartbeat
 * (heartbeats come every 250 ms), a missing device is retried at most every
 * second, and a re-arm that did not bring the sound back is followed by a
 * restart after 0.5 s. The 30-day soak test (node/install/soak.test.ts) checks
 * the plan; `npm run bench -- --install` measures the real restart-to-sound.
 */
export const INSTALL_TIMINGS = {
  restart: { first: 0, initial: 0.25, factor: 2, max: 30, healthyAfter: 30, crashLoop: { count: 3, within: 60 } },
  hangAfter: 1.5,
  device: { initial: 0.25, max: 1 },
  rearmGrace: 0.5,
  skipFor: 3600,
} as const;

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
