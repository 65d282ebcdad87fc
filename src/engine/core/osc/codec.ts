/**
 * OSC 1.0 packets ↔ bytes. Pure: works on Uint8Array/DataView, no Buffer, no I/O.
 *
 * Spec: "The Open Sound Control 1.0 Specification" (opensoundcontrol.org, 2002),
 * plus the type tags it lists as non-standard but common (h t d S c r m T F N I [ ]).
 *
 * Decoding treats its input as hostile: every size, string, padding byte and
 * type tag is checked against the packet and against {@link OscLimits}, and the
 * only exception that ever leaves {@link decodePacket} is {@link OscDecodeError}
 * (code, byte offset, reason). {@link tryDecodePacket} returns a result instead.
 *
 * Choices where the spec leaves room:
 * - A message whose address is the whole packet (no type-tag string at all, which
 *   OSC 1.0 lets older senders do) decodes as a message with no arguments; a
 *   message with bytes after the address that do not start with ',' is rejected,
 *   since its arguments cannot be interpreted.
 * - Strings are UTF-8 (ASCII per the spec; invalid UTF-8 is rejected). Padding
 *   bytes must be NUL. Addresses must start with '/' and contain no control
 *   characters; whether a pattern in them is well formed is for the matcher
 *   (pattern.ts) to decide: a malformed pattern matches nothing.
 * - Timetag seconds with the top bit clear are read as NTP era 1 (from
 *   2036-02-07), as RFC 4330 §3 prescribes, so the conversion keeps working then.
 */

/** 64-bit NTP timestamp: whole seconds since 1900-01-01 UTC and 2^-32 s units, each a uint32. */
export interface OscTimetag {
  seconds: number;
  fraction: number;
}

/** RGBA colour of type tag `r`, each channel 0..255. */
export interface OscColor {
  r: number;
  g: number;
  b: number;
  a: number;
}

/** 4-byte MIDI message of type tag `m`: port id, status byte, two data bytes, each 0..255. */
export interface OscMidi {
  port: number;
  status: number;
  data1: number;
  data2: number;
}

/**
 * One argument with its type tag. Arrays (`[` … `]` in the type-tag string) are
 * `{ type: '[', value: [...] }`.
 */
export type OscArg =
  | { type: 'i'; value: number } // int32
  | { type: 'f'; value: number } // float32 (encoding rounds with Math.fround)
  | { type: 's'; value: string } // string
  | { type: 'b'; value: Uint8Array } // blob
  | { type: 'h'; value: bigint } // int64
  | { type: 't'; value: OscTimetag } // timetag
  | { type: 'd'; value: number } // float64
  | { type: 'S'; value: string } // symbol
  | { type: 'c'; value: string } // one character (a single code point, sent as int32)
  | { type: 'r'; value: OscColor } // RGBA colour
  | { type: 'm'; value: OscMidi } // MIDI message
  | { type: 'T'; value: true }
  | { type: 'F'; value: false }
  | { type: 'N'; value: null }
  | { type: 'I'; value: number } // Infinitum; value is Infinity
  | { type: '['; value: OscArg[] };

/** The type tags {@link OscArg} can carry. */
export type OscArgType = OscArg['type'];

export interface OscMessage {
  /** Address (or, on receipt, address pattern), starting with '/'. */
  address: string;
  args: OscArg[];
}

export interface OscBundle {
  timetag: OscTimetag;
  elements: OscPacket[];
}

export type OscPacket = OscMessage | OscBundle;

/** True when the packet is a bundle. */
export function isOscBundle(packet: OscPacket): packet is OscBundle {
  return (packet as OscBundle).elements !== undefined;
}

/** Bounds applied when decoding; every field has a default ({@link DEFAULT_OSC_LIMITS}). */
export interface OscLimits {
  /** Largest packet decoded, bytes. Default 65536 (64 KiB; a UDP datagram carries at most 65507). */
  maxPacketBytes: number;
  /** Deepest bundle nesting (a top-level bundle is depth 1) and, separately, deepest array nesting. Default 8. */
  maxDepth: number;
  /** Most type tags in one message (array brackets included). Default 1024. */
  maxArgs: number;
  /** Longest address, bytes before its NUL. Default 1024. */
  maxAddressBytes: number;
  /** Longest string or symbol argument, bytes before its NUL. Default 8192. */
  maxStringBytes: number;
  /** Largest blob, bytes. Default 65536. */
  maxBlobBytes: number;
  /** Most messages in one packet, counted through all nested bundles. Default 4096. */
  maxMessages: number;
}

