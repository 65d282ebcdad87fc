/**
 * The source hub: runs the source of every stream of a patch (its default, or
 * a `--data STREAM=URI` override), and is the one place where what arrives is
 * validated (SampleGate), tracked (SourceHealth: connecting, live, stale,
 * failed, fallback), cached on disk (FeedCache) and supervised through outages
 * (StreamSupervisor) before it is delivered to the engine. Whatever a source
 * does, nothing non-finite and nothing out of order is ever delivered.
 */
import { resolve } from 'node:path';
import { SampleGate, type RejectReason } from '../../core/sources/gate.ts';
import { SourceHealth, type ConnectionChange, type SourceStatus, type Transition } from '../../core/sources/status.ts';
import { StreamSupervisor } from '../../core/sources/supervisor.ts';
import { isLive, parseSourceUri, withStreamShaping, type SourceSpec } from '../../core/sources/uri.ts';
import type { FeedRecord } from '../../core/sources/records.ts';
import type { Patch } from '../../core/patchSchema.ts';
import { FeedCache, defaultCacheDir } from './cache.ts';
import { HttpSource } from './http.ts';
import { MqttSource } from './mqtt.ts';
import { FileSource, SimSource, TimeAxis } from './paced.ts';
import { WsSource } from './ws.ts';
import { OscSource } from './osc.ts';
import type { Source, SourceSink } from './types.ts';

export interface SourceContext {
  /** Directory relative file paths are resolved against (the patch's). */
  baseDir: string;
  /** Files without a speed play over this many seconds, then loop. */
  spreadSeconds?: number;
  /** Data seconds per second for files that name no speed (overrides spreadSeconds). */
  speed?: number;
  /** Told what a file source read (`741 rows: 741 kept…`), once it has. */
  onLoaded?: (summary: string) => void;
  /** The stream maps text categories: a file's text cells are kept. */
  text?: boolean;
  /** The patch's one clock for its dated file streams (core/pace.ts, sharedPaces); without it each file is paced alone. */
  axis?: TimeAxis;
  /** The stream's name (pace lines). */
  stream?: string;
}

/** Makes the source of a spec. */
export function createSource(spec: SourceSpec, sink: SourceSink, ctx: SourceContext): Source {
  switch (spec.kind) {
    case 'file':
      return new FileSource(
        // On a shared axis, `ctx.speed` is the axis's (a speed in the spec is the file's own).
        spec.speed === undefined && ctx.speed !== undefined && !ctx.axis ? { ...spec, speed: ctx.speed } : spec,
        resolve(ctx.baseDir, spec.path),
        sink,
        ctx.spreadSeconds,
        undefined,
        ctx.onLoaded,
        { text: ctx.text },
        ctx.axis,
        ctx.stream,
      );
    case 'sim':
      return new SimSource(spec, sink);
    case 'http':
      return new HttpSource(spec, sink);
    case 'ws':
      return new WsSource(spec, sink);
    case 'mqtt':
      return new MqttSource(spec, sink);
    case 'osc':
      return new OscSource(spec, sink);
  }
}

/** True when a signal of the stream maps text categories, so text may pass the gate. */
export function takesText(patch: Patch, stream: string): boolean {
  return Object.values(patch.signals).some((sig) => sig.from === stream && sig.categories !== undefined);
}

/**
 * A patch stream's source as render, play and the Author preview read it: the
 * URI parsed, with the stream's own shaping fields (`where`, `agg`,
 * `resample`, `tz`) added (core/sources/uri.ts, withStreamShaping).
 */
export function streamSource(uri: string, stream: Patch['streams'][string]): SourceSpec {
  return withStreamShaping(parseSourceUri(uri), stream);
}

/** The gate of a stream: its valid range, spike limit and unit; text only when its signals map categories. */
export function gateFor(stream: Patch['streams'][string], text: boolean): SampleGate {
  return new SampleGate({ valid: stream.valid, maxRate: stream.maxRate, unit: stream.unit, text });
}

