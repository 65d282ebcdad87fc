/**
 * Sources that play data they already have, paced on a timer: files (CSV, TSV,
 * JSON, NDJSON, GeoJSON, recordings) at a speed or at their own pace, looping
 * or once; and simulations. One timer each, re-armed for the next due record.
 */
import { readFileSync } from 'node:fs';
import { parseFeedFile, type FeedRecord } from '../../core/sources/records.ts';
import { Simulator } from '../../core/sources/sim.ts';
import type { SourceSpec } from '../../core/sources/uri.ts';
import { guarded, type Source, type SourceSink } from './types.ts';

type FileSpec = Extract<SourceSpec, { kind: 'file' }>;
type SimSpec = Extract<SourceSpec, { kind: 'sim' }>;

/** Polling step of paced sources, seconds. */
const STEP = 0.02;

/** Reads and parses a data file (path already resolved). */
export function readFeedFile(path: string, spec: FileSpec): FeedRecord[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new Error(`cannot read data file ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  return parseFeedFile(text, spec, path);
}

export class FileSource implements Source {
  private timer: NodeJS.Timeout | undefined;
  private records: FeedRecord[] = [];
  private index = 0;
  private loop = 0;
  private started = 0;
  private readonly sink: SourceSink;

  /**
   * @param spreadSeconds with no speed in the spec, the whole file plays over this many seconds.
   */
  constructor(
    readonly spec: FileSpec,
    readonly path: string,
    sink: SourceSink,
    private readonly spreadSeconds = 600,
    private readonly now: () => number = () => performance.now() / 1000,
  ) {
    this.sink = guarded(sink);
  }

  start(): void {
    this.sink.connecting();
    try {
      this.records = readFeedFile(this.path, this.spec).filter((r) => Number.isFinite(r.dataTime));
    } catch (e) {
      this.sink.error(e);
      return;
    }
    if (this.records.length === 0) return this.sink.error(new Error(`${this.path}: no timed records`));
    this.started = this.now();
    this.pump();
  }

  /** Data seconds per second of playback. */
  get speed(): number {
    if (this.spec.speed !== undefined) return this.spec.speed;
    const span = this.span;
    return span > 0 ? span / this.spreadSeconds : 1;
  }

  /** The data's span, plus one step so a loop does not repeat a time. */
  get span(): number {
    const r = this.records;
    const n = r.length;
    return n < 2 ? 1 : ((r[n - 1]!.dataTime - r[0]!.dataTime) * n) / (n - 1);
  }

  private pump(): void {
    const r = this.records;
    const t0 = r[0]!.dataTime;
    const elapsedData = (this.now() - this.started) * this.speed;
    const due: FeedRecord[] = [];
    while (this.loop * this.span + r[this.index]!.dataTime - t0 <= elapsedData) {
      const rec = r[this.index]!;
      due.push({ ...rec, dataTime: rec.dataTime + this.loop * this.span });
      if (++this.index >= r.length) {
        if (!this.spec.loop) {
          if (due.length) this.sink.records(due);
          return;
        }
        this.index = 0;
        this.loop++;
      }
      if (due.length > 10_000) break;
    }
    if (due.length) this.sink.records(due);
    this.timer = setTimeout(() => this.pump(), STEP * 1000);
  }

  async stop(): Promise<void> {
    clearTimeout(this.timer);
    this.records = [];
  }
}

export class SimSource implements Source {
  private timer: NodeJS.Timeout | undefined;
  private sim: Simulator | undefined;
  private started = 0;
  private readonly sink: SourceSink;

  constructor(
    readonly spec: SimSpec,
    sink: SourceSink,
    private readonly now: () => number = () => Date.now() / 1000,
  ) {
    this.sink = guarded(sink);
  }

  start(): void {
    this.started = this.now();
    this.sim = new Simulator(this.spec, this.started);
    this.pump();
  }

  private pump(): void {
    const samples = this.sim!.until(this.now() - this.started + 1e-9);
    if (samples.length) this.sink.records(samples.map((s) => ({ value: s.value, dataTime: s.dataTime })));
    this.timer = setTimeout(() => this.pump(), Math.min(STEP * 5, 1 / this.spec.rate / 2) * 1000);
  }

  async stop(): Promise<void> {
    clearTimeout(this.timer);
  }
}
