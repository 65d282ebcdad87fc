import { describe, expect, it } from 'vitest';
import { controlChange, MidiParser, noteOff, noteOn, songPosition, type MidiMessage } from './parser.ts';

const parse = (bytes: number[], opts?: { maxSysex?: number }) => {
  const p = new MidiParser(opts);
  return { messages: p.parse(bytes), stats: p.stats };
};

describe('MidiParser: channel messages', () => {
  it('decodes every channel message type with its channel', () => {
    const { messages } = parse([
      0x93, 60, 100, // note on ch 4
      0x83, 60, 40, // note off
      0xa1, 61, 7, // poly pressure
      0xbf, 74, 127, // cc ch 16
      0xc2, 5, // program
      0xd0, 99, // channel pressure
      0xe0, 0x00, 0x40, // pitch bend centre
      0xe0, 0x7f, 0x7f, // top
      0xe0, 0x00, 0x00, // bottom
    ]);
    expect(messages).toStrictEqual([
      { type: 'noteOn', channel: 3, note: 60, velocity: 100 },
      { type: 'noteOff', channel: 3, note: 60, velocity: 40 },
      { type: 'polyPressure', channel: 1, note: 61, pressure: 7 },
      { type: 'cc', channel: 15, controller: 74, value: 127 },
      { type: 'program', channel: 2, program: 5 },
      { type: 'channelPressure', channel: 0, pressure: 99 },
      { type: 'pitchBend', channel: 0, value: 8192 },
      { type: 'pitchBend', channel: 0, value: 16383 },
      { type: 'pitchBend', channel: 0, value: 0 },
    ]);
  });

  it('reads note-on with velocity 0 as note-off', () => {
    expect(parse([0x90, 64, 0]).messages).toStrictEqual([{ type: 'noteOff', channel: 0, note: 64, velocity: 0 }]);
  });

  it('applies running status to repeated data bytes, also across calls and with one-byte messages', () => {
    const p = new MidiParser();
    const out: MidiMessage[] = [];
    p.push([0x90, 60, 100, 62], (m) => out.push(m));
    p.push([90, 64, 0], (m) => out.push(m)); // the second half of the pair, then a note-off by velocity 0
    p.push([0xc0, 1, 2, 3], (m) => out.push(m));
    expect(out).toStrictEqual([
      { type: 'noteOn', channel: 0, note: 60, velocity: 100 },
      { type: 'noteOn', channel: 0, note: 62, velocity: 90 },
      { type: 'noteOff', channel: 0, note: 64, velocity: 0 },
      { type: 'program', channel: 0, program: 1 },
      { type: 'program', channel: 0, program: 2 },
      { type: 'program', channel: 0, program: 3 },
    ]);
    expect(p.stats.strayData).toBe(0);
  });

  it('keeps running status through real-time bytes, cancels it at system common messages', () => {
    const { messages, stats } = parse([0xb0, 1, 10, 0xf8, 1, 0xfe, 11, 0xf6, 1, 12]);
    expect(messages).toStrictEqual([
      { type: 'cc', channel: 0, controller: 1, value: 10 },
      { type: 'clock' },
      { type: 'activeSensing' },
      { type: 'cc', channel: 0, controller: 1, value: 11 },
      { type: 'tuneRequest' },
    ]);
    expect(stats.strayData).toBe(2); // 1 and 12 after the tune request have no status
  });

  it('delivers real-time bytes between the data bytes of a message without breaking it', () => {
    expect(parse([0x90, 0xf8, 60, 0xfa, 100]).messages).toStrictEqual([
      { type: 'clock' },
      { type: 'start' },
      { type: 'noteOn', channel: 0, note: 60, velocity: 100 },
    ]);
  });

  it('counts stray data, truncated messages, undefined status bytes and non-bytes, and goes on', () => {
    const { messages, stats } = parse([5, 6, 0x90, 60, 0x80, 61, 0, 0xf4, 0xf5, 0xf9, 0xfd, 300, -1, 1.5, NaN, 0x90, 0xb0, 7, 100]);
    expect(messages).toStrictEqual([
      { type: 'noteOff', channel: 0, note: 61, velocity: 0 },
      { type: 'cc', channel: 0, controller: 7, value: 100 },
    ]);
    expect(stats).toMatchObject({ strayData: 2, truncated: 2, undefinedStatus: 4, invalidBytes: 4, messages: 2 });
  });
});

