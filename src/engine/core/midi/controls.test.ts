import { describe, expect, it } from 'vitest';
import { ControlPairs, encodeControl, type ControlValue } from './controls.ts';
import { MidiParser } from './parser.ts';

/** Channel 0 controller 1 and channel 2 controller 7 are 14-bit pairs. */
const pairs = () => new ControlPairs((ch, msb) => (ch === 0 && msb === 1) || (ch === 2 && msb === 7), { pairWindow: 0.01 });
const brief = (vs: ControlValue[]) => vs.map((v) => [v.channel, v.controller, v.raw, v.bits]);

describe('ControlPairs', () => {
  it('passes 7-bit controllers through at once, normalised to 0…1', () => {
    const p = pairs();
    const out = p.push(0, 74, 127, 0);
    expect(out).toStrictEqual([{ channel: 0, controller: 74, raw: 127, bits: 7, value: 1, time: 0 }]);
    expect(p.push(0, 74, 0, 0)[0]!.value).toBe(0);
    // CC 33 on a channel where 1 is not a pair is an ordinary 7-bit knob
    expect(brief(p.push(1, 33, 5, 0))).toStrictEqual([[1, 33, 5, 7]]);
  });

  it('reports an MSB + LSB pair once, as one 14-bit value', () => {
    const p = pairs();
    expect(p.push(0, 1, 0x40, 0)).toStrictEqual([]);
    const out = p.push(0, 33, 0x05, 0.001);
    expect(brief(out)).toStrictEqual([[0, 1, (0x40 << 7) | 5, 14]]);
    expect(out[0]!.value).toBeCloseTo(((0x40 << 7) | 5) / 16383, 12);
  });

  it('takes a fine adjustment (LSB alone) against the last MSB', () => {
    const p = pairs();
    p.push(0, 1, 10, 0);
    p.push(0, 33, 0, 0);
    expect(brief(p.push(0, 33, 100, 1))).toStrictEqual([[0, 1, (10 << 7) | 100, 14]]);
    expect(brief(p.push(0, 33, 101, 2))).toStrictEqual([[0, 1, (10 << 7) | 101, 14]]);
  });

  it('reports an MSB whose LSB never comes with LSB 0, after the pair window', () => {
    const p = pairs();
    p.push(0, 1, 20, 0);
    p.push(0, 33, 50, 0);
    expect(p.push(0, 1, 21, 1)).toStrictEqual([]);
    expect(p.flush(1.005)).toStrictEqual([]);
    expect(brief(p.flush(1.01))).toStrictEqual([[0, 1, 21 << 7, 14]]);
    expect(p.flush(2)).toStrictEqual([]); // reported once
  });

  it('a second MSB before the LSB reports the first with LSB 0', () => {
    const p = pairs();
    p.push(0, 1, 20, 0);
    expect(brief(p.push(0, 1, 21, 0.001))).toStrictEqual([[0, 1, 20 << 7, 14]]);
    expect(brief(p.push(0, 33, 7, 0.002))).toStrictEqual([[0, 1, (21 << 7) | 7, 14]]);
  });

  it('keeps pairs apart by channel, and other controllers between MSB and LSB do not break a pair', () => {
    const p = pairs();
    expect(p.push(2, 7, 100, 0)).toStrictEqual([]);
    expect(brief(p.push(2, 10, 64, 0))).toStrictEqual([[2, 10, 64, 7]]);
    expect(p.push(0, 1, 3, 0)).toStrictEqual([]);
    expect(brief(p.push(2, 39, 1, 0))).toStrictEqual([[2, 7, (100 << 7) | 1, 14]]);
    expect(brief(p.push(0, 33, 2, 0))).toStrictEqual([[0, 1, (3 << 7) | 2, 14]]);
    // channel 0 controller 7 is not a pair: 7-bit
    expect(brief(p.push(0, 7, 9, 0))).toStrictEqual([[0, 7, 9, 7]]);
  });

  it('counts an LSB with no MSB ever seen and reads it against MSB 0', () => {
    const p = pairs();
    expect(brief(p.push(0, 33, 9, 0))).toStrictEqual([[0, 1, 9, 14]]);
    expect(p.orphanLsb).toBe(1);
  });

  it('reads pairs from a byte stream with running status', () => {
    const parser = new MidiParser();
    const p = pairs();
    const got: ControlValue[] = [];
    // B0 01 40 21 05 (running status) 01 41 21 06
    parser.push([0xb0, 0x01, 0x40, 0x21, 0x05, 0x01, 0x41, 0x21, 0x06], (m) => {
      if (m.type === 'cc') got.push(...p.push(m.channel, m.controller, m.value, 0));
    });
    expect(got.map((v) => v.raw)).toStrictEqual([(0x40 << 7) | 5, (0x41 << 7) | 6]);
  });
});

describe('encodeControl', () => {
  it('7-bit: one message when the value changes, none when it does not', () => {
    expect(encodeControl(0, 20, 0.5, 7)).toStrictEqual({ raw: 64, messages: [[0xb0, 20, 64]] });
    expect(encodeControl(0, 20, 0.5, 7, 64)).toStrictEqual({ raw: 64, messages: [] });
    expect(encodeControl(3, 20, 2, 7, 64)).toStrictEqual({ raw: 127, messages: [[0xb3, 20, 127]] });
    expect(encodeControl(3, 20, NaN, 7).raw).toBe(0);
  });

  it('14-bit: MSB then LSB when the MSB changes, the LSB alone when only it changes', () => {
    const a = encodeControl(1, 1, 0.5, 14);
    expect(a.raw).toBe(8192);
    expect(a.messages).toStrictEqual([
      [0xb1, 1, 64],
      [0xb1, 33, 0],
    ]);
    const b = encodeControl(1, 1, 8200 / 16383, 14, a.raw);
    expect(b.messages).toStrictEqual([[0xb1, 33, 8]]);
    expect(encodeControl(1, 1, 8200 / 16383, 14, b.raw).messages).toStrictEqual([]);
    expect(encodeControl(1, 1, 1, 14, b.raw).messages).toStrictEqual([
      [0xb1, 1, 127],
      [0xb1, 33, 127],
    ]);
  });

  it('round-trips through ControlPairs at full 14-bit resolution', () => {
    const p = new ControlPairs(() => true);
    let prev: number | undefined;
    for (const raw of [0, 1, 127, 128, 8191, 8192, 16382, 16383, 5000, 5001]) {
      const enc = encodeControl(4, 12, raw / 16383, 14, prev);
      prev = enc.raw;
      const got = enc.messages.flatMap((m) => p.push(m[0]! & 15, m[1]!, m[2]!, 0));
      expect(got.map((g) => [g.channel, g.controller, g.raw])).toStrictEqual([[4, 12, raw]]);
    }
  });
});
