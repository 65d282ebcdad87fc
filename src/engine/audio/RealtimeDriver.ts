/**
 * Drives an engine in real time: a short timer asks the engine to schedule one
 * look-ahead window past the context clock. Tone's Loop was seen to stop firing
 * with no error (4 of 58 runs, docs/ARCHITECTURE.md); this driver does not depend on
 * it, and a watchdog re-arms the timer if ticks stop arriving.
 */
import type { Clock } from '../core/clock.ts';
import type { Engine } from './Engine.ts';

export interface DriverOptions {
  /** Wall and audio time (the engine context's clock service), shared with the bridges. */
  clock: Clock;
  /** Seconds scheduled ahead of the context clock (default 0.1). */
  lookAhead?: number;
  /** Timer period in ms (default 20). */
  intervalMs?: number;
  /** Called each tick before the engine advances (feed data here). */
  onTick?: (now: number, until: number) => void;
}

export class RealtimeDriver {
  /** Ticks run; watchdog re-arms; ticks that came later than 4 periods. */
  readonly stats = { ticks: 0, rearms: 0, lateTicks: 0 };
  private timer?: ReturnType<typeof setInterval>;
  private watchdog?: ReturnType<typeof setInterval>;
  private lastTickWall = 0;
  private readonly lookAhead: number;
  private readonly intervalMs: number;

  constructor(
    private readonly engine: Engine,
    private readonly opts: DriverOptions,
  ) {
    this.lookAhead = opts.lookAhead ?? 0.1;
    this.intervalMs = opts.intervalMs ?? 20;
  }

  start(): void {
    if (this.timer) return;
    this.lastTickWall = this.opts.clock.wallMs();
    this.tick();
    this.arm();
    this.watchdog = setInterval(() => {
      if (this.opts.clock.wallMs() - this.lastTickWall > this.intervalMs * 10) {
        this.stats.rearms++;
        this.arm();
        this.tick();
      }
    }, this.intervalMs * 5);
  }

  private arm(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = setInterval(() => this.tick(), this.intervalMs);
  }

  private tick(): void {
    const wall = this.opts.clock.wallMs();
    if (wall - this.lastTickWall > this.intervalMs * 4) this.stats.lateTicks++;
    this.lastTickWall = wall;
    this.stats.ticks++;
    // each reading also keeps the clock's wall ↔ audio estimate fresh for the bridges
    const now = this.opts.clock.now();
    const until = now + this.lookAhead;
    try {
      this.opts.onTick?.(now, until);
    } catch {
      // a host callback failing must not stop the music
    }
    this.engine.advance(until);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    if (this.watchdog) clearInterval(this.watchdog);
    this.timer = undefined;
    this.watchdog = undefined;
  }
}