describe('MidiParser: system messages', () => {
  it('decodes song position, song select, MTC quarter frames and every real-time message', () => {
    expect(parse([0xf2, 0x10, 0x02, 0xf3, 9, 0xf1, 0x35, 0xf8, 0xfa, 0xfb, 0xfc, 0xfe, 0xff]).messages).toStrictEqual([
      { type: 'songPosition', beats: 0x10 + (2 << 7) },
      { type: 'songSelect', song: 9 },
      { type: 'mtcQuarterFrame', value: 0x35 },
      { type: 'clock' },
      { type: 'start' },
      { type: 'continue' },
      { type: 'stop' },
      { type: 'activeSensing' },
      { type: 'reset' },
    ]);
  });

  it('reads a SysEx whole, in fragments, with real-time bytes inside delivered at once and left out of it', () => {
    const p = new MidiParser();
    const out: MidiMessage[] = [];
    p.push([0xf0, 0x7e, 0x7f], (m) => out.push(m));
    p.push([0x06, 0xf8, 0x01], (m) => out.push(m));
    p.push([0xfa, 0xf7, 0x90, 60, 1], (m) => out.push(m));
    expect(out).toStrictEqual([
      { type: 'clock' },
      { type: 'start' },
      { type: 'sysex', data: Uint8Array.from([0xf0, 0x7e, 0x7f, 0x06, 0x01, 0xf7]) },
      { type: 'noteOn', channel: 0, note: 60, velocity: 1 },
    ]);
  });

  it('drops a SysEx aborted by a status byte, and reads that status as the next message', () => {
    const { messages, stats } = parse([0xf0, 1, 2, 3, 0x91, 60, 70, 61, 71, 0xf7]);
    expect(messages).toStrictEqual([
      { type: 'noteOn', channel: 1, note: 60, velocity: 70 },
      { type: 'noteOn', channel: 1, note: 61, velocity: 71 },
    ]);
    expect(stats.sysexAborted).toBe(1);
    expect(stats.strayEox).toBe(1); // the late F7 ends nothing
  });

  it('a new SysEx aborts an open one', () => {
    const { messages, stats } = parse([0xf0, 1, 0xf0, 2, 0xf7]);
    expect(messages).toStrictEqual([{ type: 'sysex', data: Uint8Array.from([0xf0, 2, 0xf7]) }]);
    expect(stats.sysexAborted).toBe(1);
  });

  it('drops an oversized SysEx once, skips to its end, then parses on', () => {
    const body = Array.from({ length: 20 }, (_, i) => i);
    const { messages, stats } = parse([0xf0, ...body, 0xf8, ...body, 0xf7, 0xb0, 7, 64, 0xf0, 1, 2, 0xf7], { maxSysex: 8 });
    expect(messages).toStrictEqual([
      { type: 'clock' },
      { type: 'cc', channel: 0, controller: 7, value: 64 },
      { type: 'sysex', data: Uint8Array.from([0xf0, 1, 2, 0xf7]) },
    ]);
    expect(stats.sysexOversized).toBe(1);
    expect(stats.sysexAborted).toBe(0);
  });

  it('takes a SysEx of exactly the limit', () => {
    const { messages, stats } = parse([0xf0, 1, 2, 3, 4, 5, 6, 0xf7], { maxSysex: 8 });
    expect(messages).toHaveLength(1);
    expect(stats.sysexOversized).toBe(0);
    expect(parse([0xf0, 1, 2, 3, 4, 5, 6, 7, 0xf7], { maxSysex: 8 }).stats.sysexOversized).toBe(1);
  });

  it('cuts a partial channel message at F0', () => {
    const { messages, stats } = parse([0x90, 60, 0xf0, 1, 0xf7, 61, 62]);
    expect(messages).toStrictEqual([{ type: 'sysex', data: Uint8Array.from([0xf0, 1, 0xf7]) }]);
    expect(stats.truncated).toBe(1);
    expect(stats.strayData).toBe(2); // SysEx cancelled the running status
  });

  it('survives random bytes and stays in step afterwards', () => {
    const p = new MidiParser({ maxSysex: 64 });
    let seed = 7;
    const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) & 0xff;
    for (let i = 0; i < 20000; i++) p.push([rand()], () => undefined);
    // end whatever was open, then a clean message must come through
    const out = p.parse([0xf7, 0x9a, 40, 50]);
    expect(out.at(-1)).toStrictEqual({ type: 'noteOn', channel: 10, note: 40, velocity: 50 });
  });
});

describe('encoders', () => {
  it('encode notes, CC and song position, clamping to 7 bits', () => {
    expect(noteOn(2, 60, 0)).toStrictEqual([0x92, 60, 1]);
    expect(noteOn(15, 200, 300)).toStrictEqual([0x9f, 127, 127]);
    expect(noteOff(0, 60)).toStrictEqual([0x80, 60, 0]);
    expect(controlChange(1, 74, 63.6)).toStrictEqual([0xb1, 74, 64]);
    expect(songPosition(300)).toStrictEqual([0xf2, 300 & 0x7f, 300 >> 7]);
    expect(new MidiParser().parse(songPosition(16383))).toStrictEqual([{ type: 'songPosition', beats: 16383 }]);
  });
});
