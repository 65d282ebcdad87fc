/**
 * OSC out: a patch's `osc.out` messages sent to one or more receivers over
 * UDP while it plays. Continuous values are sampled at the patch's rate; event
 * messages (notes, beats…) are known a look-ahead early and sent when due
 * (one timer, a bounded queue), or at once as timetagged bundles when the patch
 * asks for `bundles`. Send failures are counted, never thrown.
 */
import type { Engine } from '../../audio/Engine.ts';
import type { Clock, Disposable } from '../../core/clock.ts';
import { epochSecondsToTimetag } from '../../core/osc/codec.ts';
import { OscOutPlan, parseOscOutSource, type OscOutSpec, type TimedOscMessage } from '../../core/oscOut.ts';
import type { Patch } from '../../core/patchSchema.ts';
import { clockFor } from '../clock.ts';
import { OscUdpPort } from '../osc/udp.ts';

type OscOutSection = NonNullable<NonNullable<Patch['osc']>['out']>;

export interface OscTarget {
  host: string;
  port: number;
}

/** Parses `HOST:PORT`. */
export function parseHostPort(text: string, flag = '--osc-out'): OscTarget | string {
  const m = /^\[?([^\]\s]*?)\]?:(\d{1,5})$/.exec(text.trim());
  const port = Number(m?.[2]);
  if (!m || !m[1] || !(port > 0 && port < 65536)) return `${flag} "${text}": expected HOST:PORT, like 127.0.0.1:7000`;
  return { host: m[1], port };
}

/** The send plan of a patch's osc.out section. */
export function planFor(section: OscOutSection): OscOutPlan {
  const specs: OscOutSpec[] = section.messages.map((m) => ({ address: m.address, from: parseOscOutSource(m.from) as OscOutSpec['from'], range: m.range, int: m.int }));
  return new OscOutPlan(specs);
}

/** Most messages waiting for their time; beyond it the oldest are sent at once. */
const MAX_QUEUE = 10_000;

export class OscOutBridge {
  readonly stats = { sent: 0, errors: 0, lastError: '' };
  private readonly port = new OscUdpPort();
  private readonly plan: OscOutPlan;
  private sampler: Disposable | undefined;
  private due: Disposable | undefined;
  private queue: TimedOscMessage[] = [];
  private readonly unlisten: () => void;
  private stopped = false;

  constructor(
    private readonly engine: Engine,
    readonly section: OscOutSection,
    readonly targets: readonly OscTarget[],
    /** The clock to send on (default: the engine context's, shared with the other bridges). */
    private readonly clock: Clock = clockFor(engine.context),
  ) {
    this.plan = planFor(section);
    this.unlisten = engine.addListener((e) => {
      if (e.type === 'note' || e.type === 'beat' || e.type === 'scene' || e.type === 'threshold' || e.type === 'mute') this.enqueue(this.plan.event(e));
    });
  }

  async start(): Promise<void> {
    await this.port.open({ host: '0.0.0.0', port: 0 });
    this.sampler = this.clock.every(1 / this.section.rate, (now) => {
      try {
        this.deliver(this.plan.sample(now, this.engine.values()));
      } catch (e) {
        this.fail(e);
      }
    });
  }

  private fail(e: unknown): void {
    this.stats.errors++;
    this.stats.lastError = (e as Error)?.message ?? String(e);
  }

  /** Event messages carry engine times slightly ahead: bundle them now, or queue them until due. */
  private enqueue(messages: TimedOscMessage[]): void {
    if (!messages.length || this.stopped) return;
    if (this.section.bundles) return this.deliver(messages);
    for (const m of messages) {
      let i = this.queue.length;
      while (i > 0 && this.queue[i - 1]!.time > m.time) i--;
      this.queue.splice(i, 0, m);
    }
    if (this.queue.length > MAX_QUEUE) this.deliver(this.queue.splice(0, this.queue.length - MAX_QUEUE));
    this.arm();
  }

  /** Sends the queue's head (and all due with it) when its audio time is heard. */
  private arm(): void {
    this.due?.dispose();
    const next = this.queue[0];
    if (!next) return;
    this.due = this.clock.at(next.time, () => {
      const until = this.clock.dueUntil();
      let n = 0;
      while (n < this.queue.length && this.queue[n]!.time <= until) n++;
      this.deliver(this.queue.splice(0, n), true);
      this.arm();
    });
  }

  private deliver(messages: TimedOscMessage[], due = false): void {
    const now = this.clock.now();
    for (const m of messages) {
      const packet =
        this.section.bundles && !due && m.time - now > 0.001 ? { timetag: epochSecondsToTimetag(this.clock.toEpoch(m.time)), elements: [m.message] } : m.message;
      for (const t of this.targets) {
        this.port
          .send(packet, t.host, t.port)
          .then((ok) => (ok ? this.stats.sent++ : this.fail(this.port.stats().lastError ?? 'send failed')))
          .catch((e) => this.fail(e));
      }
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.sampler?.dispose();
    this.due?.dispose();
    this.unlisten();
    this.queue = [];
    await this.port.close().catch(() => undefined);
  }
}
