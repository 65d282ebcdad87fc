import { describe, expect, it } from 'vitest';
import { PatchSchema, type PatchInput } from '../patchSchema.ts';
import { LearnSession, mergeBindings, parseSidecar, resolveMidi, sidecarText, type ControlBinding } from './config.ts';
import { MidiParser } from './parser.ts';

const base: PatchInput = {
  name: 'm',
  streams: { wind: { default: 0 }, level: {} },
  signals: { gust: { from: 'wind', range: [0, 1] } },
  voices: {
    lead: { synth: 'synth', rhythm: { pattern: 'x' } },
    pad: { synth: 'fm', rhythm: { hold: true } },
  },
  buses: { hall: { type: 'reverb' } },
  scenes: { calm: {}, storm: {} },
};
const patchWith = (midi: unknown) => PatchSchema.parse({ ...base, midi });

describe('the midi section of the schema', () => {
  it('takes a full section and fills defaults', () => {
    const p = patchWith({
      input: 'Launchkey',
      play: { lead: 1, pad: 'all' },
      channels: { lead: 3 },
      controls: [{ cc: 74, stream: 'wind' }, { cc: 1, bits: 14, to: 'pad.filter.frequency', range: [200, 4000], curve: 'exp' }, { bend: true, channel: 2, stream: 'level' }],
      send: [{ from: 'gust', cc: 2, bits: 14 }],
      clock: { out: true },
      programs: { 1: 'calm', 128: 'storm' },
    });
    expect(p.midi!.clock).toStrictEqual({ out: true, in: false });
    expect(p.midi!.controls[0]!.bits).toBe(7);
    expect(p.midi!.send[0]!.channel).toBe(1);
  });

  it.each([
    [{ controls: [{ stream: 'wind' }] }, 'controls.0', 'exactly one of cc or bend'],
    [{ controls: [{ cc: 1, bend: true, stream: 'wind' }] }, 'controls.0', 'exactly one of cc or bend'],
    [{ controls: [{ cc: 1 }] }, 'controls.0', 'exactly one of stream or to'],
    [{ controls: [{ cc: 40, bits: 14, to: 'tempo' }] }, 'controls.0.cc', 'MSB, 0…31'],
    [{ controls: [{ bend: true, bits: 14, stream: 'wind' }] }, 'controls.0.bits', 'pitch bend is always 14-bit'],
    [{ controls: [{ cc: 1, stream: 'wind', range: [0, 1] }] }, 'controls.0.range', 'not streams'],
    [{ send: [{ from: 'gust', cc: 33, bits: 14 }] }, 'send.0.cc', 'MSB, 0…31'],
    [{ programs: { 0: 'calm' } }, 'programs', 'a program number, 1…128'],
    [{ programs: { 129: 'calm' } }, 'programs', 'a program number, 1…128'],
    [{ channels: { lead: 17 } }, 'channels.lead', ''],
    [{ clock: { out: true, tempo: 3 } }, 'clock', 'tempo'],
  ])('refuses %j', (midi, path, message) => {
    const r = PatchSchema.safeParse({ ...base, midi });
    expect(r.success).toBe(false);
    const issue = r.error!.issues.find((i) => i.path.join('.').startsWith(['midi', ...path.split('.')].join('.')));
    expect(issue, JSON.stringify(r.error!.issues)).toBeDefined();
    expect(JSON.stringify(r.error!.issues)).toContain(message);
  });
});

