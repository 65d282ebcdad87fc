/**
 * MIDI 1.0 byte-stream parsing, pure. Bytes may come in any fragments (a DIN
 * stream read a byte at a time, or whole messages from a driver); the parser
 * keeps its state across calls, so one parser per input port.
 *
 * What it does with the awkward cases (MIDI 1.0 spec, "Running Status",
 * "System Exclusive", "Real-Time Messages"):
 * - running status: data bytes after a complete channel message repeat its
 *   status; system common messages (F0–F7) cancel it, real-time bytes do not;
 * - real-time bytes (F8–FF) may come anywhere, even between the data bytes of
 *   another message or inside a SysEx: they are emitted at once and change
 *   nothing else;
 * - a SysEx ended by any status byte other than F7 or real time is aborted
 *   (counted, not emitted) and that status byte starts the next message;
 * - a SysEx longer than `maxSysex` bytes is dropped (counted once) and the
 *   rest of it is skipped up to its end;
 * - note-on with velocity 0 is a note-off;
 * - stray data bytes (no status to apply them to), a message cut short by a
 *   new status, F7 with no SysEx open, undefined status bytes (F4, F5, F9, FD)
 *   and values that are not bytes are counted and skipped. Nothing throws.
 */

/** A parsed MIDI message. Channels are 0–15 here (shown to people as 1–16). */
export type MidiMessage =
  | { type: 'noteOn'; channel: number; note: number; velocity: number }
  | { type: 'noteOff'; channel: number; note: number; velocity: number }
  | { type: 'polyPressure'; channel: number; note: number; pressure: number }
  | { type: 'cc'; channel: number; controller: number; value: number }
  | { type: 'program'; channel: number; program: number }
  | { type: 'channelPressure'; channel: number; pressure: number }
  /** 0…16383, centre 8192. */
  | { type: 'pitchBend'; channel: number; value: number }
  /** The whole message, F0 … F7. */
  | { type: 'sysex'; data: Uint8Array }
  | { type: 'mtcQuarterFrame'; value: number }
  /** Song position in MIDI beats (16th notes, 6 clocks each). */
  | { type: 'songPosition'; beats: number }
  | { type: 'songSelect'; song: number }
  | { type: 'tuneRequest' }
  | { type: 'clock' }
  | { type: 'start' }
  | { type: 'continue' }
  | { type: 'stop' }
  | { type: 'activeSensing' }
  | { type: 'reset' };

/** What the parser refused, by reason. */
export interface ParserStats {
  messages: number;
  /** Data bytes with no status to apply them to. */
  strayData: number;
  /** Channel or system common messages cut short by a new status byte. */
  truncated: number;
  /** SysEx ended by a status byte other than F7. */
  sysexAborted: number;
  /** SysEx longer than the limit. */
  sysexOversized: number;
  /** F7 with no SysEx open. */
  strayEox: number;
  /** F4, F5, F9, FD. */
  undefinedStatus: number;
  /** Values that are not integers 0…255. */
  invalidBytes: number;
}

/** Default SysEx limit: bigger dumps exist, but nothing here uses them. */
export const DEFAULT_MAX_SYSEX = 4096;

const REALTIME: Record<number, MidiMessage['type'] | undefined> = {
  0xf8: 'clock',
  0xfa: 'start',
  0xfb: 'continue',
  0xfc: 'stop',
  0xfe: 'activeSensing',
  0xff: 'reset',
};

/** Data bytes that follow a status byte (channel and system common). */
export function dataLength(status: number): number {
  if (status >= 0x80 && status < 0xf0) return (status & 0xf0) === 0xc0 || (status & 0xf0) === 0xd0 ? 1 : 2;
  switch (status) {
    case 0xf1:
    case 0xf3:
      return 1;
    case 0xf2:
      return 2;
    default:
      return 0;
  }
}

export class MidiParser {
  readonly stats: ParserStats = {
    messages: 0,
    strayData: 0,
    truncated: 0,
    sysexAborted: 0,
    sysexOversized: 0,
    strayEox: 0,
    undefinedStatus: 0,
    invalidBytes: 0,
  };
  private readonly maxSysex: number;
  /** Status of the message being read (0 = none). */
  private status = 0;
  /** The status byte itself came (not implied by running status). */
  private explicit = false;
  /** Running status: the last channel status, 0 when cancelled. */
  private running = 0;
  private readonly data: number[] = [];
  private sysex: number[] | undefined;
  /** Skipping the rest of an oversized SysEx. */
  private skipping = false;

  constructor(opts: { maxSysex?: number } = {}) {
    this.maxSysex = Math.max(2, opts.maxSysex ?? DEFAULT_MAX_SYSEX);
  }

  /** Parses `bytes`, calling `emit` for every complete message, in order. */
  push(bytes: ArrayLike<number>, emit: (m: MidiMessage) => void): void {
    for (let i = 0; i < bytes.length; i++) {
      const b = bytes[i]!;
      if (!Number.isInteger(b) || b < 0 || b > 255) {
        this.stats.invalidBytes++;
        continue;
      }
      this.byte(b, emit);
    }
  }

  /** Parses bytes and returns the messages (convenience for tests and one-off decoding). */
  parse(bytes: ArrayLike<number>): MidiMessage[] {
    const out: MidiMessage[] = [];
    this.push(bytes, (m) => out.push(m));
    return out;
  }

