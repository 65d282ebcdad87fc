/**
 * The life cycle and status record every source shares, whatever its kind:
 *
 *   connecting ─value─> live ─(no value for `staleAfter`)─> stale
 *        │               ^  ^                                 │
 *      error             │  └──────────value──────────────────┤
 *        v               │                                    v (policy: replay)
 *      failed ──value────┘                                fallback ─value─> live
 *
 * An error while live is counted but does not end "live": one HTTP 500 between
 * good polls is not an outage; silence longer than the stale limit is.
 *
 * The link is tracked apart from the data: `connection` is "connected" while a
 * socket or broker connection is up (or the last request was answered) and
 * "disconnected" from the moment it drops, so a dead broker shows at once,
 * while the state above (and the stale policy) still go by the data's age.
 * Pure: the caller passes the clock (wall seconds).
 */
import type { RejectReason } from './gate.ts';

export type SourceState = 'connecting' | 'live' | 'stale' | 'failed' | 'fallback';

/** The link to a network feed, apart from its data (undefined until the source first reports it). */
export type ConnectionState = 'connected' | 'disconnected';

/** What `ecosym sources`, the app and tests read about a source. */
export interface SourceStatus {
  stream: string;
  uri: string;
  state: SourceState;
  /** Wall time (epoch s) the state began. */
  since: number;
  /** The link, for sources that report it (network feeds); undefined for files and simulations. */
  connection?: ConnectionState;
  /** Wall time (epoch s) the connection state began. */
  connectionSince?: number;
  lastValue?: number | string;
  /** Wall time (epoch s) of the last accepted value. */
  lastTime?: number;
  /** Data time (epoch s) of the last accepted value. */
  lastDataTime?: number;
  /** Accepted values per second over the last 10 s. */
  rate: number;
  received: number;
  accepted: number;
  rejected: Partial<Record<RejectReason, number>>;
  errors: number;
  lastError?: string;
}

export interface Transition {
  from: SourceState;
  to: SourceState;
  at: number;
  reason?: string;
}

/** A change of the link (see {@link ConnectionState}). */
export interface ConnectionChange {
  from: ConnectionState | undefined;
  to: ConnectionState;
  at: number;
  reason?: string;
}

const RATE_WINDOW = 10;
const MAX_TRANSITIONS = 100;

export class SourceHealth {
  state: SourceState = 'connecting';
  since: number;
  connection?: ConnectionState;
  connectionSince?: number;
  lastValue?: number | string;
  lastTime?: number;
  lastDataTime?: number;
  received = 0;
  accepted = 0;
  errors = 0;
  lastError?: string;
  readonly rejected: Partial<Record<RejectReason, number>> = {};
  /** The most recent state changes, oldest first (bounded). */
  readonly transitions: Transition[] = [];
  private readonly recent: number[] = [];
  private recentHead = 0;

  constructor(
    readonly stream: string,
    readonly uri: string,
    readonly staleAfter: number,
    now: number,
    private readonly onTransition?: (t: Transition) => void,
    private readonly onConnection?: (c: ConnectionChange) => void,
  ) {
    this.since = now;
  }

  private link(to: ConnectionState, now: number, reason?: string): void {
    if (to === this.connection) return;
    const c: ConnectionChange = { from: this.connection, to, at: now, reason };
    this.connection = to;
    this.connectionSince = now;
    this.onConnection?.(c);
  }

  /** The link came up (a connection opened, a request was answered). */
  connected(now: number): void {
    this.link('connected', now);
  }

  /** The link went down: shown at once; the data state is left to the stale limit. */
  disconnected(reason: unknown, now: number): void {
    this.link('disconnected', now, reason instanceof Error ? reason.message : String(reason));
  }

  private go(to: SourceState, now: number, reason?: string): void {
    if (to === this.state) return;
    const t: Transition = { from: this.state, to, at: now, reason };
    this.state = to;
    this.since = now;
    this.transitions.push(t);
    if (this.transitions.length > MAX_TRANSITIONS) this.transitions.shift();
    this.onTransition?.(t);
  }

  /** A (re)connection attempt began. */
  connecting(now: number): void {
    if (this.state === 'failed') this.go('connecting', now, 'retrying');
  }

  /** Something arrived (before validation). */
  receive(): void {
    this.received++;
  }

  /** A sample passed the gate. */
  value(v: number | string, dataTime: number, now: number): void {
    this.accepted++;
    this.lastValue = v;
    this.lastTime = now;
    this.lastDataTime = dataTime;
    this.recent.push(now);
    this.go('live', now);
  }

  /** A sample failed the gate. */
  reject(reason: RejectReason): void {
    this.rejected[reason] = (this.rejected[reason] ?? 0) + 1;
  }

