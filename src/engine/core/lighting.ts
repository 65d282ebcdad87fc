/**
 * Lighting straight from a patch: DMX channel levels driven by signals (8 or
 * 16 bit, with fades), flashes fired by engine events (notes, beats,
 * thresholds, scene changes) that decay, and a blackout on panic; framed as
 * Art-Net ArtDmx packets. Pure: the Node host sends the bytes on a timer.
 *
 * Art-Net 4 ArtDmx (OpCode 0x5000): "Art-Net\0", OpCode (little-endian),
 * ProtVer 14 (big-endian), Sequence (1–255, 0 = off), Physical, SubUni (low 8
 * bits of the 15-bit port address), Net (high 7 bits), Length (big-endian, even,
 * 2–512), then the channel data.
 */

const HEADER = [0x41, 0x72, 0x74, 0x2d, 0x4e, 0x65, 0x74, 0x00]; // "Art-Net\0"
export const OP_DMX = 0x5000;
export const ARTNET_PORT = 6454;

export interface ArtDmx {
  /** 15-bit port address: net (7 bits) · sub-net (4) · universe (4). */
  universe: number;
  sequence: number;
  physical: number;
  data: Uint8Array;
}

/** Encodes an ArtDmx packet. Data is padded to an even length, at least 2, at most 512. */
export function encodeArtDmx(universe: number, sequence: number, data: Uint8Array, physical = 0): Uint8Array {
  if (!Number.isInteger(universe) || universe < 0 || universe > 0x7fff) throw new RangeError(`Art-Net universe ${universe}: expected 0…32767`);
  if (data.length > 512) throw new RangeError(`DMX data of ${data.length} channels: at most 512`);
  const length = Math.max(2, data.length + (data.length % 2));
  const out = new Uint8Array(18 + length);
  out.set(HEADER, 0);
  out[8] = OP_DMX & 0xff;
  out[9] = OP_DMX >> 8;
  out[10] = 0;
  out[11] = 14;
  out[12] = sequence & 0xff;
  out[13] = physical & 0xff;
  out[14] = universe & 0xff;
  out[15] = (universe >> 8) & 0x7f;
  out[16] = length >> 8;
  out[17] = length & 0xff;
  out.set(data, 18);
  return out;
}

/** Decodes an ArtDmx packet; returns a reason string for anything else. */
export function decodeArtDmx(bytes: Uint8Array): ArtDmx | string {
  if (bytes.length < 20) return `packet of ${bytes.length} bytes is shorter than an ArtDmx header`;
  for (let i = 0; i < 8; i++) if (bytes[i] !== HEADER[i]) return 'not an Art-Net packet (bad ID)';
  const op = bytes[8]! | (bytes[9]! << 8);
  if (op !== OP_DMX) return `OpCode 0x${op.toString(16)} is not ArtDmx`;
  const length = (bytes[16]! << 8) | bytes[17]!;
  if (length < 2 || length > 512 || length % 2) return `bad DMX length ${length}`;
  if (bytes.length < 18 + length) return `DMX length ${length} runs past the packet (${bytes.length} bytes)`;
  return { universe: bytes[14]! | ((bytes[15]! & 0x7f) << 8), sequence: bytes[12]!, physical: bytes[13]!, data: bytes.slice(18, 18 + length) };
}

/** Where a flash comes from: `note` / `note:<voice>`, `beat` / `bar`, `threshold:<signal>`, `scene` / `scene:<name>`. */
export type FlashTrigger =
  | { kind: 'note'; voice?: string }
  | { kind: 'beat' }
  | { kind: 'bar' }
  | { kind: 'threshold'; signal: string }
  | { kind: 'scene'; scene?: string };

/** Parses a flash trigger, or returns what was wrong. */
export function parseFlashTrigger(text: string): FlashTrigger | string {
  const [kind, arg, ...rest] = text.split(':');
  if (rest.length) return `"${text}": expected KIND or KIND:NAME`;
  switch (kind) {
    case 'note':
      return arg ? { kind, voice: arg } : { kind };
    case 'beat':
    case 'bar':
      return arg ? `"${text}": ${kind} takes no name` : { kind };
    case 'threshold':
      return arg ? { kind, signal: arg } : `"${text}": name the signal, like threshold:gale`;
    case 'scene':
      return arg ? { kind, scene: arg } : { kind };
    default:
      return `"${text}": expected note[:voice], beat, bar, threshold:signal or scene[:name]`;
  }
}