export interface HubOptions extends SourceContext {
  patch: Patch;
  /** stream → source URI, replacing the patch's default source. */
  overrides?: ReadonlyMap<string, string>;
  /** Receives every value that passed the gate (and glides and replays of the outage policy). */
  deliver: (stream: string, value: number | string, dataTime: number) => void;
  /** Cache directory for live sources; false for none. Default: defaultCacheDir(). */
  cacheDir?: string | false;
  /** Wall clock, epoch seconds. */
  now?: () => number;
  /** How often outage policies and status are advanced, seconds. */
  tickSeconds?: number;
  onTransition?: (stream: string, t: Transition) => void;
  /** Changes of a network feed's link (connected, disconnected), apart from its data. */
  onConnection?: (stream: string, c: ConnectionChange) => void;
  /** Told what a stream's file source read: its rows kept and rejected by reason. */
  onFileLoaded?: (stream: string, summary: string) => void;
  /** Replaces createSource (tests). */
  create?: typeof createSource;
}

interface Lane {
  stream: string;
  spec: SourceSpec;
  source?: Source;
  gate: SampleGate;
  health: SourceHealth;
  supervisor: StreamSupervisor;
  cache?: FeedCache;
}

export class SourceHub {
  private readonly lanes: Lane[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly now: () => number;
  private started = false;
  /** Gates of values injected from outside a stream's source, by stream. */
  private readonly manual = new Map<string, SampleGate>();
  private readonly lastManual = new Map<string, number>();
  /** Values delivered per stream (tests and benchmarks). */
  readonly delivered = new Map<string, number>();

  /** One clock for the patch's dated file streams: a seek, loop or speed moves them together. */
  private readonly axis: TimeAxis;

  constructor(private readonly opts: HubOptions) {
    this.now = opts.now ?? (() => Date.now() / 1000);
    this.axis = opts.axis ?? new TimeAxis({ ...(opts.speed !== undefined && { speed: opts.speed }), over: opts.spreadSeconds ?? 600 });
    const t = this.now();
    for (const [stream, s] of Object.entries(opts.patch.streams)) {
      const uri = opts.overrides?.get(stream) ?? s.source;
      if (uri) this.lanes.push(this.lane(stream, uri, t));
    }
  }

  private lane(stream: string, uri: string, t: number): Lane {
    const opts = this.opts;
    const s = opts.patch.streams[stream]!;
    const spec = streamSource(uri, s);
    const stale = s.stale;
    const lane: Lane = {
      stream,
      spec,
      gate: gateFor(s, takesText(opts.patch, stream)),
      health: new SourceHealth(
        stream,
        uri,
        stale.after,
        t,
        (tr) => opts.onTransition?.(stream, tr),
        (c) => opts.onConnection?.(stream, c),
      ),
      supervisor: new StreamSupervisor(
        { after: stale.after, then: stale.then, glide: stale.glide, default: s.default, history: stale.history },
        (value, dataTime) => this.deliver(stream, value, dataTime),
        t,
      ),
    };
    if (isLive(spec) && opts.cacheDir !== false) lane.cache = new FeedCache(opts.cacheDir ?? defaultCacheDir(), stream, uri);
    return lane;
  }

  /** Streams the hub feeds. */
  get streams(): string[] {
    return this.lanes.map((l) => l.stream);
  }

  private deliver(stream: string, value: number | string, dataTime: number): void {
    this.delivered.set(stream, (this.delivered.get(stream) ?? 0) + 1);
    this.opts.deliver(stream, value, dataTime);
  }

  /** Starts every source; a live source's cache restores its last value first. */
  start(): void {
    this.started = true;
    for (const lane of this.lanes) this.startLane(lane);
    const tick = () => {
      this.tick();
      this.timer = setTimeout(tick, (this.opts.tickSeconds ?? 0.1) * 1000);
    };
    this.timer = setTimeout(tick, (this.opts.tickSeconds ?? 0.1) * 1000);
  }

  private startLane(lane: Lane): void {
    const rows = lane.cache?.load() ?? [];
    const numeric = rows.filter((r): r is typeof r & { value: number } => typeof r.value === 'number');
    lane.supervisor.seed(numeric);
    const last = numeric[numeric.length - 1];
    if (last) lane.supervisor.restore(last.value, last.dataTime);
    try {
      lane.source = (this.opts.create ?? createSource)(lane.spec, this.sink(lane), { ...this.opts, axis: this.axis, stream: lane.stream, text: takesText(this.opts.patch, lane.stream), onLoaded: (summary) => this.opts.onFileLoaded?.(lane.stream, summary) });
      lane.source.start();
    } catch (e) {
      lane.health.error(e, this.now());
    }
  }

  /**
   * A value from outside the stream's source (OSC `/eco/stream/…`, a MIDI
   * control, a session command), taken now. It passes a gate with the stream's
   * rules (finite, `valid`, `maxRate`; its own, so a source's historical data
   * times and a performer's "now" never reject each other as out of order).
   * Returns the value delivered, or why it was refused (counted in {@link injected}).
   */
  inject(stream: string, value: unknown): { value: number | string } | { refused: string } {
    const s = this.opts.patch.streams[stream];
    if (!s) return { refused: `no stream "${stream}" (streams: ${Object.keys(this.opts.patch.streams).join(', ') || 'none'})` };
    let gate = this.manual.get(stream);
    if (!gate) this.manual.set(stream, (gate = gateFor(s, takesText(this.opts.patch, stream))));
    // Strictly increasing times, even for two values in the same millisecond.
    const now = Math.max(this.now(), (this.lastManual.get(stream) ?? -Infinity) + 1e-6);
    this.lastManual.set(stream, now);
    const ok = gate.accept(value, now);
    if (typeof ok === 'string') return { refused: ok };
    this.deliver(stream, ok.value, ok.dataTime);
    return { value: ok.value };
  }

  /** Values injected into a stream from outside its source: accepted, and refused by reason. */
  injected(stream: string): { accepted: number; rejected: Partial<Record<RejectReason, number>> } {
    const g = this.manual.get(stream);
    if (!g) return { accepted: 0, rejected: {} };
    return { accepted: g.accepted, rejected: Object.fromEntries(Object.entries(g.counts).filter(([, n]) => n > 0)) };
  }

  /**
   * Gives a stream another source (a URI in the `--data` grammar): the old
   * source stops, the new one starts with a fresh gate and status. Throws on a
   * bad URI before anything changes.
   */
  async rebind(stream: string, uri: string): Promise<void> {
    if (!Object.hasOwn(this.opts.patch.streams, stream)) throw new Error(`no stream "${stream}" (streams: ${Object.keys(this.opts.patch.streams).join(', ') || 'none'})`);
    const next = this.lane(stream, uri, this.now());
    const i = this.lanes.findIndex((l) => l.stream === stream);
    const old = i >= 0 ? this.lanes[i] : undefined;
    if (old) this.lanes[i] = next;
    else this.lanes.push(next);
    await old?.source?.stop().catch(() => undefined);
    old?.cache?.close();
    if (this.started) this.startLane(next);
  }

  private sink(lane: Lane): SourceSink {
    return {
      records: (records) => this.accept(lane, records),
      error: (e) => lane.health.error(e, this.now()),
      connecting: () => lane.health.connecting(this.now()),
      connected: () => lane.health.connected(this.now()),
      disconnected: (reason) => lane.health.disconnected(reason, this.now()),
    };
  }

  private accept(lane: Lane, records: FeedRecord[]): void {
    const now = this.now();
    for (const r of records) {
      lane.health.receive();
      const dataTime = Number.isFinite(r.dataTime) ? r.dataTime : now;
      const ok = lane.gate.accept(r.value, dataTime, r.unit);
      if (typeof ok === 'string') {
        lane.health.reject(ok);
        continue;
      }
      lane.health.value(ok.value, ok.dataTime, now);
      lane.cache?.append({ dataTime: ok.dataTime, stream: lane.stream, value: ok.value, data: r.data });
      if (typeof ok.value === 'number') lane.supervisor.live(ok.value, ok.dataTime, now);
      else this.deliver(lane.stream, ok.value, ok.dataTime);
    }
  }

  /** Advances outage policies and status (called on a timer; tests may call it). */
  tick(): void {
    const now = this.now();
    for (const lane of this.lanes) {
      lane.supervisor.tick(now);
      lane.health.tick(now);
      lane.health.fallback(lane.supervisor.mode === 'fallback', now);
    }
  }

  statuses(): SourceStatus[] {
    const now = this.now();
    return this.lanes.map((l) => l.health.snapshot(now));
  }

  /** The file sources (the timeline's transports), by stream. */
  files(): Map<string, FileSource> {
    const m = new Map<string, FileSource>();
    for (const l of this.lanes) if (l.source instanceof FileSource) m.set(l.stream, l.source);
    return m;
  }

  /** The status and transitions of one stream. */
  health(stream: string): SourceHealth | undefined {
    return this.lanes.find((l) => l.stream === stream)?.health;
  }

  async stop(): Promise<void> {
    clearTimeout(this.timer);
    await Promise.all(this.lanes.map((l) => l.source?.stop().catch(() => undefined)));
    for (const l of this.lanes) l.cache?.close();
  }
}
