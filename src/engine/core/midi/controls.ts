/**
 * Control changes as values: 7-bit controllers, and 14-bit pairs (MSB on
 * controller n of 0–31, LSB on n + 32), in and out. Pure.
 *
 * MIDI 1.0 ("Control Change", 14-bit controllers): "If both the MSB and LSB are
 * sent initially, a subsequent fine adjustment only requires the sending of the
 * LSB"; "when an MSB is received, the receiver should set its concept of the LSB
 * to zero". Read literally, every coarse move of a knob would first jump down to
 * MSB·128 and then up to its fine value. So a pair known to be 14-bit holds its
 * MSB until the LSB comes (normally the very next message) and reports the
 * pair once; an MSB left alone for `pairWindow` seconds is reported with LSB 0,
 * as the spec says. Which pairs are 14-bit is configured (patch, learn), never
 * guessed from traffic: many controllers use CC 32–63 as independent knobs.
 */

/** One control value. `controller` is the MSB number for a 14-bit pair. */
export interface ControlValue {
  /** 0–15. */
  channel: number;
  controller: number;
  /** 0…1 (7-bit: value / 127; 14-bit: value / 16383). */
  value: number;
  /** The raw value: 0…127 or 0…16383. */
  raw: number;
  bits: 7 | 14;
  /** Seconds (the time of the message that completed it). */
  time: number;
}

/** Is (channel, msb) a 14-bit pair? `channel` is 0–15. */
export type PairTest = (channel: number, msb: number) => boolean;

/** Default wait for the LSB of a 14-bit pair. */
export const PAIR_WINDOW = 0.01;

interface PairState {
  msb: number;
  /** MSB waiting for its LSB (raw MSB and when it came), if any. */
  pending?: { msb: number; time: number };
  /** Whether an MSB has ever been seen (fine adjustments need one). */
  known: boolean;
}

/** Turns CC messages into control values, pairing 14-bit controllers. */
export class ControlPairs {
  private readonly pairs = new Map<number, PairState>();
  private readonly window: number;
  /** LSBs that came with no MSB known for their pair (reported as 14-bit with MSB 0). */
  orphanLsb = 0;

  constructor(
    private readonly isPair: PairTest,
    opts: { pairWindow?: number } = {},
  ) {
    this.window = opts.pairWindow ?? PAIR_WINDOW;
  }

  /** Feeds one CC message (channel 0–15, controller and value 0–127) at `time` seconds. */
  push(channel: number, controller: number, value: number, time: number): ControlValue[] {
    const out: ControlValue[] = [];
    this.flush(time, out);
    if (controller < 64) {
      const msb = controller & 31;
      if (this.isPair(channel, msb)) {
        const st = this.state(channel, msb);
        if (controller < 32) {
          if (st.pending) out.push(this.value(channel, msb, st.pending.msb << 7, 14, st.pending.time));
          st.pending = { msb: value, time };
          st.msb = value;
          st.known = true;
        } else {
          if (!st.known) this.orphanLsb++;
          const msbValue = st.pending?.msb ?? st.msb;
          st.pending = undefined;
          out.push(this.value(channel, msb, (msbValue << 7) | value, 14, time));
        }
        return out;
      }
    }
    out.push(this.value(channel, controller, value, 7, time));
    return out;
  }

  /** Reports MSBs whose LSB has not come within the pair window (with LSB 0). */
  flush(time: number, out: ControlValue[] = []): ControlValue[] {
    for (const [key, st] of this.pairs) {
      if (st.pending && time - st.pending.time >= this.window) {
        out.push(this.value(key >> 5, key & 31, st.pending.msb << 7, 14, st.pending.time));
        st.pending = undefined;
      }
    }
    return out;
  }

  private state(channel: number, msb: number): PairState {
    const key = (channel << 5) | msb;
    let st = this.pairs.get(key);
    if (!st) this.pairs.set(key, (st = { msb: 0, known: false }));
    return st;
  }

  private value(channel: number, controller: number, raw: number, bits: 7 | 14, time: number): ControlValue {
    return { channel, controller, raw, bits, value: raw / (bits === 14 ? 16383 : 127), time };
  }
}

/**
 * The CC messages that send `value` (0…1) on a controller, given what was sent
 * last (`previous` raw value, or undefined): 7-bit sends one message when the
 * value changed; 14-bit sends MSB then LSB when the MSB changed, the LSB alone
 * when only it changed, nothing when neither did.
 */
export function encodeControl(channel: number, controller: number, value: number, bits: 7 | 14, previous?: number): { messages: number[][]; raw: number } {
  const v = Number.isFinite(value) ? Math.max(0, Math.min(1, value)) : 0;
  const status = 0xb0 | (channel & 15);
  if (bits === 7) {
    const raw = Math.round(v * 127);
    return { raw, messages: raw === previous ? [] : [[status, controller & 127, raw]] };
  }
  const raw = Math.round(v * 16383);
  if (raw === previous) return { raw, messages: [] };
  const msb = raw >> 7;
  const lsb = raw & 127;
  const lsbMessage = [status, (controller & 31) + 32, lsb];
  if (previous !== undefined && previous >> 7 === msb) return { raw, messages: [lsbMessage] };
  return { raw, messages: [[status, controller & 31, msb], lsbMessage] };
}
