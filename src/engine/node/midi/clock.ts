/**
 * MIDI clock, both ways, on the engine's clock service (src/engine/core/clock.ts).
 *
 * In ({@link MidiClockIn}): an external clock sets the tempo and starts and
 * stops the music; while it runs, the engine's beats are locked to the
 * clock's by nudging the tempo (phaseLockedTempo). Tick times are wall times
 * (arrival, or a driver's timestamp), put on the audio clock as heard.
 *
 * Out ({@link MidiClockOut}): 24 ticks per beat on the engine's own beats,
 * with Start/Stop/Continue/Song Position around jumps, each sent when its
 * audio time is heard. (This used to wait out the last millisecond before a
 * tick in a busy loop; benchmarks/midi.ts measured what that cost and bought.)
 */
import type { Engine } from '../../audio/Engine.ts';
import type { Clock, Disposable } from '../../core/clock.ts';
import { ClockFollower, ClockOut, phaseLockedTempo, type ClockEvent } from '../../core/midi/clock.ts';
import { CLOCK, STOP, type MidiMessage } from '../../core/midi/parser.ts';

export class MidiClockIn {
  readonly follower = new ClockFollower();
  /** Smoothed phase error of the engine's beats against the clock's (s; + = engine late), while locked. */
  phase: number | undefined;
  /** Audio times of the engine's recent beats, by beat number. */
  private readonly engineBeats = new Map<number, number>();

  constructor(
    private readonly engine: Engine,
    private readonly clock: Clock,
    private readonly log: (message: string) => void,
  ) {}

  /** A clock or transport message that came at `wall` (seconds). */
  message(m: MidiMessage, wall: number): void {
    this.events(this.follower.message(m, wall));
  }

  /** Every control period: notices a clock that went quiet. */
  check(wall: number): void {
    this.events(this.follower.check(wall));
  }

  /** The engine will play beat `beat` at audio time `time`. */
  engineBeat(beat: number, time: number): void {
    this.engineBeats.set(beat, time);
    this.engineBeats.delete(beat - 16);
  }

  private events(events: ClockEvent[]): void {
    const engine = this.engine;
    for (const e of events) {
      switch (e.type) {
        case 'tempo':
          this.applyTempo();
          break;
        case 'start':
        case 'continue':
          this.engineBeats.clear();
          this.phase = undefined;
          engine.transport(e.type, this.audioTime(e.time), e.step);
          this.applyTempo();
          break;
        case 'stop':
          engine.transport('stop', this.audioTime(e.time));
          this.phase = undefined;
          break;
        case 'beat': {
          const mine = this.engineBeats.get(e.beat);
          if (mine === undefined) break;
          const error = mine - this.clock.toAudio(e.time * 1000);
          // receive jitter is a millisecond or two: average it out a little
          this.phase = this.phase === undefined ? error : 0.7 * this.phase + 0.3 * error;
          this.applyTempo();
          break;
        }
        case 'lost':
          this.phase = undefined;
          this.log(`MIDI clock lost${this.follower.bpm ? `; keeping ${this.follower.bpm.toFixed(1)} BPM` : ''}`);
          break;
      }
    }
  }

  private applyTempo(): void {
    const f = this.follower;
    if (!f.bpm) return;
    this.engine.setTempo(f.running && this.phase !== undefined ? phaseLockedTempo(f.bpm, this.phase) : f.bpm);
  }

  /** Audio time heard at a wall instant (seconds), never in the engine's past. */
  private audioTime(wall: number): number {
    return Math.max(this.clock.toAudio(wall * 1000), this.clock.now());
  }
}

export class MidiClockOut {
  readonly plan = new ClockOut();
  private due?: Disposable;
  private dueAt = Infinity;
  private stopped = false;

  /** @param send sends a message now; false when it could not go out. */
  constructor(
    private readonly clock: Clock,
    private readonly send: (bytes: readonly number[]) => boolean,
    private readonly sent: { clock: number },
  ) {}

  /** The engine will play beat `beat` at audio time `time` at `tempo` BPM. */
  beat(beat: number, time: number, tempo: number): void {
    this.plan.beat(beat, time, tempo);
    this.arm();
  }

  /** The engine stopped at `time`: Stop then; the next beat sends the song position and Start or Continue. */
  transportStop(time: number): void {
    this.plan.stop(time);
    this.arm();
  }

  /** Stops for good (sending Stop if the clock was running). */
  close(): void {
    this.stopped = true;
    this.due?.dispose();
    if (this.plan.running) this.send([STOP]);
  }

  private arm(): void {
    const next = this.plan.next;
    if (this.stopped || next === undefined || (this.due && this.dueAt <= next)) return;
    this.due?.dispose();
    this.dueAt = next;
    this.due = this.clock.at(next, () => this.pump());
  }

  private pump(): void {
    this.due = undefined;
    this.dueAt = Infinity;
    for (const m of this.plan.take(this.clock.dueUntil())) if (this.send(m.bytes) && m.bytes[0] === CLOCK) this.sent.clock++;
    this.arm();
  }
}