export const DEFAULT_OSC_LIMITS: Readonly<OscLimits> = Object.freeze({
  maxPacketBytes: 65536,
  maxDepth: 8,
  maxArgs: 1024,
  maxAddressBytes: 1024,
  maxStringBytes: 8192,
  maxBlobBytes: 65536,
  maxMessages: 4096,
});

/** Merges partial limits over the defaults. */
export function resolveOscLimits(limits?: Partial<OscLimits>): OscLimits {
  return { ...DEFAULT_OSC_LIMITS, ...limits };
}

/** What kind of fault a decode hit (stable, for counting). */
export type OscDecodeErrorCode =
  | 'oversize' // packet larger than maxPacketBytes
  | 'truncated' // an item needs more bytes than the packet has
  | 'size' // a length that is not a multiple of 4, or a size field that disagrees with the packet
  | 'address' // not '/' nor '#bundle', or control characters in the address
  | 'string' // string not NUL-terminated inside the packet
  | 'padding' // padding missing or not NUL
  | 'utf8' // string that is not valid UTF-8
  | 'type-tags' // type-tag string missing where arguments follow
  | 'unknown-tag' // a type tag we do not know
  | 'array' // unbalanced '[' / ']'
  | 'bundle' // bad bundle header
  | 'depth' // bundle or array nesting deeper than maxDepth
  | 'limit' // more args, longer strings, bigger blobs or more messages than allowed
  | 'value' // a value out of its domain (e.g. a 'c' that is no code point)
  | 'internal'; // a bug in this decoder, reported rather than thrown raw

/** The only exception {@link decodePacket} throws. `reason` names what and where. */
export class OscDecodeError extends Error {
  readonly code: OscDecodeErrorCode;
  /** Byte offset in the packet where the fault was found. */
  readonly offset: number;
  /** Human-readable, e.g. "at byte 12: blob of 300 bytes runs past the end of the packet (8 bytes left)". */
  readonly reason: string;

  constructor(code: OscDecodeErrorCode, offset: number, what: string) {
    const reason = `at byte ${offset}: ${what}`;
    super(`malformed OSC packet (${code}) ${reason}`);
    this.name = 'OscDecodeError';
    this.code = code;
    this.offset = offset;
    this.reason = reason;
  }
}

/** Thrown by the encoders for values that cannot be represented (a caller's bug, never network input). */
export class OscEncodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OscEncodeError';
  }
}

export type OscDecodeResult = { ok: true; packet: OscPacket } | { ok: false; error: OscDecodeError };

// ------------------------------------------------------------------ timetags

/** Seconds from the NTP epoch (1900-01-01) to the Unix epoch (1970-01-01). */
export const NTP_UNIX_OFFSET_SECONDS = 2_208_988_800;
const TWO_32 = 4_294_967_296;

/** The special timetag "immediately": 63 zero bits then a one. */
export const OSC_IMMEDIATE: Readonly<OscTimetag> = Object.freeze({ seconds: 0, fraction: 1 });

export function isImmediate(t: OscTimetag): boolean {
  return t.seconds === 0 && t.fraction === 1;
}

/**
 * Timetag → Unix epoch seconds (fractional), or undefined for "immediately".
 * Seconds with the top bit clear are NTP era 1 (2036-02-07 onward, RFC 4330 §3),
 * so the range is 1968-01-20 … 2104-02-26. Precision is that of a double, ≈ 0.5 µs.
 */
export function timetagToEpochSeconds(t: OscTimetag): number | undefined {
  if (isImmediate(t)) return undefined;
  const ntp = t.seconds >= 0x8000_0000 ? t.seconds : t.seconds + TWO_32;
  return ntp - NTP_UNIX_OFFSET_SECONDS + t.fraction / TWO_32;
}

/**
 * Unix epoch seconds → timetag (inverse of {@link timetagToEpochSeconds}).
 * Throws {@link OscEncodeError} outside 1968-01-20T03:14:08Z … 2104-02-26, the
 * range two NTP eras around now can carry. Never returns {@link OSC_IMMEDIATE}.
 */
