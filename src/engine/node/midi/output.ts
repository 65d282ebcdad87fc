/**
 * MIDI out: the generated notes per voice and channel, each note-on and
 * note-off sent when its audio time is heard (through the clock service), and
 * signals as 7- or 14-bit controllers, sent only when they change. A send to a
 * port that is gone is counted, never thrown.
 */
import type { Engine } from '../../audio/Engine.ts';
import type { Clock, Disposable } from '../../core/clock.ts';
import type { MidiSetup } from '../../core/midi/config.ts';
import { encodeControl } from '../../core/midi/controls.ts';
import { controlChange, noteOff, noteOn } from '../../core/midi/parser.ts';
import { countError, type MidiStats } from './stats.ts';
import type { MidiOutputPort } from './system.ts';

export class MidiOutput {
  /** Notes sounding on the far end: (channel << 7 | note) → the token of the note-on that started it. */
  private readonly sounding = new Map<number, number>();
  private readonly usedChannels = new Set<number>();
  private readonly sentControls = new Map<number, number>();
  /** Note messages waiting for their time. */
  private readonly pending = new Set<Disposable>();
  private token = 0;

  constructor(
    private readonly engine: Engine,
    private readonly clock: Clock,
    private readonly setup: () => MidiSetup,
    private readonly port: () => MidiOutputPort | undefined,
    private readonly stats: MidiStats,
  ) {}

  /** Sends one message now; false when there is no port or it refused. */
  send(bytes: readonly number[]): boolean {
    const port = this.port();
    if (!port) {
      this.stats.out.dropped++;
      return false;
    }
    try {
      port.send(bytes);
      this.stats.out.messages++;
      return true;
    } catch (e) {
      countError(this.stats, e);
      return false;
    }
  }

  /** A port (re)opened: it knows none of the controller values sent before. */
  opened(): void {
    this.sentControls.clear();
  }

  /** The port went away: what it was playing is gone with it. */
  lost(): void {
    this.sounding.clear();
  }

  /** The engine scheduled notes: on at `time`, off `duration` later (audio seconds). */
  notes(voice: string, notes: readonly number[], time: number, duration: number, velocity: number): void {
    const channel = this.setup().channels.get(voice);
    if (channel === undefined || !this.port() || this.engine.muted) return;
    this.usedChannels.add(channel);
    const vel = Math.max(1, Math.min(127, Math.round(velocity * 127)));
    for (const n of notes) {
      const note = Math.max(0, Math.min(127, Math.round(n)));
      const key = (channel << 7) | note;
      const token = ++this.token;
      this.later(time, () => {
        // the same note still sounding (a repeat): end it first, or the later
        // note-off would cut the new one
        if (this.sounding.has(key)) this.send(noteOff(channel, note));
        this.sounding.set(key, token);
        if (this.send(noteOn(channel, note, vel))) this.stats.out.notes++;
      });
      this.later(time + duration, () => {
        if (this.sounding.get(key) !== token) return;
        this.sounding.delete(key);
        this.send(noteOff(channel, note));
      });
    }
  }

  private later(time: number, run: () => void): void {
    const handle = this.clock.at(time, () => {
      this.pending.delete(handle);
      run();
    });
    this.pending.add(handle);
  }

  /** Ends every note sent (panic, stop): those waiting are dropped; note-offs, then All Notes Off on each channel used. */
  allNotesOff(): void {
    for (const h of this.pending) h.dispose();
    this.pending.clear();
    for (const key of this.sounding.keys()) this.send(noteOff(key >> 7, key & 127));
    this.sounding.clear();
    for (const ch of this.usedChannels) this.send(controlChange(ch, 123, 0));
  }

  /** Every control period: the patch's signals out as controllers, where they changed. */
  controls(): void {
    const send = this.setup().send;
    if (!this.port() || !send.length) return;
    const signals = this.engine.values().signals;
    send.forEach((s, i) => {
      const v = signals[s.from];
      if (v === undefined) return;
      const enc = encodeControl(s.channel, s.cc, v, s.bits, this.sentControls.get(i));
      for (const m of enc.messages) if (this.send(m)) this.stats.out.controls++;
      this.sentControls.set(i, enc.raw);
    });
  }
}
