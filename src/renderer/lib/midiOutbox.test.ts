/**
 * The page's MIDI outbox on a simulated clock: batches split at the protocol's
 * limit, order kept per input, the command rate held, dense controllers
 * coalesced rather than queued without end.
 */
import { describe, expect, it } from 'vitest';
import { MAX_MIDI_IN_MESSAGES } from '../../shared/protocol.ts';
import { COMMAND_BURST, COMMANDS_PER_SECOND, FLUSH_MS, MAX_QUEUED, MidiBatch, MidiOutbox, type OutboxClock } from './midiOutbox.ts';

/** A clock whose time moves only when the test says so. */
class SimClock implements OutboxClock {
  t = 1000;
  private timers: Array<{ at: number; fn: () => void }> = [];
  now = () => this.t;
  setTimeout = (fn: () => void, ms: number) => void this.timers.push({ at: this.t + ms, fn });
  /** Moves time to `t + ms`, running the timers due on the way, in order. */
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      this.timers.sort((a, b) => a.at - b.at);
      const next = this.timers[0];
      if (!next || next.at > end) break;
      this.timers.shift();
      this.t = Math.max(this.t, next.at);
      next.fn();
    }
    this.t = end;
  }
}

function outbox() {
  const clock = new SimClock();
  const sent: Array<{ at: number; port: string; messages: number[][] }> = [];
  const box = new MidiOutbox((port, messages) => sent.push({ at: clock.t, port, messages }), clock);
  return { clock, sent, box };
}

const noteOn = (i: number) => [0x90, i % 128, 1 + (i % 127)];

describe('MidiBatch', () => {
  it('takes one command worth at a time, oldest first', () => {
    const b = new MidiBatch();
    for (let i = 0; i < 300; i++) b.push(noteOn(i));
    const first = b.take();
    expect(first).toHaveLength(MAX_MIDI_IN_MESSAGES);
    expect(first[0]).toEqual(noteOn(0));
    expect(b.take()[0]).toEqual(noteOn(MAX_MIDI_IN_MESSAGES));
    expect(b.take()).toHaveLength(300 - 2 * MAX_MIDI_IN_MESSAGES);
    expect(b.size).toBe(0);
  });

  it('when full, a newer controller or bend value replaces the waiting one; a note is dropped and counted', () => {
    const b = new MidiBatch(3);
    b.push([0xb0, 7, 1]);
    b.push([0xe0, 0, 64]);
    b.push([0x90, 60, 100]);
    b.push([0xb0, 7, 99]);
    b.push([0xe0, 0, 70]);
    b.push([0x90, 62, 100]);
    b.push([0xb1, 7, 5]); // another channel's controller: nothing to replace
    expect(b.messages).toEqual([
      [0xb0, 7, 99],
      [0xe0, 0, 70],
      [0x90, 60, 100],
    ]);
    expect(b.dropped).toBe(2);
  });
});

describe('MidiOutbox', () => {
  it('a message waits at most FLUSH_MS; the messages of that window go as one command', () => {
    const { clock, sent, box } = outbox();
    box.queue('K', [0x90, 60, 100]);
    clock.advance(FLUSH_MS / 2);
    box.queue('K', [0x80, 60, 0]);
    expect(sent).toHaveLength(0);
    clock.advance(FLUSH_MS / 2);
    expect(sent).toEqual([{ at: 1000 + FLUSH_MS, port: 'K', messages: [[0x90, 60, 100], [0x80, 60, 0]] }]);
  });

  it('a full batch is split over several commands, in order, none larger than the protocol allows', () => {
    const { clock, sent, box } = outbox();
    const n = MAX_MIDI_IN_MESSAGES * 3 + 5;
    for (let i = 0; i < n; i++) box.queue('K', noteOn(i));
    clock.advance(2000);
    expect(sent.map((s) => s.messages.length)).toEqual([MAX_MIDI_IN_MESSAGES, MAX_MIDI_IN_MESSAGES, MAX_MIDI_IN_MESSAGES, 5]);
    expect(sent.flatMap((s) => s.messages)).toEqual(Array.from({ length: n }, (_, i) => noteOn(i)));
    expect(box.dropped('K')).toBe(0);
  });

  it('holds the command rate over 10 s of a dense controller on three inputs, each input in order, every input served', () => {
    const { clock, sent, box } = outbox();
    const ports = ['A', 'B', 'C'];
    const next = new Map(ports.map((p) => [p, 0]));
    // 3 inputs, one message each every 2 ms for 10 s: 15 000 messages
    for (let t = 0; t < 10_000; t += 2) {
      for (const p of ports) {
        const i = next.get(p)!;
        box.queue(p, [0xb0, 1, i % 128]);
        next.set(p, i + 1);
      }
      clock.advance(2);
    }
    clock.advance(5000);
    // never more than the burst plus the rate, in any window
    for (let i = 0; i < sent.length; i++) {
      const inWindow = sent.filter((s) => s.at >= sent[i]!.at && s.at < sent[i]!.at + 1000).length;
      expect(inWindow).toBeLessThanOrEqual(COMMANDS_PER_SECOND + COMMAND_BURST);
    }
    expect(sent.every((s) => s.messages.length <= MAX_MIDI_IN_MESSAGES)).toBe(true);
    // each input's values arrive in order and all inputs got through
    for (const p of ports) {
      const values = sent.filter((s) => s.port === p).flatMap((s) => s.messages.map((m) => m[2]!));
      expect(values).toEqual(Array.from({ length: 5000 }, (_, i) => i % 128));
      expect(sent.filter((s) => s.port === p).length).toBeGreaterThan(50);
    }
    // under the link's capacity (128 messages a command): nothing coalesced or lost, nothing left
    expect(box.waiting).toBe(0);
    for (const p of ports) expect(box.dropped(p)).toBe(0);
    expect(MAX_QUEUED).toBeGreaterThanOrEqual(MAX_MIDI_IN_MESSAGES);
  });

  it('clear() forgets what waits (a read-only page sends nothing)', () => {
    const { clock, sent, box } = outbox();
    box.queue('K', [0x90, 60, 1]);
    box.clear();
    clock.advance(1000);
    expect(sent.flatMap((s) => s.messages)).toEqual([]);
  });
});