export interface ChannelSpec {
  /** First DMX channel, 1-based. */
  channel: number;
  /** The signal that drives it (0…1). */
  from: string;
  /** Output range 0…1 of the channel's full scale for signal 0 and 1. */
  range: [number, number];
  bits: 8 | 16;
  /** Fade time constant, seconds (0 = follow at once). */
  fade: number;
}

export interface FlashSpec {
  channel: number;
  on: FlashTrigger;
  /** Peak level 0…1 (notes scale it by velocity). */
  level: number;
  /** Seconds from peak to dark (linear). */
  decay: number;
  bits: 8 | 16;
}

/** Engine events the rig reacts to (a structural subset of the engine's own). */
export type RigEvent =
  | { type: 'note'; voice: string; velocity: number; time: number }
  | { type: 'beat'; beat: number; bar: number; time: number }
  | { type: 'threshold'; signal: string; state: 'on' | 'off'; time: number }
  | { type: 'scene'; scene: string; time: number }
  | { type: 'mute'; muted: boolean; panic: boolean; time: number };

/**
 * The state of one DMX universe. `update(now, signals)` moves faded levels,
 * `event(e)` fires flashes (at their own time, which may be just ahead), and
 * `frame(now)` gives the 512 channel bytes. A panic blacks out until unmuted.
 */
export class LightingRig {
  private readonly levels: number[];
  private readonly flashes: Array<{ spec: FlashSpec; start: number; peak: number }> = [];
  private lastUpdate = NaN;
  blackout = false;

  constructor(
    readonly channels: readonly ChannelSpec[],
    readonly flashSpecs: readonly FlashSpec[],
  ) {
    this.levels = channels.map(() => 0);
  }

  /** Moves each channel toward its signal's mapped level (exponential fade). */
  update(now: number, signals: Readonly<Record<string, number>>): void {
    const dt = Number.isNaN(this.lastUpdate) ? Infinity : Math.max(0, now - this.lastUpdate);
    this.lastUpdate = now;
    this.channels.forEach((c, i) => {
      const x = signals[c.from];
      if (typeof x !== 'number' || !Number.isFinite(x)) return;
      const target = c.range[0] + (c.range[1] - c.range[0]) * Math.min(1, Math.max(0, x));
      const alpha = c.fade <= 0 ? 1 : 1 - Math.exp(-dt / c.fade);
      this.levels[i] = this.levels[i]! + alpha * (target - this.levels[i]!);
    });
  }

  /** Reacts to an engine event. */
  event(e: RigEvent): void {
    if (e.type === 'mute') {
      this.blackout = e.muted;
      return;
    }
    for (const spec of this.flashSpecs) {
      const on = spec.on;
      let peak = 0;
      if (on.kind === 'note' && e.type === 'note' && (on.voice === undefined || on.voice === e.voice)) peak = spec.level * Math.min(1, Math.max(0, e.velocity));
      else if (on.kind === 'beat' && e.type === 'beat') peak = spec.level;
      else if (on.kind === 'bar' && e.type === 'beat' && e.beat % 4 === 0) peak = spec.level;
      else if (on.kind === 'threshold' && e.type === 'threshold' && e.state === 'on' && e.signal === on.signal) peak = spec.level;
      else if (on.kind === 'scene' && e.type === 'scene' && (on.scene === undefined || on.scene === e.scene)) peak = spec.level;
      if (peak > 0 && Number.isFinite(e.time)) {
        this.flashes.push({ spec, start: e.time, peak });
        if (this.flashes.length > 256) this.flashes.shift();
      }
    }
  }

  /** Channel bytes at `now` (index 0 = DMX channel 1). */
  frame(now: number): Uint8Array {
    const out = new Uint8Array(512);
    if (this.blackout) return out;
    const put = (channel: number, x: number, bits: 8 | 16) => {
      const v = Math.min(1, Math.max(0, x));
      const i = channel - 1;
      if (bits === 16) {
        const n = Math.round(v * 65535);
        const coarse = n >> 8;
        const fine = n & 0xff;
        // Two sources on one channel: the brighter wins.
        if ((coarse << 8) + fine > (out[i]! << 8) + out[i + 1]!) {
          out[i] = coarse;
          out[i + 1] = fine;
        }
      } else out[i] = Math.max(out[i]!, Math.round(v * 255));
    };
    this.channels.forEach((c, i) => put(c.channel, this.levels[i]!, c.bits));
    let keep = 0;
    for (const f of this.flashes) {
      const age = now - f.start;
      if (age >= f.spec.decay) continue;
      this.flashes[keep++] = f;
      if (age >= 0) put(f.spec.channel, f.peak * (1 - age / Math.max(1e-6, f.spec.decay)), f.spec.bits);
    }
    this.flashes.length = keep;
    return out;
  }
}

