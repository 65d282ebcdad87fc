/**
 * The page's MIDI on its way to the session (pageMidi.svelte.ts): messages
 * batched per input into `midiIn` commands, in order, under the server's rate
 * limit. Plain TypeScript (no runes), unit tested in midiOutbox.test.ts.
 *
 * - A message waits at most {@link FLUSH_MS} before its batch goes out.
 * - A command carries at most MAX_MIDI_IN_MESSAGES messages: more waiting is
 *   split over several commands, in order.
 * - Commands go out at {@link COMMANDS_PER_SECOND} on average (a burst of
 *   {@link COMMAND_BURST}), well under the server's 50 a second, which the
 *   page's other commands share.
 * - A controller denser than that fills its queue ({@link MAX_QUEUED}): a
 *   newer value of a controller or pitch bend already waiting replaces the
 *   older one; anything else is dropped and counted.
 */
import { MAX_MIDI_IN_MESSAGES } from '../../shared/protocol.ts';

/** Longest wait before a batch of messages goes out (ms). */
export const FLUSH_MS = 40;
/** Commands a second on average, and in one burst. */
export const COMMANDS_PER_SECOND = 25;
export const COMMAND_BURST = 4;
/** Messages one input may have waiting. */
export const MAX_QUEUED = MAX_MIDI_IN_MESSAGES * 4;

/** One input's messages waiting to go out. */
export class MidiBatch {
  messages: number[][] = [];
  dropped = 0;

  constructor(private readonly max = MAX_QUEUED) {}

  push(bytes: readonly number[]): void {
    const m = [...bytes];
    if (this.messages.length < this.max) return void this.messages.push(m);
    const kind = m[0]! & 0xf0;
    const same = kind === 0xb0 ? this.messages.findLastIndex((x) => x[0] === m[0] && x[1] === m[1]) : kind === 0xe0 ? this.messages.findLastIndex((x) => x[0] === m[0]) : -1;
    if (same >= 0) this.messages[same] = m;
    else this.dropped++;
  }

  /** The oldest `max` messages (default: one command's worth), leaving the rest. */
  take(max = MAX_MIDI_IN_MESSAGES): number[][] {
    return this.messages.splice(0, max);
  }

  get size(): number {
    return this.messages.length;
  }
}

/** Time for the outbox: the page's timers, or a simulated clock in tests. */
export interface OutboxClock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
}

const realClock: OutboxClock = { now: () => performance.now(), setTimeout: (fn, ms) => setTimeout(fn, ms) };

export class MidiOutbox {
  private readonly batches = new Map<string, MidiBatch>();
  private timer = false;
  private tokens = COMMAND_BURST;
  private refilled: number;

  /** @param send one `midiIn` command's port and messages. */
  constructor(
    private readonly send: (port: string, messages: number[][]) => void,
    private readonly clock: OutboxClock = realClock,
  ) {
    this.refilled = clock.now();
  }

  /** Queues one whole message from `port`. */
  queue(port: string, bytes: readonly number[]): void {
    let b = this.batches.get(port);
    if (!b) this.batches.set(port, (b = new MidiBatch()));
    b.push(bytes);
    this.schedule(FLUSH_MS);
  }

  /** Messages dropped so far (a controller denser than the link), per input. */
  dropped(port: string): number {
    return this.batches.get(port)?.dropped ?? 0;
  }

  /** Messages waiting, all inputs. */
  get waiting(): number {
    let n = 0;
    for (const b of this.batches.values()) n += b.size;
    return n;
  }

  /** Forgets everything waiting (the page may not send: read-only). */
  clear(): void {
    for (const b of this.batches.values()) b.take(Infinity);
  }

  private schedule(ms: number): void {
    if (this.timer) return;
    this.timer = true;
    this.clock.setTimeout(() => {
      this.timer = false;
      this.flush();
    }, ms);
  }

  private flush(): void {
    const t = this.clock.now();
    this.tokens = Math.min(COMMAND_BURST, this.tokens + ((t - this.refilled) / 1000) * COMMANDS_PER_SECOND);
    this.refilled = t;
    // one command per input in turn while the rate allows; the rest waits for the next turn
    for (const [port, b] of [...this.batches]) {
      if (b.size === 0) continue;
      if (this.tokens < 1) break;
      this.tokens -= 1;
      this.send(port, b.take());
      // the next input goes first next time (none waits behind a dense one for ever)
      this.batches.delete(port);
      this.batches.set(port, b);
    }
    if (this.waiting > 0) this.schedule(Math.max(FLUSH_MS, this.tokens >= 1 ? 0 : ((1 - this.tokens) / COMMANDS_PER_SECOND) * 1000));
  }
}