  /** Forgets any partial message, SysEx and running status (a port reopened). */
  reset(): void {
    this.status = 0;
    this.explicit = false;
    this.running = 0;
    this.data.length = 0;
    this.sysex = undefined;
    this.skipping = false;
  }

  private byte(b: number, emit: (m: MidiMessage) => void): void {
    if (b >= 0xf8) {
      const type = REALTIME[b];
      if (type) this.out({ type } as MidiMessage, emit);
      else this.stats.undefinedStatus++;
      return;
    }
    if (this.sysex || this.skipping) {
      if (b < 0x80) {
        if (this.skipping) return;
        this.sysex!.push(b);
        // + 1 for the F7 still to come
        if (this.sysex!.length + 1 > this.maxSysex) {
          this.stats.sysexOversized++;
          this.sysex = undefined;
          this.skipping = true;
        }
        return;
      }
      if (b === 0xf7) {
        if (this.sysex) {
          this.sysex.push(0xf7);
          this.out({ type: 'sysex', data: Uint8Array.from(this.sysex) }, emit);
        }
        this.sysex = undefined;
        this.skipping = false;
        return;
      }
      // Any other status ends the SysEx unfinished; the byte starts the next message.
      if (this.sysex) this.stats.sysexAborted++;
      this.sysex = undefined;
      this.skipping = false;
    }
    if (b >= 0x80) {
      this.statusByte(b, emit);
      return;
    }
    // A data byte.
    if (!this.status) {
      if (!this.running) {
        this.stats.strayData++;
        return;
      }
      this.status = this.running;
      this.explicit = false;
    }
    this.data.push(b);
    if (this.data.length === dataLength(this.status)) {
      const status = this.status;
      const [d1 = 0, d2 = 0] = this.data;
      this.data.length = 0;
      this.status = 0;
      this.out(decode(status, d1, d2), emit);
    }
  }

  private statusByte(b: number, emit: (m: MidiMessage) => void): void {
    // A status byte, or some data bytes, with the rest missing.
    if (this.status && (this.explicit || this.data.length > 0)) this.stats.truncated++;
    this.status = 0;
    this.data.length = 0;
    this.explicit = true;
    if (b < 0xf0) {
      this.running = b;
      this.status = b;
      return;
    }
    // System common: cancels running status.
    this.running = 0;
    switch (b) {
      case 0xf0:
        this.sysex = [0xf0];
        return;
      case 0xf7:
        this.stats.strayEox++;
        return;
      case 0xf4:
      case 0xf5:
        this.stats.undefinedStatus++;
        return;
      case 0xf6:
        this.out({ type: 'tuneRequest' }, emit);
        return;
      default:
        this.status = b; // F1, F2, F3: wait for their data
    }
  }

  private out(m: MidiMessage, emit: (m: MidiMessage) => void): void {
    this.stats.messages++;
    emit(m);
  }
}

function decode(status: number, d1: number, d2: number): MidiMessage {
  const channel = status & 0x0f;
  switch (status & 0xf0) {
    case 0x80:
      return { type: 'noteOff', channel, note: d1, velocity: d2 };
    case 0x90:
      return d2 === 0 ? { type: 'noteOff', channel, note: d1, velocity: 0 } : { type: 'noteOn', channel, note: d1, velocity: d2 };
    case 0xa0:
      return { type: 'polyPressure', channel, note: d1, pressure: d2 };
    case 0xb0:
      return { type: 'cc', channel, controller: d1, value: d2 };
    case 0xc0:
      return { type: 'program', channel, program: d1 };
    case 0xd0:
      return { type: 'channelPressure', channel, pressure: d1 };
    case 0xe0:
      return { type: 'pitchBend', channel, value: d1 | (d2 << 7) };
  }
  switch (status) {
    case 0xf1:
      return { type: 'mtcQuarterFrame', value: d1 };
    case 0xf2:
      return { type: 'songPosition', beats: d1 | (d2 << 7) };
    default:
      return { type: 'songSelect', song: d1 };
  }
}

// ---------------------------------------------------------------- encoding

const clamp7 = (v: number) => Math.max(0, Math.min(127, Math.round(v))) | 0;
const ch = (c: number) => Math.max(0, Math.min(15, Math.round(c))) | 0;

/** Note on (velocity 1…127: 0 would mean note off). */
export function noteOn(channel: number, note: number, velocity: number): number[] {
  return [0x90 | ch(channel), clamp7(note), Math.max(1, clamp7(velocity))];
}

export function noteOff(channel: number, note: number, velocity = 0): number[] {
  return [0x80 | ch(channel), clamp7(note), clamp7(velocity)];
}

export function controlChange(channel: number, controller: number, value: number): number[] {
  return [0xb0 | ch(channel), clamp7(controller), clamp7(value)];
}

/** Song position pointer: `beats` in 16th notes (0…16383). */
export function songPosition(beats: number): number[] {
  const v = Math.max(0, Math.min(16383, Math.round(beats))) | 0;
  return [0xf2, v & 0x7f, v >> 7];
}

export const CLOCK = 0xf8;
export const START = 0xfa;
export const CONTINUE = 0xfb;
export const STOP = 0xfc;
