/**
 * MIDI clock (24 pulses per quarter note), both ways. Pure: times are seconds
 * on whatever clock the caller uses.
 *
 * In ({@link ClockFollower}): the tempo of an external clock, estimated from
 * the arrival times of its ticks (which carry the receiver's timing jitter: an
 * event loop adds a millisecond or more, now and then ten), and its transport:
 * Start plays from the top at the next tick, Continue from the song position,
 * Stop stops. Ticks with no Start (many masters send clock all the time) give
 * the tempo and nothing else.
 *
 * Out ({@link ClockOut}): ticks on the engine's own beat grid, 24 per beat, so a
 * slave stays in step with the notes; Start, Stop, Continue and Song Position
 * Pointer around jumps.
 */
import { medianOfSorted } from '../filters.ts';
import { CLOCK, CONTINUE, songPosition, START, STOP, type MidiMessage } from './parser.ts';

export const PPQN = 24;

/** What the follower makes of the clock. */
export type ClockEvent =
  | { type: 'tempo'; bpm: number; time: number }
  /** Playing from the top: `time` is the first tick after Start (the downbeat). */
  | { type: 'start'; time: number; step: 0 }
  /** Playing on from `step` (16th notes, from the song position). */
  | { type: 'continue'; time: number; step: number }
  | { type: 'stop'; time: number }
  /** A quarter note of the running song (tick 0, 24, 48…): `beat` counts from the top. */
  | { type: 'beat'; beat: number; time: number }
  /** No tick for a while: the master is gone or stopped sending. */
  | { type: 'lost'; time: number };

export interface FollowerOptions {
  /** Ticks the tempo is estimated over (default 32: a beat and a third). */
  window?: number;
  /** Ticks needed for a first estimate (default 12: half a beat). */
  minTicks?: number;
  /** One-pole smoothing of the estimate per tick, 0…1 (default 0.25; 1 = none). */
  smoothing?: number;
}

/** Follows an external MIDI clock. Feed it messages with their arrival times. */
export class ClockFollower {
  /** Estimated tempo, once enough ticks have come. */
  bpm: number | undefined;
  /** True between the first tick after Start/Continue and Stop. */
  running = false;
  /** Ticks since the top of the song (valid while running). */
  position = 0;
  readonly stats = { ticks: 0, ticksWithoutStart: 0, resets: 0, lost: 0, backwards: 0, positionWhileRunning: 0 };
  private readonly window: number;
  private readonly minTicks: number;
  private readonly alpha: number;
  private readonly times: number[] = [];
  private pending: 'start' | 'continue' | undefined;
  /** Song position (ticks) for the next Continue. */
  private cue = 0;
  private lostReported = false;

  constructor(opts: FollowerOptions = {}) {
    this.window = Math.max(4, opts.window ?? 32);
    this.minTicks = Math.max(3, Math.min(this.window, opts.minTicks ?? 12));
    this.alpha = Math.max(0.001, Math.min(1, opts.smoothing ?? 0.25));
  }

  /** Seconds without a tick after which the clock is lost: 8 ticks, at least 0.3 s (0.5 s before any estimate). */
  get timeout(): number {
    return this.bpm ? Math.max(0.3, (8 * 60) / (PPQN * this.bpm)) : 0.5;
  }

  /** Handles any message; only clock, start, continue, stop and song position matter. */
  message(m: MidiMessage, time: number): ClockEvent[] {
    switch (m.type) {
      case 'clock':
        return this.tick(time);
      case 'start':
        this.pending = 'start';
        this.cue = 0;
        return [];
      case 'continue':
        this.pending = 'continue';
        return [];
      case 'stop':
        return this.stop(time);
      case 'songPosition':
        // The spec has masters send it only while stopped; a running slave ignores it.
        if (this.running) this.stats.positionWhileRunning++;
        else this.cue = m.beats * 6;
        return [];
      default:
        return [];
    }
  }

  private stop(time: number): ClockEvent[] {
    this.pending = undefined;
    if (!this.running) return [];
    this.running = false;
    // Continue plays on from the next tick, unless a song position says otherwise.
    this.cue = this.position + 1;
    return [{ type: 'stop', time }];
  }

  private tick(time: number): ClockEvent[] {
    const out: ClockEvent[] = [];
    const last = this.times[this.times.length - 1];
    if (last !== undefined && time < last) {
      this.stats.backwards++;
      return out;
    }
    this.stats.ticks++;
    if (last !== undefined && time - last > this.timeout) {
      this.times.length = 0;
      this.stats.resets++;
    }
    this.lostReported = false;
    this.times.push(time);
    if (this.times.length > this.window) this.times.shift();
    const estimate = this.estimate();
    if (estimate !== undefined) {
      const bpm = this.bpm === undefined ? estimate : this.bpm + this.alpha * (estimate - this.bpm);
      if (this.bpm === undefined || Math.abs(bpm - this.bpm) >= 1e-3) out.push({ type: 'tempo', bpm, time });
      this.bpm = bpm;
    }
    if (this.pending) {
      this.position = this.pending === 'start' ? 0 : this.cue;
      out.push(this.pending === 'start' ? { type: 'start', time, step: 0 } : { type: 'continue', time, step: Math.floor(this.position / 6) });
      this.pending = undefined;
      this.running = true;
    } else if (this.running) this.position++;
    else this.stats.ticksWithoutStart++;
    if (this.running && this.position % PPQN === 0) out.push({ type: 'beat', beat: this.position / PPQN, time });
    return out;
  }

