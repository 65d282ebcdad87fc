/**
 * Sources that play data they already have, paced on the clock service: files
 * (CSV, TSV, JSON, NDJSON, GeoJSON, recordings) at a speed or at their own
 * pace, looping or once; and simulations. Each looks at what is due every step.
 */
import { readFileSync } from 'node:fs';
import type { Clock, Disposable } from '../../core/clock.ts';
import { parseFeedFile, type FeedRecord } from '../../core/sources/records.ts';
import { Simulator } from '../../core/sources/sim.ts';
import type { SourceSpec } from '../../core/sources/uri.ts';
import { wallClock } from '../clock.ts';
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
  private timer: Disposable | undefined;
  private records: FeedRecord[] = [];
  private index = 0;
  private loop = 0;
  private started = 0;
  private readonly sink: SourceSink;

  /**
   * @param spreadSeconds with no speed in the spec, the whole file plays over this many seconds.
   * @param clock what paces it (default: wall time; a source plays with or without an engine).
   */
  constructor(
    readonly spec: FileSpec,
    readonly path: string,
    sink: SourceSink,
    private readonly spreadSeconds = 600,
    private readonly clock: Clock = wallClock(),
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
    this.started = this.clock.now();
    if (this.pump()) this.timer = this.clock.every(STEP, () => this.pump() || this.timer?.dispose());
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

  /** Hands over what is due; false once a file played once is done. */
  private pump(): boolean {
    const r = this.records;
    if (!r.length) return false;
    const t0 = r[0]!.dataTime;
    const elapsedData = (this.clock.now() - this.started) * this.speed;
    const due: FeedRecord[] = [];
    while (this.loop * this.span + r[this.index]!.dataTime - t0 <= elapsedData) {
      const rec = r[this.index]!;
      due.push({ ...rec, dataTime: rec.dataTime + this.loop * this.span });
      if (++this.index >= r.length) {
        if (!this.spec.loop) {
          if (due.length) this.sink.records(due);
          return false;
        }
        this.index = 0;
        this.loop++;
      }
      if (due.length > 10_000) break;
    }
    if (due.length) this.sink.records(due);
    return true;
  }

  async stop(): Promise<void> {
    this.timer?.dispose();
    this.records = [];
  }
}

export class SimSource implements Source {
  private timer: Disposable | undefined;
  private sim: Simulator | undefined;
  private started = 0;
  private readonly sink: SourceSink;

  constructor(
    readonly spec: SimSpec,
    sink: SourceSink,
    /** What paces it (default: wall time); data times are its epoch seconds. */
    private readonly clock: Clock = wallClock(),
  ) {
    this.sink = guarded(sink);
  }

  start(): void {
    this.started = this.clock.now();
    this.sim = new Simulator(this.spec, this.clock.toEpoch(this.started));
    this.pump();
    this.timer = this.clock.every(Math.min(STEP * 5, 1 / this.spec.rate / 2), () => this.pump());
  }

  private pump(): void {
    const samples = this.sim!.until(this.clock.now() - this.started + 1e-9);
    if (samples.length) this.sink.records(samples.map((s) => ({ value: s.value, dataTime: s.dataTime })));
  }

  async stop(): Promise<void> {
    this.timer?.dispose();
  }
}
