import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decodeArtDmx, decodeSacn, encodeArtDmx, encodeSacn, LightingRig, parseFlashTrigger, sacnMulticastAddress } from './lighting.ts';

describe('ArtDmx', () => {
  it('encodes the Art-Net 4 header byte for byte', () => {
    const p = encodeArtDmx(0x1234 & 0x7fff, 7, new Uint8Array([255, 128, 1]));
    expect([...p.slice(0, 18)]).toEqual([0x41, 0x72, 0x74, 0x2d, 0x4e, 0x65, 0x74, 0x00, 0x00, 0x50, 0, 14, 7, 0, 0x34, 0x12, 0, 4]);
    expect([...p.slice(18)]).toEqual([255, 128, 1, 0]); // padded to an even length
  });

  it('round-trips any universe, sequence and data', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 32767 }), fc.integer({ min: 0, max: 255 }), fc.uint8Array({ minLength: 0, maxLength: 512 }), (u, seq, data) => {
        const d = decodeArtDmx(encodeArtDmx(u, seq, data));
        if (typeof d === 'string') return false;
        return d.universe === u && d.sequence === seq && d.data.length === Math.max(2, data.length + (data.length % 2)) && data.every((b, i) => d.data[i] === b);
      }),
    );
  });

  it('rejects what is not a valid ArtDmx packet', () => {
    expect(decodeArtDmx(new Uint8Array(10))).toMatch(/shorter than an ArtDmx header/);
    const p = encodeArtDmx(1, 1, new Uint8Array(8));
    const poll = p.slice();
    poll[9] = 0x20;
    expect(decodeArtDmx(poll)).toBe('OpCode 0x2000 is not ArtDmx');
    expect(decodeArtDmx(p.slice(0, 22))).toBe('DMX length 8 runs past the packet (22 bytes)');
    expect(() => encodeArtDmx(40000, 1, new Uint8Array(2))).toThrow(/universe 40000/);
    expect(() => encodeArtDmx(0, 1, new Uint8Array(513))).toThrow(/at most 512/);
  });
});

describe('parseFlashTrigger', () => {
  it.each([
    ['note', { kind: 'note' }],
    ['note:bells', { kind: 'note', voice: 'bells' }],
    ['beat', { kind: 'beat' }],
    ['bar', { kind: 'bar' }],
    ['threshold:gale', { kind: 'threshold', signal: 'gale' }],
    ['scene', { kind: 'scene' }],
    ['scene:storm', { kind: 'scene', scene: 'storm' }],
  ])('%s', (text, want) => expect(parseFlashTrigger(text)).toEqual(want));

  it.each(['threshold', 'beat:x', 'strobe', 'note:a:b'])('rejects %s', (text) => expect(typeof parseFlashTrigger(text)).toBe('string'));
});