// ------------------------------------------------------------ sACN (E1.31)
export const SACN_PORT = 5568;
const ACN_ID = [0x41, 0x53, 0x43, 0x2d, 0x45, 0x31, 0x2e, 0x31, 0x37, 0x00, 0x00, 0x00]; // "ASC-E1.17\0\0\0"

/** The multicast group of an sACN universe: 239.255.hi.lo. */
export function sacnMulticastAddress(universe: number): string {
  return `239.255.${(universe >> 8) & 0xff}.${universe & 0xff}`;
}

export interface SacnData {
  universe: number;
  sequence: number;
  priority: number;
  sourceName: string;
  cid: Uint8Array;
  /** Stream terminated (options bit 6): the source is going away. */
  terminated: boolean;
  data: Uint8Array;
}

/**
 * Encodes an E1.31 (sACN) data packet: root layer (ACN id, CID), framing layer
 * (source name, priority, sequence, universe 1…63999), DMP layer (start code 0,
 * then the channels).
 */
export function encodeSacn(p: Omit<SacnData, 'terminated'> & { terminated?: boolean }): Uint8Array {
  if (!Number.isInteger(p.universe) || p.universe < 1 || p.universe > 63999) throw new RangeError(`sACN universe ${p.universe}: expected 1…63999`);
  if (p.data.length > 512) throw new RangeError(`DMX data of ${p.data.length} channels: at most 512`);
  if (p.cid.length !== 16) throw new RangeError('sACN CID must be 16 bytes');
  const n = p.data.length;
  const out = new Uint8Array(126 + n);
  const v = new DataView(out.buffer);
  v.setUint16(0, 0x0010);
  v.setUint16(2, 0);
  out.set(ACN_ID, 4);
  v.setUint16(16, 0x7000 | (out.length - 16));
  v.setUint32(18, 0x00000004);
  out.set(p.cid, 22);
  v.setUint16(38, 0x7000 | (out.length - 38));
  v.setUint32(40, 0x00000002);
  out.set(new TextEncoder().encode(p.sourceName).slice(0, 63), 44);
  out[108] = Math.min(200, Math.max(0, p.priority));
  v.setUint16(109, 0);
  out[111] = p.sequence & 0xff;
  out[112] = p.terminated ? 0x40 : 0;
  v.setUint16(113, p.universe);
  v.setUint16(115, 0x7000 | (out.length - 115));
  out[117] = 0x02;
  out[118] = 0xa1;
  v.setUint16(119, 0);
  v.setUint16(121, 1);
  v.setUint16(123, n + 1);
  out[125] = 0;
  out.set(p.data, 126);
  return out;
}

/** Decodes an E1.31 data packet; returns a reason string for anything else. */
export function decodeSacn(bytes: Uint8Array): SacnData | string {
  if (bytes.length < 126) return `packet of ${bytes.length} bytes is shorter than an E1.31 header`;
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < 12; i++) if (bytes[4 + i] !== ACN_ID[i]) return 'not an ACN packet';
  if (v.getUint32(18) !== 4 || v.getUint32(40) !== 2 || bytes[117] !== 2) return 'not an E1.31 data packet';
  const count = v.getUint16(123);
  if (count < 1 || 125 + count > bytes.length) return `property count ${count} runs past the packet`;
  if (bytes[125] !== 0) return `start code ${bytes[125]} is not DMX (0)`;
  const name = bytes.slice(44, 108);
  const end = name.indexOf(0);
  return {
    universe: v.getUint16(113),
    sequence: bytes[111]!,
    priority: bytes[108]!,
    sourceName: new TextDecoder().decode(end < 0 ? name : name.slice(0, end)),
    cid: bytes.slice(22, 38),
    terminated: (bytes[112]! & 0x40) !== 0,
    data: bytes.slice(126, 125 + count),
  };
}