export function epochSecondsToTimetag(epochSeconds: number): OscTimetag {
  const lo = 0x8000_0000 - NTP_UNIX_OFFSET_SECONDS; // era 0, top bit set
  const hi = 0x8000_0000 + TWO_32 - NTP_UNIX_OFFSET_SECONDS; // end of era 1's first half
  if (!Number.isFinite(epochSeconds) || epochSeconds < lo || epochSeconds >= hi) {
    throw new OscEncodeError(`epoch seconds ${epochSeconds} outside the timetag range [${lo}, ${hi})`);
  }
  let whole = Math.floor(epochSeconds);
  let fraction = Math.round((epochSeconds - whole) * TWO_32);
  if (fraction >= TWO_32) {
    whole += 1;
    fraction = 0;
  }
  const seconds = (whole + NTP_UNIX_OFFSET_SECONDS) % TWO_32;
  if (seconds === 0 && fraction === 1) fraction = 2; // 2036-02-07T06:28:16Z + 2^-32 s would read as "immediately"
  return { seconds, fraction };
}

// ------------------------------------------------------------------ decoding

const SLASH = 0x2f;
const HASH = 0x23;
const COMMA = 0x2c;
const BUNDLE_HEAD = [0x23, 0x62, 0x75, 0x6e, 0x64, 0x6c, 0x65, 0x00]; // "#bundle\0"

const utf8Decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const utf8Encoder = new TextEncoder();

function hexByte(b: number): string {
  return `0x${b.toString(16).padStart(2, '0')}`;
}

function describeByte(b: number): string {
  return b >= 0x21 && b <= 0x7e ? `'${String.fromCharCode(b)}' (${hexByte(b)})` : hexByte(b);
}

/** Round up to a multiple of 4. */
function pad4(n: number): number {
  return (n + 3) & ~3;
}

class Decoder {
  private readonly view: DataView;
  private messages = 0;