  /** A connection, request or parse failed. */
  error(e: unknown, now: number): void {
    this.errors++;
    this.lastError = e instanceof Error ? e.message : String(e);
    if (this.state === 'connecting' || this.state === 'stale') this.go('failed', now, this.lastError);
  }

  /** The stale policy started or stopped replaying recorded data. */
  fallback(active: boolean, now: number): void {
    if (active && (this.state === 'stale' || this.state === 'failed' || this.state === 'connecting')) this.go('fallback', now, 'replaying recorded data');
    else if (!active && this.state === 'fallback') this.go('stale', now);
  }

  /** Advances the clock: a live source silent longer than the stale limit goes stale. */
  tick(now: number): void {
    if (this.state === 'live' && this.lastTime !== undefined && now - this.lastTime > this.staleAfter)
      this.go('stale', now, `no data for ${Math.round(now - this.lastTime)} s`);
  }

  /** Accepted values per second over the last 10 s. */
  rate(now: number): number {
    while (this.recentHead < this.recent.length && this.recent[this.recentHead]! < now - RATE_WINDOW) this.recentHead++;
    if (this.recentHead > 1000) {
      this.recent.splice(0, this.recentHead);
      this.recentHead = 0;
    }
    return (this.recent.length - this.recentHead) / RATE_WINDOW;
  }

  snapshot(now: number): SourceStatus {
    return {
      stream: this.stream,
      uri: this.uri,
      state: this.state,
      since: this.since,
      ...(this.connection ? { connection: this.connection, connectionSince: this.connectionSince } : {}),
      lastValue: this.lastValue,
      lastTime: this.lastTime,
      lastDataTime: this.lastDataTime,
      rate: this.rate(now),
      received: this.received,
      accepted: this.accepted,
      rejected: { ...this.rejected },
      errors: this.errors,
      lastError: this.lastError,
    };
  }
}

/**
 * Capped exponential backoff with full jitter: a delay drawn uniformly from
 * [base·2^attempt / 2, base·2^attempt], never above `max`. `random` in [0, 1).
 */
export function backoffDelay(attempt: number, base: number, max: number, random: number): number {
  const ceiling = Math.min(max, base * Math.pow(2, Math.max(0, Math.min(attempt, 30))));
  return ceiling / 2 + (ceiling / 2) * random;
}

interface Fold {
  stream: string;
  label: string;
  a: string;
  b: string;
  start: number;
  count: number;
  reason?: string;
}

/**
 * Keeps a flapping source from flooding the log. A change (of state, or of the
 * link) is printed; the same change back and forth within `window` seconds of
 * that line is only counted, and when the window ends one line says how often
 * ("failed ↔ connecting ×12 in 60 s"), then a new window starts if it goes on.
 * Any other change of the stream prints at once, after the summary of what was
 * folded before it. Pure: the caller passes the clock and calls {@link flush} on a timer.
 */
export class TransitionLog {
  private readonly folds = new Map<string, Fold>();

  constructor(
    private readonly print: (line: string) => void,
    /** Seconds a repeated change is folded for. */
    readonly window = 60,
  ) {}

  /** Logs a change of `stream` (a state transition, or with `label` e.g. "link " a connection change). */
  add(stream: string, change: { from?: string; to: string; at: number; reason?: string }, label = ''): void {
    this.flush(change.at);
    const from = change.from ?? '–';
    const [a, b] = [from, change.to].sort() as [string, string];
    const key = `${stream}\u0000${label}\u0000${a}\u0000${b}`;
    const open = this.folds.get(key);
    if (open) {
      open.count++;
      open.reason = change.reason;
      return;
    }
    for (const [k, f] of this.folds) {
      if (f.stream !== stream) continue;
      this.summarise(f, change.at);
      this.folds.delete(k);
    }
    this.folds.set(key, { stream, label, a, b, start: change.at, count: 0 });
    const what = change.from === undefined ? change.to : `${from} → ${change.to}`;
    this.print(`source ${stream}: ${label}${what}${change.reason ? ` (${change.reason})` : ''}`);
  }

  /** Ends the windows that are over at `now` (all of them with `all`, e.g. when stopping), printing what they folded. */
  flush(now: number, all = false): void {
    for (const [key, f] of this.folds) {
      if (!all && now - f.start < this.window) continue;
      const folded = f.count > 0;
      this.summarise(f, now);
      // Still flapping: keep folding in a new window.
      if (folded && !all) {
        f.start = now;
        f.count = 0;
      } else this.folds.delete(key);
    }
  }

  private summarise(f: Fold, now: number): void {
    if (f.count === 0) return;
    this.print(`source ${f.stream}: ${f.label}${f.a} ↔ ${f.b} ×${f.count} in ${Math.max(1, Math.round(now - f.start))} s${f.reason ? ` (last: ${f.reason})` : ''}`);
  }
}
