import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Command, MAX_MESSAGE_CHARS, MAX_MIDI_IN_MESSAGES, PROTOCOL_VERSION, Reply, midiMessageProblem, parseCommand, stampClient } from './protocol.ts';

function error(input: unknown): string {
  const r = parseCommand(input);
  if (r.ok) throw new Error(`accepted ${JSON.stringify(input)}`);
  expect(Reply.safeParse(r.reply).success).toBe(true);
  return r.reply.ok ? '' : r.reply.error;
}

describe('protocol', () => {
  it('accepts every command in its documented form, as objects and as JSON text', () => {
    const good: unknown[] = [
      { type: 'load', patch: { id: 'carbon-pulse' }, crossfade: 1 },
      { type: 'load', patch: { path: '/tmp/x.yaml' } },
      { type: 'load', patch: { text: 'name: x' } },
      { type: 'param', target: 'master.volume', value: -12, id: 'a1' },
      { type: 'scene', name: 'tipping' },
      { type: 'tempo', bpm: 96 },
      { type: 'tempo', bpm: null },
      { type: 'mute', on: true },
      { type: 'levelCap', db: -20 },
      { type: 'levelCap', db: null },
      { type: 'panic', v: PROTOCOL_VERSION },
      { type: 'inject', stream: 'co2', value: 420 },
      { type: 'inject', stream: 'weather', value: 'rain' },
      { type: 'freeze', stream: 'co2', on: true, value: 400 },
      { type: 'rebind', stream: 'co2', uri: 'sim:sine?min=400&max=430' },
      { type: 'midiLearn', target: 'pad.volume' },
      { type: 'midiIn', port: 'Page knobs', messages: [[0x90, 60, 100], [0xb1, 74, 0], [0xe0, 0, 64], [0xf8], [0xc0, 3]] },
      { type: 'record', action: 'start', path: 'out.wav' },
      { type: 'record', action: 'stop' },
      { type: 'list', what: 'patches' },
      { type: 'snapshot', id: 7 },
    ];
    for (const g of good) {
      expect(parseCommand(g).ok, JSON.stringify(g)).toBe(true);
      expect(parseCommand(JSON.stringify(g)).ok).toBe(true);
    }
  });

  it('says what was wrong and where, and echoes the id', () => {
    const r = parseCommand({ type: 'param', target: 'pad.volume', value: 'loud', id: 'x9' });
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.reply.id).toBe('x9');
      expect(r.reply.ok ? '' : r.reply.error).toMatch(/^param\.value: .*number/);
    }
    expect(error({ type: 'launch' })).toMatch(/unknown command "launch".*panic/);
    expect(error({ target: 'x' })).toMatch(/no command type/);
    expect(error({ type: 'panic', extra: 1 })).toMatch(/panic: .*extra/);
    expect(error({ type: 'tempo', bpm: Infinity })).toMatch(/tempo\.bpm/);
    expect(error({ type: 'tempo', bpm: 1000 })).toMatch(/tempo\.bpm/);
    expect(error({ type: 'levelCap', db: 6 })).toMatch(/levelCap\.db/);
    expect(error({ type: 'levelCap' })).toMatch(/levelCap\.db/);
    expect(error({ type: 'record', action: 'start' })).toMatch(/record\.path: .*needs a path/);
    expect(error({ type: 'panic', v: 2 })).toMatch(/version 2 is not supported/);
    expect(error('{"type":')).toMatch(/^not JSON/);
    expect(error([{ type: 'panic' }])).toMatch(/got an array/);
    expect(error(null)).toMatch(/got null/);
  });

  it('refuses huge strings and deep nesting without throwing', () => {
    expect(error('x'.repeat(MAX_MESSAGE_CHARS + 1))).toMatch(/too large/);
    expect(error({ type: 'scene', name: 'x'.repeat(100_000) })).toMatch(/scene\.name/);
    const deep = '['.repeat(200_000) + ']'.repeat(200_000);
    expect(error(deep.slice(0, MAX_MESSAGE_CHARS))).toMatch(/not JSON/);
    let nested: unknown = 1;
    for (let i = 0; i < 50_000; i++) nested = { value: nested };
    expect(error({ type: 'inject', stream: 's', value: nested })).toMatch(/inject\.value/);
    expect(error(nested)).toMatch(/no command type/);
  });

  it('never throws and never accepts a message that is not a command (random and hostile input)', () => {
    const hostile = fc.oneof(
      fc.anything({ maxDepth: 6 }),
      fc.json(),
      fc.record({ type: fc.constantFrom(...Command.options.map((o) => o.shape.type.value), '__proto__', 'constructor'), value: fc.anything() }, { requiredKeys: [] }),
      fc.dictionary(fc.string(), fc.anything({ maxDepth: 3 })),
    );
    fc.assert(
      fc.property(hostile, (x) => {
        const r = parseCommand(x);
        if (r.ok) expect(Command.safeParse(r.command).success).toBe(true);
        else expect(Reply.safeParse(r.reply).success).toBe(true);
      }),
      { numRuns: 3000 },
    );
  });

  it('stampClient names the client on midiIn and midiRelease only, replacing a name the client gave', () => {
    expect(stampClient({ type: 'midiIn', port: 'p', messages: [[0xf8]], client: 'other' }, 'me')).toMatchObject({ type: 'midiIn', client: 'me' });
    expect(stampClient(JSON.stringify({ type: 'midiRelease', client: 'other' }), 'me')).toEqual({ type: 'midiRelease', client: 'me' });
    const text = JSON.stringify({ type: 'panic' });
    expect(stampClient(text, 'me')).toBe(text);
    expect(stampClient('{"type":', 'me')).toBe('{"type":');
  });

  it('midiIn takes whole MIDI messages only, and says which message is wrong and why', () => {
    expect(error({ type: 'midiIn', port: 'p', messages: [[0x90, 60, 1], [0x90, 60]] })).toMatch(/messages\.1.*takes 3 bytes, got 2/);
    expect(error({ type: 'midiIn', port: 'p', messages: [[60, 1, 2]] })).toMatch(/messages\.0.*status byte/);
    expect(error({ type: 'midiIn', port: 'p', messages: [[0xb0, 7, 128]] })).toMatch(/messages\.0.*data byte 2/);
    expect(error({ type: 'midiIn', port: 'p', messages: [[0xf0, 0x7e, 0xf7]] })).toMatch(/SysEx/);
    expect(error({ type: 'midiIn', port: 'p', messages: Array.from({ length: MAX_MIDI_IN_MESSAGES + 1 }, () => [0xf8]) })).toMatch(/messages/);
    expect(error({ type: 'midiIn', port: 'p', messages: [[0.5]] })).toMatch(/messages\.0\.0/);
    // any bytes: accepted exactly when each message is whole
    fc.assert(
      fc.property(fc.array(fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 4 }), (messages) => {
        const r = parseCommand({ type: 'midiIn', port: 'p', messages });
        expect(r.ok).toBe(messages.every((m) => midiMessageProblem(m) === undefined));
      }),
      { numRuns: 2000 },
    );
  });
});