  constructor(
    private readonly bytes: Uint8Array,
    private readonly limits: OscLimits,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  fail(code: OscDecodeErrorCode, offset: number, what: string): never {
    throw new OscDecodeError(code, offset, what);
  }

  /** A packet occupying [start, end); `depth` is the number of enclosing bundles. */
  packet(start: number, end: number, depth: number): OscPacket {
    const length = end - start;
    if (length === 0) this.fail('truncated', start, 'empty packet (an OSC packet has at least 4 bytes)');
    if (length % 4 !== 0) this.fail('size', start, `packet length ${length} is not a multiple of 4`);
    const first = this.bytes[start]!;
    if (first === SLASH) return this.message(start, end);
    if (first === HASH) return this.bundle(start, end, depth + 1);
    return this.fail('address', start, `a packet must start with '/' (message) or '#bundle', found ${describeByte(first)}`);
  }

  private bundle(start: number, end: number, depth: number): OscBundle {
    if (end - start < 8) this.fail('truncated', start, `bundle header "#bundle" needs 8 bytes, ${end - start} left`);
    for (let k = 0; k < BUNDLE_HEAD.length; k++) {
      if (this.bytes[start + k] !== BUNDLE_HEAD[k]) {
        this.fail('bundle', start + k, `expected "#bundle" followed by NUL (a message address must start with '/')`);
      }
    }
    if (depth > this.limits.maxDepth) {
      this.fail('depth', start, `bundles nested ${depth} deep (limit ${this.limits.maxDepth})`);
    }
    if (end - start < 16) this.fail('truncated', start + 8, `bundle timetag needs 8 bytes, ${end - start - 8} left`);
    const timetag = { seconds: this.view.getUint32(start + 8), fraction: this.view.getUint32(start + 12) };
    const elements: OscPacket[] = [];
    let pos = start + 16;
    while (pos < end) {
      const left = end - pos - 4;
      if (left < 0) this.fail('truncated', pos, `bundle element size needs 4 bytes, ${end - pos} left`);
      const size = this.view.getInt32(pos);
      if (size <= 0) this.fail('size', pos, `bundle element size ${size} is not positive`);
      if (size % 4 !== 0) this.fail('size', pos, `bundle element size ${size} is not a multiple of 4`);
      if (size > left) this.fail('size', pos, `bundle element size ${size} exceeds the ${left} bytes left in the bundle`);
      elements.push(this.packet(pos + 4, pos + 4 + size, depth));
      pos += 4 + size;
    }
    return { timetag, elements };
  }

  /**
   * Finds the NUL ending the string at `pos`, checks length and padding, and
   * returns the index of the NUL and the offset after the padding.
   */
  private cstring(pos: number, end: number, maxBytes: number, what: string): { nul: number; next: number } {
    const limit = Math.min(end, pos + maxBytes + 1);
    let nul = pos;
    while (nul < limit && this.bytes[nul] !== 0) nul++;
    if (nul === limit) {
      if (limit === end) this.fail('string', pos, `${what} is not NUL-terminated before the end of the packet`);
      this.fail('limit', pos, `${what} longer than ${maxBytes} bytes`);
    }
    const next = pos + pad4(nul - pos + 1);
    if (next > end) this.fail('padding', nul + 1, `${what} padding runs past the end of the packet`);
    for (let k = nul + 1; k < next; k++) {
      if (this.bytes[k] !== 0) this.fail('padding', k, `${what} padding byte is ${hexByte(this.bytes[k]!)}, not NUL`);
    }
    return { nul, next };
  }

  private text(pos: number, nul: number, what: string): string {
    try {
      return utf8Decoder.decode(this.bytes.subarray(pos, nul));
    } catch {
      return this.fail('utf8', pos, `${what} is not valid UTF-8`);
    }
  }

  private message(start: number, end: number): OscMessage {
    if (++this.messages > this.limits.maxMessages) {
      this.fail('limit', start, `more than ${this.limits.maxMessages} messages in one packet`);
    }
    const addr = this.cstring(start, end, this.limits.maxAddressBytes, 'address');
    for (let k = start; k < addr.nul; k++) {
      const b = this.bytes[k]!;
      if (b < 0x20 || b === 0x7f) this.fail('address', k, `control character ${hexByte(b)} in the address`);
    }
    const address = this.text(start, addr.nul, 'address');
    if (addr.next === end) return { address, args: [] }; // OSC 1.0: older senders may omit the type-tag string
    if (this.bytes[addr.next] !== COMMA) {
      this.fail(
        'type-tags',
        addr.next,
        `type-tag string missing: expected ',' after the address, found ${describeByte(this.bytes[addr.next]!)}`,
      );
    }
    const tags = this.cstring(addr.next, end, this.limits.maxArgs + 1, 'type-tag string');
    const args = this.args(addr.next + 1, tags.nul, tags.next, end);
    return { address, args };
  }

  private need(pos: number, end: number, n: number, what: string): void {
    if (end - pos < n) this.fail('truncated', pos, `${what} needs ${n} bytes, ${end - pos} left`);
  }

  /** Arguments for the type tags in [tagStart, tagEnd), data from `pos` to exactly `end`. */
  private args(tagStart: number, tagEnd: number, pos: number, end: number): OscArg[] {
    const { bytes, view } = this;
    const top: OscArg[] = [];
    const stack: OscArg[][] = [top];
    let current = top;
    for (let t = tagStart; t < tagEnd; t++) {
      const tag = bytes[t]!;
      switch (tag) {
        case 0x69: // i
          this.need(pos, end, 4, "'i' argument");
          current.push({ type: 'i', value: view.getInt32(pos) });
          pos += 4;
          break;
        case 0x66: // f
          this.need(pos, end, 4, "'f' argument");
          current.push({ type: 'f', value: view.getFloat32(pos) });
          pos += 4;
          break;
        case 0x73: // s
        case 0x53: {
          // S
          const what = tag === 0x73 ? "'s' argument" : "'S' argument";
          const s = this.cstring(pos, end, this.limits.maxStringBytes, what);
          current.push({ type: tag === 0x73 ? 's' : 'S', value: this.text(pos, s.nul, what) });
          pos = s.next;
          break;
        }
        case 0x62: {
          // b
          this.need(pos, end, 4, "'b' argument size");
          const size = view.getInt32(pos);
          if (size < 0) this.fail('size', pos, `blob size ${size} is negative`);
          if (size > this.limits.maxBlobBytes) this.fail('limit', pos, `blob of ${size} bytes (limit ${this.limits.maxBlobBytes})`);
          const left = end - pos - 4;
          if (pad4(size) > left) {
            this.fail('size', pos, `blob of ${size} bytes (${pad4(size)} padded) runs past the end of the packet (${left} bytes left)`);
          }
          for (let k = pos + 4 + size; k < pos + 4 + pad4(size); k++) {
            if (bytes[k] !== 0) this.fail('padding', k, `blob padding byte is ${hexByte(bytes[k]!)}, not NUL`);
          }
          current.push({ type: 'b', value: bytes.slice(pos + 4, pos + 4 + size) });
          pos += 4 + pad4(size);
          break;
        }
        case 0x68: // h
          this.need(pos, end, 8, "'h' argument");
          current.push({ type: 'h', value: view.getBigInt64(pos) });
          pos += 8;
          break;
        case 0x74: // t
          this.need(pos, end, 8, "'t' argument");
          current.push({ type: 't', value: { seconds: view.getUint32(pos), fraction: view.getUint32(pos + 4) } });
          pos += 8;
          break;
        case 0x64: // d
          this.need(pos, end, 8, "'d' argument");
          current.push({ type: 'd', value: view.getFloat64(pos) });
          pos += 8;
          break;
        case 0x63: {
          // c
          this.need(pos, end, 4, "'c' argument");
          const code = view.getInt32(pos);
          if (code < 0 || code > 0x10ffff) this.fail('value', pos, `'c' argument ${code} is not a character code`);
          current.push({ type: 'c', value: String.fromCodePoint(code) });
          pos += 4;
          break;
        }
        case 0x72: // r
          this.need(pos, end, 4, "'r' argument");
          current.push({ type: 'r', value: { r: bytes[pos]!, g: bytes[pos + 1]!, b: bytes[pos + 2]!, a: bytes[pos + 3]! } });
          pos += 4;
          break;
        case 0x6d: // m
          this.need(pos, end, 4, "'m' argument");
          current.push({
            type: 'm',
            value: { port: bytes[pos]!, status: bytes[pos + 1]!, data1: bytes[pos + 2]!, data2: bytes[pos + 3]! },
          });
          pos += 4;
          break;
        case 0x54: // T
          current.push({ type: 'T', value: true });
          break;
        case 0x46: // F
          current.push({ type: 'F', value: false });
          break;
        case 0x4e: // N
          current.push({ type: 'N', value: null });
          break;
        case 0x49: // I
          current.push({ type: 'I', value: Infinity });
          break;
        case 0x5b: {
          // [
          if (stack.length > this.limits.maxDepth) {
            this.fail('depth', t, `arrays nested ${stack.length} deep (limit ${this.limits.maxDepth})`);
          }
          const items: OscArg[] = [];
          current.push({ type: '[', value: items });
          stack.push(items);
          current = items;
          break;
        }
        case 0x5d: // ]
          if (stack.length === 1) this.fail('array', t, "']' without a matching '['");
          stack.pop();
          current = stack[stack.length - 1]!;
          break;
        default:
          this.fail('unknown-tag', t, `unknown type tag ${describeByte(tag)}`);
      }
    }
    if (stack.length > 1) this.fail('array', tagEnd, `${stack.length - 1} '[' not closed by ']'`);
    if (pos !== end) this.fail('size', pos, `${end - pos} bytes left over after the last argument`);
    return top;
  }
}

/**
 * Decodes one OSC packet (a message or a bundle) from bytes received whole,
 * e.g. one UDP datagram. Throws {@link OscDecodeError} and nothing else.
 *
 * @example decodePacket(bytes) // { address: '/oscillator/4/frequency', args: [{ type: 'f', value: 440 }] }
 */
export function decodePacket(bytes: Uint8Array, limits?: Partial<OscLimits>): OscPacket {
  const result = tryDecodePacket(bytes, limits);
  if (!result.ok) throw result.error;
  return result.packet;
}

/** Like {@link decodePacket}, returning a result instead of throwing. Never throws. */
export function tryDecodePacket(bytes: Uint8Array, limits?: Partial<OscLimits>): OscDecodeResult {
  try {
    const lim = resolveOscLimits(limits);
    if (!(bytes instanceof Uint8Array)) {
      return { ok: false, error: new OscDecodeError('internal', 0, 'input is not a Uint8Array') };
    }
    if (bytes.byteLength > lim.maxPacketBytes) {
      return {
        ok: false,
        error: new OscDecodeError('oversize', 0, `packet of ${bytes.byteLength} bytes (limit ${lim.maxPacketBytes})`),
      };
    }
    return { ok: true, packet: new Decoder(bytes, lim).packet(0, bytes.byteLength, 0) };
  } catch (e) {
    if (e instanceof OscDecodeError) return { ok: false, error: e };
    // Not expected: every fault above is checked. Reported as data so no caller sees another type.
    const text = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    return { ok: false, error: new OscDecodeError('internal', 0, `decoder fault: ${text}`) };
  }
}

// ------------------------------------------------------------------ encoding

/** A growable byte buffer for big-endian writes. */
class Writer {
  private buf = new Uint8Array(256);
  private view = new DataView(this.buf.buffer);
  length = 0;

