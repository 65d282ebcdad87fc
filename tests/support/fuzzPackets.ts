/**
 * Test support: seeded generators of valid and malformed
 * OSC packets, shared by the codec tests and the UDP fuzz test. Every malformed
 * packet is malformed by construction, and tagged with the decode error code
 * the decoder must report for it (codec.test.ts checks that it does).
 */
import { encodePacket, type OscArg, type OscDecodeErrorCode, type OscMessage, type OscPacket } from '../../src/engine/core/osc/codec.ts';

/** A uniform generator on [0, 1), e.g. mulberry32(seed). */
export type Rng = () => number;

export interface MalformedPacket {
  kind: string;
  bytes: Uint8Array;
  /** The code the decoder must report (with the limits in {@link FUZZ_LIMITS}). */
  code: OscDecodeErrorCode;
}

/** Limits the generators assume: small enough that "huge" and "oversize" fit in a UDP datagram. */
export const FUZZ_LIMITS = { maxPacketBytes: 16384, maxBlobBytes: 4096, maxDepth: 8, maxArgs: 64 } as const;

const enc = new TextEncoder();

function int(rng: Rng, lo: number, hi: number): number {
  return lo + Math.floor(rng() * (hi - lo + 1));
}

function pick<T>(rng: Rng, items: readonly T[]): T {
  return items[Math.floor(rng() * items.length)]!;
}