describe('resolveMidi', () => {
  it('defaults: notes on any channel play the first voice; voices out on channels 1, 2…; program n → n-th scene', () => {
    const { setup, problems } = resolveMidi(PatchSchema.parse(base));
    expect(problems).toStrictEqual([]);
    expect(setup.play).toStrictEqual([{ voice: 'lead' }]);
    expect([...setup.channels]).toStrictEqual([
      ['lead', 0],
      ['pad', 1],
    ]);
    expect([...setup.programs]).toStrictEqual([
      [0, 'calm'],
      [1, 'storm'],
    ]);
    expect(setup.clock).toStrictEqual({ in: false, out: false });
  });

  it('uses 0-based channels and programs, the overrides for ports, and drops what names nothing, saying why', () => {
    const p = patchWith({
      input: 'A',
      output: 'B',
      play: { lead: 2, drums: 1, pad: 'all' },
      channels: { pad: 16, ghost: 2 },
      controls: [{ cc: 7, stream: 'nope' }, { cc: 8, to: 'pad.filtr' }, { cc: 9, to: 'hall.wet' }],
      send: [{ from: 'nothing', cc: 1 }],
      programs: { 5: 'storm', 6: 'gone' },
    });
    const { setup, problems } = resolveMidi(p, { output: 'C' });
    expect(setup.input).toBe('A');
    expect(setup.output).toBe('C');
    expect(setup.play).toStrictEqual([{ voice: 'lead', channel: 1 }, { voice: 'pad' }]);
    expect([...setup.channels]).toStrictEqual([['pad', 15]]);
    expect(setup.controls.map((c) => c.cc)).toStrictEqual([9]);
    expect(setup.send).toStrictEqual([]);
    expect([...setup.programs]).toStrictEqual([[4, 'storm']]);
    expect(problems).toStrictEqual([
      'midi.play.drums: unknown voice (voices: lead, pad)',
      'midi.channels.ghost: unknown voice (voices: lead, pad)',
      'midi.controls[0]: unknown stream "nope" (streams: wind, level)',
      expect.stringContaining('midi.controls[1]: "pad.filtr": voice "pad" has no parameter "filtr"'),
      'midi.send[0].from: unknown signal "nothing" (signals: gust)',
      'midi.programs.6: unknown scene "gone" (scenes: calm, storm)',
    ]);
  });

  it('learned bindings replace patch bindings on the same control or destination', () => {
    const p = patchWith({
      controls: [
        { cc: 74, channel: 1, stream: 'wind' },
        { cc: 10, to: 'hall.wet' },
        { cc: 11, to: 'lead.volume' },
      ],
    });
    const learned: ControlBinding[] = [
      { cc: 74, channel: 1, bits: 7, to: 'pad.detune' }, // same control as the first
      { cc: 12, channel: 1, bits: 7, to: 'hall.wet' }, // same destination as the second
    ];
    const { setup, problems } = resolveMidi(p, {}, learned);
    expect(problems).toStrictEqual([]);
    expect(setup.controls.map((c) => [c.cc, c.to ?? c.stream])).toStrictEqual([
      [11, 'lead.volume'],
      [74, 'pad.detune'],
      [12, 'hall.wet'],
    ]);
    // a learned binding that no longer fits the patch is dropped with a reason
    const stale = resolveMidi(p, {}, [{ cc: 3, channel: 2, bits: 7, to: 'bells.volume' }]);
    expect(stale.problems).toStrictEqual([expect.stringMatching(/^learned binding \(CC 3 on channel 2\): "bells.volume" names no voice/)]);
  });

  it('mergeBindings keeps the order of the rest and appends the learned', () => {
    const a: ControlBinding = { cc: 1, bits: 7, stream: 'x' };
    const b: ControlBinding = { cc: 2, bits: 7, stream: 'y' };
    const c: ControlBinding = { cc: 1, bits: 7, stream: 'z' };
    expect(mergeBindings([a, b], [c])).toStrictEqual([b, c]);
    // a channel-specific binding is another source than an any-channel one
    const d: ControlBinding = { cc: 1, channel: 3, bits: 7, stream: 'w' };
    expect(mergeBindings([a], [d])).toStrictEqual([a, d]);
  });
});

describe('sidecar', () => {
  it('round-trips bindings', () => {
    const controls: ControlBinding[] = [
      { cc: 1, channel: 2, bits: 14, to: 'pad.filter.frequency' },
      { bend: true, channel: 1, bits: 7, stream: 'wind' },
    ];
    expect(parseSidecar(sidecarText(controls))).toStrictEqual(controls);
  });

  it('says what is wrong with a bad file', () => {
    expect(parseSidecar('{')).toMatch(/^not JSON/);
    expect(parseSidecar('{"version":2,"controls":[]}')).toMatch(/^version: /);
    expect(parseSidecar('{"version":1,"controls":[{"cc":1}]}')).toMatch(/controls\.0.*exactly one of stream or to/);
  });
});

describe('LearnSession', () => {
  const feed = (s: LearnSession, bytes: number[]) => {
    const out: Array<ControlBinding | undefined> = [];
    new MidiParser().push(bytes, (m) => out.push(s.push(m)));
    return out.filter(Boolean);
  };

  it('binds the first controller that moves, with its channel', () => {
    const s = new LearnSession({ to: 'pad.filter.frequency' });
    // CC 7 sends once (no move), CC 74 on channel 3 moves
    expect(feed(s, [0xb0, 7, 100, 0xb2, 74, 10, 0xb2, 74, 11])).toStrictEqual([{ cc: 74, channel: 3, bits: 7, to: 'pad.filter.frequency' }]);
  });

  it('does not bind a control that repeats one value, nor mode messages or NRPN selectors', () => {
    const s = new LearnSession({ stream: 'wind' });
    expect(feed(s, [0xb0, 7, 100, 7, 100, 7, 100, 0xb0, 123, 0, 123, 1, 0xb0, 99, 1, 99, 2])).toStrictEqual([]);
  });

  it('binds a 14-bit pair when the LSB follows the MSB, whichever moves first', () => {
    const a = new LearnSession({ to: 'master.volume' });
    // MSB 1 = 64 twice (same), LSB 33 changing: the LSB moves first
    expect(feed(a, [0xb0, 1, 64, 33, 0, 1, 64, 33, 5])).toStrictEqual([{ cc: 1, channel: 1, bits: 14, to: 'master.volume' }]);
    const b = new LearnSession({ to: 'master.volume' });
    expect(feed(b, [0xb5, 2, 10, 34, 0, 2, 11, 34, 0])).toStrictEqual([{ cc: 2, channel: 6, bits: 14, to: 'master.volume' }]);
  });

  it('binds CC 33 alone as a 7-bit control when nothing pairs it', () => {
    const s = new LearnSession({ to: 'master.volume' });
    expect(feed(s, [0xb0, 1, 64, 0xb0, 20, 5, 0xb0, 33, 1, 33, 2])).toStrictEqual([{ cc: 33, channel: 1, bits: 7, to: 'master.volume' }]);
  });

  it('binds pitch bend', () => {
    const s = new LearnSession({ stream: 'level' });
    expect(feed(s, [0xe1, 0, 64, 0xe1, 10, 64])).toStrictEqual([{ bend: true, channel: 2, bits: 7, stream: 'level' }]);
  });
});