  private reserve(n: number): number {
    const at = this.length;
    if (at + n > this.buf.length) {
      const bigger = new Uint8Array(Math.max(this.buf.length * 2, at + n));
      bigger.set(this.buf.subarray(0, at));
      this.buf = bigger;
      this.view = new DataView(bigger.buffer);
    }
    this.length += n;
    return at;
  }

  i32(v: number): void {
    const at = this.reserve(4);
    this.view.setInt32(at, v);
  }
  u32(v: number): void {
    const at = this.reserve(4);
    this.view.setUint32(at, v);
  }
  f32(v: number): void {
    const at = this.reserve(4);
    this.view.setFloat32(at, v);
  }
  f64(v: number): void {
    const at = this.reserve(8);
    this.view.setFloat64(at, v);
  }
  i64(v: bigint): void {
    const at = this.reserve(8);
    this.view.setBigInt64(at, v);
  }
  u8x4(a: number, b: number, c: number, d: number): void {
    const at = this.reserve(4);
    this.buf[at] = a;
    this.buf[at + 1] = b;
    this.buf[at + 2] = c;
    this.buf[at + 3] = d;
  }
  /** Bytes then NUL padding to a multiple of 4; `nul` adds at least one NUL (OSC strings). */
  padded(bytes: Uint8Array, nul: boolean): void {
    const total = pad4(bytes.length + (nul ? 1 : 0));
    const at = this.reserve(total);
    this.buf.set(bytes, at);
    this.buf.fill(0, at + bytes.length, at + total);
  }
  setI32At(at: number, v: number): void {
    this.view.setInt32(at, v);
  }
  result(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

function isByte(v: unknown): boolean {
  return Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 255;
}

function isUint32(v: unknown): boolean {
  return Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 0xffff_ffff;
}

/** The one value each data-less tag carries. */
const UNIT_VALUES = { T: true, F: false, N: null, I: Infinity } as const;

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

function stringBytes(s: unknown, what: string): Uint8Array {
  if (typeof s !== 'string') throw new OscEncodeError(`${what}: expected a string, got ${typeof s}`);
  if (s.includes('\0')) throw new OscEncodeError(`${what}: contains NUL, which would end the OSC string early`);
  return utf8Encoder.encode(s);
}

function checkTimetag(t: unknown, what: string): OscTimetag {
  const tt = t as OscTimetag;
  if (typeof tt !== 'object' || tt === null || !isUint32(tt.seconds) || !isUint32(tt.fraction)) {
    throw new OscEncodeError(`${what}: a timetag is { seconds, fraction }, each an integer 0..2^32-1`);
  }
  return tt;
}

/** Type tags (into `tags`) and data (into `data`) for a list of arguments. */
function encodeArgs(args: readonly OscArg[], tags: string[], data: Writer, path: string): void {
  if (!Array.isArray(args)) throw new OscEncodeError(`${path}: expected an array of arguments`);
  args.forEach((arg, index) => {
    const what = `${path}[${index}]`;
    const v: unknown = arg?.value;
    switch (arg?.type) {
      case 'i':
        if (!Number.isInteger(v) || (v as number) < -0x8000_0000 || (v as number) > 0x7fff_ffff) {
          throw new OscEncodeError(`${what}: 'i' needs an int32, got ${String(v)}`);
        }
        data.i32(v as number);
        break;
      case 'f':
      case 'd':
        if (typeof v !== 'number') throw new OscEncodeError(`${what}: '${arg.type}' needs a number, got ${typeof v}`);
        if (arg.type === 'f') data.f32(v);
        else data.f64(v);
        break;
      case 's':
      case 'S':
        data.padded(stringBytes(v, what), true);
        break;
      case 'b':
        if (!(v instanceof Uint8Array)) throw new OscEncodeError(`${what}: 'b' needs a Uint8Array`);
        if (v.length > 0x7fff_ffff) throw new OscEncodeError(`${what}: blob too large`);
        data.i32(v.length);
        data.padded(v, false);
        break;
      case 'h':
        if (typeof v !== 'bigint' || v < INT64_MIN || v > INT64_MAX) {
          throw new OscEncodeError(`${what}: 'h' needs a bigint in the int64 range, got ${String(v)}`);
        }
        data.i64(v);
        break;
      case 't': {
        const t = checkTimetag(v, what);
        data.u32(t.seconds);
        data.u32(t.fraction);
        break;
      }
      case 'c': {
        if (typeof v !== 'string' || [...v].length !== 1) {
          throw new OscEncodeError(`${what}: 'c' needs a string of exactly one character, got ${JSON.stringify(v)}`);
        }
        data.i32(v.codePointAt(0)!);
        break;
      }
      case 'r': {
        const c = v as OscColor;
        if (typeof c !== 'object' || c === null || ![c.r, c.g, c.b, c.a].every(isByte)) {
          throw new OscEncodeError(`${what}: 'r' needs { r, g, b, a }, each an integer 0..255`);
        }
        data.u8x4(c.r, c.g, c.b, c.a);
        break;
      }
      case 'm': {
        const m = v as OscMidi;
        if (typeof m !== 'object' || m === null || ![m.port, m.status, m.data1, m.data2].every(isByte)) {
          throw new OscEncodeError(`${what}: 'm' needs { port, status, data1, data2 }, each an integer 0..255`);
        }
        data.u8x4(m.port, m.status, m.data1, m.data2);
        break;
      }
      case 'T':
      case 'F':
      case 'N':
      case 'I': {
        const expected = UNIT_VALUES[arg.type as keyof typeof UNIT_VALUES];
        if (v !== expected) throw new OscEncodeError(`${what}: '${arg.type}' carries the value ${String(expected)}, got ${String(v)}`);
        break;
      }
      case '[':
        tags.push('[');
        encodeArgs(v as OscArg[], tags, data, `${what}.value`);
        tags.push(']');
        return;
      default:
        throw new OscEncodeError(`${what}: unknown argument type ${JSON.stringify((arg as { type?: unknown })?.type)}`);
    }
    tags.push(arg.type);
  });
}

function writeMessage(msg: OscMessage, out: Writer): void {
  const { address } = msg;
  if (typeof address !== 'string' || !address.startsWith('/')) {
    throw new OscEncodeError(`address must be a string starting with '/', got ${JSON.stringify(address)}`);
  }
  for (let k = 0; k < address.length; k++) {
    const c = address.charCodeAt(k);
    if (c < 0x20 || c === 0x7f) throw new OscEncodeError(`address ${JSON.stringify(address)} contains a control character`);
  }
  const tags = [','];
  const data = new Writer();
  encodeArgs(msg.args ?? [], tags, data, 'args');
  out.padded(utf8Encoder.encode(address), true);
  out.padded(utf8Encoder.encode(tags.join('')), true);
  out.padded(data.result(), false);
}

function writePacket(packet: OscPacket, out: Writer): void {
  if (typeof packet !== 'object' || packet === null) throw new OscEncodeError('a packet is a message or a bundle object');
  if (!isOscBundle(packet)) {
    writeMessage(packet, out);
    return;
  }
  const t = checkTimetag(packet.timetag, 'bundle timetag');
  if (!Array.isArray(packet.elements)) throw new OscEncodeError('bundle elements must be an array');
  out.padded(new Uint8Array(BUNDLE_HEAD), false);
  out.u32(t.seconds);
  out.u32(t.fraction);
  for (const element of packet.elements) {
    const sizeAt = out.length;
    out.i32(0);
    writePacket(element, out);
    out.setI32At(sizeAt, out.length - sizeAt - 4);
  }
}

/** Encodes a message: address, type-tag string, arguments, each 4-byte aligned. Throws {@link OscEncodeError}. */
export function encodeMessage(message: OscMessage): Uint8Array {
  const out = new Writer();
  writeMessage(message, out);
  return out.result();
}

/** Encodes a bundle: "#bundle", timetag, then each element prefixed by its int32 size. Throws {@link OscEncodeError}. */
export function encodeBundle(bundle: OscBundle): Uint8Array {
  const out = new Writer();
  writePacket(bundle, out);
  return out.result();
}

/** Encodes a message or a bundle. Throws {@link OscEncodeError}. */
export function encodePacket(packet: OscPacket): Uint8Array {
  const out = new Writer();
  writePacket(packet, out);
  return out.result();
}