/** Concatenates byte arrays. */
export function cat(...parts: (Uint8Array | number[])[]): Uint8Array {
  const total = parts.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** An OSC string: UTF-8, NUL, NUL padding to a multiple of 4. */
export function oscString(s: string): Uint8Array {
  const b = enc.encode(s);
  const out = new Uint8Array((b.length + 4) & ~3);
  out.set(b);
  return out;
}

/** Big-endian int32. */
export function i32(v: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setInt32(0, v);
  return out;
}

/** Big-endian uint32 pair (a timetag). */
export function timetagBytes(seconds: number, fraction: number): Uint8Array {
  const out = new Uint8Array(8);
  const v = new DataView(out.buffer);
  v.setUint32(0, seconds);
  v.setUint32(4, fraction);
  return out;
}

/** "#bundle\0" + timetag + size-prefixed elements (sizes given explicitly when lying). */
export function rawBundle(seconds: number, fraction: number, elements: Uint8Array[], sizes?: number[]): Uint8Array {
  return cat(
    oscString('#bundle'),
    timetagBytes(seconds, fraction),
    ...elements.flatMap((e, k) => [i32(sizes?.[k] ?? e.length), e]),
  );
}

function asciiWord(rng: Rng, min = 1, max = 8): string {
  let s = '';
  const n = int(rng, min, max);
  for (let k = 0; k < n; k++) s += String.fromCharCode(int(rng, 0x61, 0x7a));
  return s;
}

/** A random argument of any type (arrays nest up to `depth`). */
export function randomArg(rng: Rng, depth = 2): OscArg {
  const types = depth > 0 ? 'ifsbhtdScrmTFNI[' : 'ifsbhtdScrmTFNI';
  const type = pick(rng, [...types]);
  switch (type) {
    case 'i':
      return { type, value: int(rng, -0x8000_0000, 0x7fff_ffff) };
    case 'f':
      return { type, value: Math.fround((rng() - 0.5) * 2000) };
    case 's':
      return { type, value: rng() < 0.2 ? 'héllo ✓' : asciiWord(rng, 0, 12) };
    case 'b':
      return { type, value: Uint8Array.from({ length: int(rng, 0, 9) }, () => int(rng, 0, 255)) };
    case 'h':
      return { type, value: BigInt(int(rng, -1e9, 1e9)) * 8_589_934_592n + BigInt(int(rng, 0, 1e6)) };
    case 't':
      return { type, value: { seconds: int(rng, 0, 0xffff_ffff), fraction: int(rng, 0, 0xffff_ffff) } };
    case 'd':
      return { type, value: (rng() - 0.5) * 1e9 };
    case 'S':
      return { type, value: asciiWord(rng) };
    case 'c':
      return { type, value: String.fromCharCode(int(rng, 0x20, 0x7e)) };
    case 'r':
      return { type, value: { r: int(rng, 0, 255), g: int(rng, 0, 255), b: int(rng, 0, 255), a: int(rng, 0, 255) } };
    case 'm':
      return { type, value: { port: int(rng, 0, 255), status: int(rng, 0x80, 0xff), data1: int(rng, 0, 127), data2: int(rng, 0, 127) } };
    case 'T':
      return { type, value: true };
    case 'F':
      return { type, value: false };
    case 'N':
      return { type, value: null };
    case 'I':
      return { type, value: Infinity };
    default:
      return { type: '[', value: Array.from({ length: int(rng, 0, 3) }, () => randomArg(rng, depth - 1)) };
  }
}

/** A valid message at `/valid/<id>` carrying `id` as its first argument, then random arguments. */
export function validMessage(rng: Rng, id: number): OscMessage {
  return {
    address: `/valid/${id}`,
    args: [{ type: 'i', value: id }, ...Array.from({ length: int(rng, 0, 6) }, () => randomArg(rng))],
  };
}

/** A valid packet: usually a message, sometimes wrapped in nested bundles. */
export function validPacket(rng: Rng, id: number): OscPacket {
  const msg = validMessage(rng, id);
  return rng() < 0.7 ? msg : { timetag: { seconds: 0, fraction: 1 }, elements: [msg] };
}

function validBytes(rng: Rng): Uint8Array {
  return encodePacket({ address: `/m/${asciiWord(rng)}`, args: Array.from({ length: int(rng, 1, 5) }, () => randomArg(rng, 1)) });
}

/** Generators of malformed packets, one per kind of fault. */
const MALFORMED: Record<string, (rng: Rng) => { bytes: Uint8Array; code: OscDecodeErrorCode }> = {
  'length not a multiple of 4': (rng) => {
    const b = validBytes(rng);
    return { bytes: b.subarray(0, b.length - int(rng, 1, 3)), code: 'size' };
  },
  'truncated argument data': () => ({
    bytes: cat(oscString('/t'), oscString(',ihd'), i32(1)), // 'h' needs 8 bytes, none left
    code: 'truncated',
  }),
  'truncated string argument': (rng) => ({
    bytes: cat(oscString('/t'), oscString(',s'), enc.encode('abcd'.slice(0, 4)), rng() < 0.5 ? [] : enc.encode('efgh')),
    code: 'string',
  }),
  'unterminated address': (rng) => ({ bytes: enc.encode('/abc'.padEnd(4 * int(rng, 1, 4), 'x')), code: 'string' }),
  'bad address padding': (rng) => {
    const address = pick(rng, ['/a', '/abcde', '/ab/cdef/g']); // each leaves at least one padding byte
    const bytes = cat(oscString(address), oscString(',i'), i32(7));
    bytes[address.length + 1] = int(rng, 1, 255);
    return { bytes, code: 'padding' };
  },
  'bad string argument padding': (rng) => {
    const bytes = cat(oscString('/p'), oscString(',s'), oscString('hi'));
    bytes[8 + 3] = int(rng, 1, 255);
    return { bytes, code: 'padding' };
  },
  'type-tag string missing, data follows': (rng) => ({ bytes: cat(oscString('/n'), i32(int(rng, 1, 1000))), code: 'type-tags' }),
  'unknown type tag': (rng) => ({
    bytes: cat(oscString('/u'), oscString(`,i${pick(rng, [...'aegjklnopquvwxyzAGJ?!0'])}`), i32(1), i32(2)),
    code: 'unknown-tag',
  }),
  'blob larger than the packet': (rng) => ({
    bytes: cat(oscString('/b'), oscString(',b'), i32(int(rng, 9, FUZZ_LIMITS.maxBlobBytes)), [1, 2, 3, 4, 5, 6, 7, 8]),
    code: 'size',
  }),
  'huge blob size': (rng) => ({
    bytes: cat(oscString('/b'), oscString(',b'), i32(int(rng, FUZZ_LIMITS.maxBlobBytes + 1, 0x7fff_ffff)), [1, 2, 3, 4]),
    code: 'limit',
  }),
  'negative blob size': (rng) => ({ bytes: cat(oscString('/b'), oscString(',b'), i32(-int(rng, 1, 0x7fff_ffff)), [0, 0, 0, 0]), code: 'size' }),
  'bundle element size larger than the bundle': (rng) => {
    const m = validBytes(rng);
    return { bytes: rawBundle(0, 1, [m], [m.length + 4 * int(rng, 1, 100)]), code: 'size' };
  },
  'bundle element size not a multiple of 4': (rng) => {
    const m = validBytes(rng);
    return { bytes: rawBundle(0, 1, [m], [m.length - int(rng, 1, 3)]), code: 'size' };
  },
  'bundle element size zero or negative': (rng) => ({
    bytes: rawBundle(0, 1, [validBytes(rng)], [-4 * int(rng, 0, 1000)]),
    code: 'size',
  }),
  'bundles nested too deep': (rng) => {
    let p = validBytes(rng);
    const depth = int(rng, FUZZ_LIMITS.maxDepth + 1, 40);
    for (let k = 0; k < depth; k++) p = rawBundle(0, 1, [p]);
    return { bytes: p, code: 'depth' };
  },
  'bad bundle header': (rng) => {
    const b = rawBundle(0, 1, [validBytes(rng)]);
    const at = int(rng, 1, 7);
    b[at] = b[at]! ^ int(rng, 1, 255);
    return { bytes: b, code: 'bundle' };
  },
  'not a message nor a bundle': (rng) => {
    const b = validBytes(rng);
    b[0] = pick(rng, [0, 0x20, 0x41, 0x61, 0x7f, 0xff, 0x2e]);
    return { bytes: b, code: 'address' };
  },
  'unbalanced array': (rng) => ({
    bytes: rng() < 0.5 ? cat(oscString('/a'), oscString(',[i'), i32(1)) : cat(oscString('/a'), oscString(',i]'), i32(1)),
    code: 'array',
  }),
  'arrays nested too deep': (rng) => {
    const depth = int(rng, FUZZ_LIMITS.maxDepth + 1, 30);
    return { bytes: cat(oscString('/a'), oscString(`,${'['.repeat(depth)}${']'.repeat(depth)}`)), code: 'depth' };
  },
  'too many arguments': (rng) => ({ bytes: cat(oscString('/a'), oscString(`,${'T'.repeat(int(rng, FUZZ_LIMITS.maxArgs + 1, 300))}`)), code: 'limit' }),
  'bytes left over after the arguments': (rng) => ({ bytes: cat(oscString('/a'), oscString(',i'), i32(1), i32(int(rng, 0, 9))), code: 'size' }),
  'invalid UTF-8 string': () => ({ bytes: cat(oscString('/a'), oscString(',s'), [0xc3, 0x28, 0, 0]), code: 'utf8' }),
  'control character in the address': (rng) => ({ bytes: cat(oscString(`/a${String.fromCharCode(int(rng, 1, 31))}b`), oscString(',')), code: 'address' }),
  'character tag out of range': () => ({ bytes: cat(oscString('/c'), oscString(',c'), i32(0x11_0000)), code: 'value' }),
  'empty packet': () => ({ bytes: new Uint8Array(0), code: 'truncated' }),
};

/** The names of all malformed kinds. */
export const MALFORMED_KINDS = Object.keys(MALFORMED);

/** One malformed packet of a random (or the given) kind. */
export function malformedPacket(rng: Rng, kind = pick(rng, MALFORMED_KINDS)): MalformedPacket {
  const make = MALFORMED[kind];
  if (!make) throw new Error(`unknown malformed kind ${kind}`);
  return { kind, ...make(rng) };
}

/** A packet over {@link FUZZ_LIMITS}.maxPacketBytes (a valid message with a big blob). */
export function oversizePacket(rng: Rng): Uint8Array {
  const size = FUZZ_LIMITS.maxPacketBytes + int(rng, 1, 4000);
  return encodePacket({ address: '/big', args: [{ type: 'b', value: new Uint8Array(size) }] });
}

/**
 * A valid packet with random bytes flipped, cut or inserted. It may or may not
 * still decode: callers classify it with tryDecodePacket.
 */
export function mutatedPacket(rng: Rng): Uint8Array {
  const b = Array.from(rng() < 0.3 ? rawBundle(0, 1, [validBytes(rng), validBytes(rng)]) : validBytes(rng));
  const edits = int(rng, 1, 4);
  for (let k = 0; k < edits; k++) {
    const at = int(rng, 0, b.length - 1);
    const op = rng();
    if (op < 0.6) b[at] = int(rng, 0, 255);
    else if (op < 0.8) b.splice(at, int(rng, 1, 8));
    else b.splice(at, 0, ...Array.from({ length: int(rng, 1, 8) }, () => int(rng, 0, 255)));
  }
  return Uint8Array.from(b);
}

/** Valid OSC whose address is a pathological or malformed pattern: decodes fine, must match nothing. */
export function pathologicalPatternPacket(rng: Rng): Uint8Array {
  const address = pick(rng, [
    '/[',
    '/{a',
    '/a]',
    '/[z-a]',
    '/{a,{b}}',
    `/${'*'.repeat(int(rng, 100, 1000))}x`,
    `/${'*?'.repeat(int(rng, 50, 400))}`,
    `/${'{a,b,c,aa,ab}'.repeat(int(rng, 20, 60))}z`,
    `/${'[!a]*'.repeat(int(rng, 20, 100))}/${'*'.repeat(200)}`,
  ]);
  return encodePacket({ address, args: [{ type: 'i', value: 0 }] });
}