describe('LightingRig', () => {
  it('a channel fades toward its signal with the fade time constant; 16-bit splits coarse and fine', () => {
    const rig = new LightingRig(
      [
        { channel: 1, from: 'warm', range: [0, 1], bits: 8, fade: 1 },
        { channel: 5, from: 'warm', range: [0.2, 0.6], bits: 16, fade: 0 },
      ],
      [],
    );
    rig.update(0, { warm: 0 });
    rig.update(1, { warm: 1 }); // one time constant: 1 − e^−1
    const f = rig.frame(1);
    expect(f[0]).toBe(Math.round(255 * (1 - Math.exp(-1))));
    const n = Math.round(0.6 * 65535);
    expect([f[4], f[5]]).toEqual([n >> 8, n & 0xff]);
    rig.update(1.5, { warm: NaN }); // a bad value moves nothing
    expect(rig.frame(1.5)[4]).toBe(n >> 8);
  });

  it('flashes start at their event time, scale with note velocity, decay linearly, and the brighter source wins', () => {
    const rig = new LightingRig(
      [{ channel: 2, from: 's', range: [0, 0.5], bits: 8, fade: 0 }],
      [
        { channel: 2, on: { kind: 'note', voice: 'bells' }, level: 1, decay: 1, bits: 8 },
        { channel: 3, on: { kind: 'bar' }, level: 0.8, decay: 0.5, bits: 8 },
      ],
    );
    rig.update(0, { s: 1 });
    rig.event({ type: 'note', voice: 'bells', velocity: 1, time: 10 });
    rig.event({ type: 'note', voice: 'drone', velocity: 1, time: 10 });
    rig.event({ type: 'beat', beat: 1, bar: 0, time: 10 }); // not a bar line
    rig.event({ type: 'beat', beat: 4, bar: 1, time: 10 });
    expect(rig.frame(9.9)[1]).toBe(128); // before the flash: the signal level
    expect(rig.frame(10)[1]).toBe(255);
    expect(rig.frame(10.25)[1]).toBe(191); // 0.75 of full
    expect(rig.frame(10.25)[2]).toBe(Math.round(0.8 * 0.5 * 255));
    expect(rig.frame(10.75)[1]).toBe(128); // decayed below the signal level
    expect(rig.frame(11)[2]).toBe(0);
  });

  it('panic blacks out everything until unmuted', () => {
    const rig = new LightingRig([{ channel: 1, from: 's', range: [1, 1], bits: 8, fade: 0 }], [{ channel: 2, on: { kind: 'beat' }, level: 1, decay: 5, bits: 8 }]);
    rig.update(0, { s: 1 });
    rig.event({ type: 'beat', beat: 0, bar: 0, time: 0 });
    rig.event({ type: 'mute', muted: true, panic: true, time: 0.1 });
    expect(rig.frame(0.2).every((b) => b === 0)).toBe(true);
    rig.event({ type: 'mute', muted: false, panic: false, time: 0.3 });
    expect([...rig.frame(0.3).slice(0, 2)]).toEqual([255, Math.round(255 * (1 - 0.3 / 5))]);
  });
});

describe('sACN (E1.31)', () => {
  const cid = Uint8Array.from({ length: 16 }, (_, i) => i + 1);

  it('lays out the root, framing and DMP layers as the standard says', () => {
    const p = encodeSacn({ universe: 258, sequence: 9, priority: 100, sourceName: 'Eco-Symphony', cid, data: new Uint8Array([10, 20]) });
    expect(p.length).toBe(128);
    expect([...p.slice(0, 16)]).toEqual([0x00, 0x10, 0, 0, 0x41, 0x53, 0x43, 0x2d, 0x45, 0x31, 0x2e, 0x31, 0x37, 0, 0, 0]);
    expect([p[16], p[17]]).toEqual([0x70, 128 - 16]); // flags and length of the root layer
    expect([...p.slice(18, 22)]).toEqual([0, 0, 0, 4]);
    expect([...p.slice(22, 38)]).toEqual([...cid]);
    expect([p[38], p[39]]).toEqual([0x70, 128 - 38]);
    expect([...p.slice(40, 44)]).toEqual([0, 0, 0, 2]);
    expect(new TextDecoder().decode(p.slice(44, 56))).toBe('Eco-Symphony');
    expect([p[108], p[111], p[112], p[113], p[114]]).toEqual([100, 9, 0, 1, 2]);
    expect([p[115], p[116], p[117], p[118]]).toEqual([0x70, 128 - 115, 0x02, 0xa1]);
    expect([...p.slice(119, 126)]).toEqual([0, 0, 0, 1, 0, 3, 0]);
    expect([...p.slice(126)]).toEqual([10, 20]);
    expect(sacnMulticastAddress(258)).toBe('239.255.1.2');
  });

  it('round-trips, and refuses what is not E1.31 data', () => {
    const data = Uint8Array.from({ length: 512 }, (_, i) => i & 0xff);
    const d = decodeSacn(encodeSacn({ universe: 63999, sequence: 255, priority: 200, sourceName: 'x'.repeat(80), cid, data, terminated: true }));
    expect(typeof d).toBe('object');
    const s = d as Exclude<typeof d, string>;
    expect([s.universe, s.sequence, s.priority, s.terminated, s.sourceName.length]).toEqual([63999, 255, 200, true, 63]);
    expect([...s.data]).toEqual([...data]);
    expect(decodeSacn(encodeArtDmx(1, 1, new Uint8Array(200)))).toBe('not an ACN packet');
    expect(() => encodeSacn({ universe: 0, sequence: 0, priority: 100, sourceName: '', cid, data })).toThrow(/1…63999/);
  });
});