  /**
   * Tempo from the window of tick times: the median of the slopes between
   * ticks half a window apart (Theil–Sen on one lag), so one late tick moves
   * it hardly at all.
   */
  private estimate(): number | undefined {
    const n = this.times.length;
    if (n < this.minTicks) return undefined;
    const h = Math.floor(n / 2);
    const slopes: number[] = [];
    for (let i = 0; i + h < n; i++) slopes.push((this.times[i + h]! - this.times[i]!) / h);
    const period = medianOfSorted(slopes.sort((a, b) => a - b));
    if (!(period > 0)) return undefined;
    const bpm = 60 / (PPQN * period);
    return bpm >= 10 && bpm <= 1000 ? bpm : undefined;
  }

  /** Call now and then: reports a clock that has gone quiet (once). Tempo and transport stay as they were. */
  check(time: number): ClockEvent[] {
    const last = this.times[this.times.length - 1];
    if (last === undefined || this.lostReported || time - last <= this.timeout) return [];
    this.lostReported = true;
    this.stats.lost++;
    return [{ type: 'lost', time }];
  }
}

/**
 * The tempo to give the engine so its beats close in on the clock's: the
 * followed tempo, nudged by the phase error (engine beat time − clock beat
 * time, seconds; positive = the engine is late, so it plays faster) to absorb
 * it over about `beats` beats, the nudge capped at ±`cap` (a fraction of the
 * tempo), so the tempo heard stays within `cap` of the clock's (0.5 %: under
 * 1 BPM up to 200 BPM; a 25 ms gap closes at about 2 ms a beat).
 */
export function phaseLockedTempo(bpm: number, error: number, opts: { beats?: number; cap?: number } = {}): number {
  const beats = opts.beats ?? 2;
  const cap = opts.cap ?? 0.005;
  if (!Number.isFinite(error) || !(bpm > 0)) return bpm;
  const beat = 60 / bpm;
  const nudge = Math.max(-cap, Math.min(cap, error / beats / beat));
  return bpm * (1 + nudge);
}

/** A message to send at a time. */
export interface TimedMessage {
  time: number;
  bytes: number[];
}

/**
 * Plans clock output from the engine's beats (time and tempo of each quarter
 * note, a look-ahead before they sound). The 24 ticks of a beat are spaced at
 * its tempo; when the next beat's time is known, the ticks not yet sent are
 * re-spaced evenly up to it, so every beat has exactly 24 ticks even when the
 * tempo changed inside it. A beat that does not follow the last one (a patch
 * swap, a relocation) sends Stop, Song Position and Start (at the top) or
 * Continue just before its first tick.
 */
export class ClockOut {
  private queue: Array<TimedMessage & { beat?: number; tick?: number }> = [];
  private last: { beat: number; time: number; tempo: number } | undefined;
  /** Whether Start/Continue was sent and not stopped since. */
  running = false;
  readonly stats = { ticks: 0, jumps: 0 };
  /** How long before a beat's first tick the transport messages go. */
  static readonly LEAD = 0.001;

  /** The engine will play beat `beat` at `time` at `tempo` BPM. */
  beat(beat: number, time: number, tempo: number): void {
    if (!Number.isFinite(time) || !(tempo > 0)) return;
    const prev = this.last;
    if (prev && beat === prev.beat + 1 && time > prev.time) {
      // Re-space the previous beat's unsent ticks to end exactly here.
      const span = (time - prev.time) / PPQN;
      for (const m of this.queue) if (m.beat === prev.beat && m.tick !== undefined) m.time = prev.time + m.tick * span;
    } else {
      if (prev) this.stats.jumps++;
      this.queue = this.queue.filter((m) => m.time < time);
      const at = time - ClockOut.LEAD;
      if (this.running) this.queue.push({ time: at, bytes: [STOP] });
      this.queue.push({ time: at, bytes: songPosition(beat * 4) });
      this.queue.push({ time: at, bytes: [beat === 0 ? START : CONTINUE] });
      this.running = true;
    }
    const period = 60 / (PPQN * tempo);
    for (let j = 0; j < PPQN; j++) this.queue.push({ time: time + j * period, bytes: [CLOCK], beat, tick: j });
    this.queue.sort((a, b) => a.time - b.time);
    this.last = { beat, time, tempo };
  }

  /** Stops at `time`: ticks after it are dropped, Stop is sent; the next beat sends the position and Continue. */
  stop(time: number): void {
    this.queue = this.queue.filter((m) => m.time < time);
    if (this.running) this.queue.push({ time, bytes: [STOP] });
    this.running = false;
    this.last = undefined;
  }

  /** Time of the next message, if any. */
  get next(): number | undefined {
    return this.queue[0]?.time;
  }

  /** Removes and returns the messages due at or before `until`, in order. */
  take(until: number): TimedMessage[] {
    let n = 0;
    while (n < this.queue.length && this.queue[n]!.time <= until) n++;
    const due = this.queue.splice(0, n);
    for (const m of due) if (m.bytes[0] === CLOCK) this.stats.ticks++;
    return due.map(({ time, bytes }) => ({ time, bytes }));
  }
}
