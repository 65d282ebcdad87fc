/**
 * Telemetry frames of a playing engine: per-channel peak and RMS, a log-spaced
 * spectrum, a short scope trace, stream and signal values. The analysers it
 * needs are made when the first listener subscribes and removed with the last,
 * so a session nobody watches pays nothing for it.
 */
import type { Engine } from '../../audio/Engine.ts';
import type { Clock, Disposable } from '../../core/clock.ts';
import { peak, rms } from '../../core/analysis.ts';
import { PROTOCOL_VERSION, type TelemetryFrame } from '../../../shared/protocol.ts';

/** Bands of the spectrum, log-spaced from 20 Hz to 20 kHz. */
export const SPECTRUM_BANDS = 32;
/** Points of the scope trace. */
export const SCOPE_POINTS = 256;
/** Most frames a second. */
export const MAX_FPS = 30;

/** The log-spaced bands (max dB of the FFT bins in each) of an analyser's frequency data. */
export function logBands(db: Float32Array, sampleRate: number, bands = SPECTRUM_BANDS): number[] {
  const binHz = sampleRate / 2 / db.length;
  const out: number[] = [];
  for (let k = 0; k < bands; k++) {
    const lo = 20 * 1000 ** (k / bands);
    const hi = 20 * 1000 ** ((k + 1) / bands);
    let a = Math.floor(lo / binHz);
    const b = Math.max(a + 1, Math.ceil(hi / binHz));
    let m = -Infinity;
    for (; a < b && a < db.length; a++) m = Math.max(m, db[a]!);
    out.push(Number.isFinite(m) ? Math.max(-140, m) : -140);
  }
  return out;
}

/** First and last-plus-one FFT bin of each log-spaced band, for bins of `binHz`. */
export function bandBins(bins: number, sampleRate: number, bands = SPECTRUM_BANDS): Int32Array {
  const binHz = sampleRate / 2 / bins;
  const out = new Int32Array(bands * 2);
  for (let k = 0; k < bands; k++) {
    const a = Math.floor((20 * 1000 ** (k / bands)) / binHz);
    out[k * 2] = a;
    out[k * 2 + 1] = Math.max(a + 1, Math.ceil((20 * 1000 ** ((k + 1) / bands)) / binHz));
  }
  return out;
}

/** Rounds for the wire: a frame's numbers are read by eyes and meters, and short numbers serialize several times faster. */
const round = (x: number, scale: number) => Math.round(x * scale) / scale;

/** Buffers of one subscription, made once and reused every frame. */
interface Nodes {
  splitter: ChannelSplitterNode;
  channels: AnalyserNode[];
  level: Float32Array<ArrayBuffer>;
  wave: Float32Array<ArrayBuffer>;
  db: Float32Array<ArrayBuffer>;
  bands: Int32Array;
}

/** Makes telemetry frames for subscribers, at up to {@link MAX_FPS}. */
export class Telemetry {
  private readonly listeners = new Set<(f: TelemetryFrame) => void>();
  private timer: Disposable | undefined;
  private nodes: Nodes | undefined;
  /** Frames made (tests and benchmarks). */
  frames = 0;

  constructor(
    private readonly engine: Engine,
    private readonly clock: Clock,
    private readonly fps = MAX_FPS,
    /** File streams' play heads for the frame (the session's transports), if any. */
    private readonly playheads?: () => TelemetryFrame['playheads'],
  ) {}

  /** Subscribes; frames come until the returned function is called. */
  subscribe(fn: (f: TelemetryFrame) => void): () => void {
    this.listeners.add(fn);
    if (this.listeners.size === 1) this.open();
    return () => {
      if (this.listeners.delete(fn) && this.listeners.size === 0) this.close();
    };
  }

  private open(): void {
    const raw = this.engine.context.rawContext as unknown as BaseAudioContext;
    const splitter = raw.createChannelSplitter(2);
    const channels = [0, 1].map((c) => {
      const a = raw.createAnalyser();
      a.fftSize = 2048;
      splitter.connect(a, c);
      return a;
    });
    const mix = this.engine.master.analyser;
    mix.connect(splitter);
    this.nodes = {
      splitter,
      channels,
      level: new Float32Array(channels[0]!.fftSize),
      wave: new Float32Array(mix.fftSize),
      db: new Float32Array(mix.frequencyBinCount),
      bands: bandBins(mix.frequencyBinCount, this.engine.context.sampleRate),
    };
    this.timer = this.clock.every(1 / Math.min(MAX_FPS, Math.max(1, this.fps)), () => this.emit());
  }

  private close(): void {
    this.timer?.dispose();
    this.timer = undefined;
    if (!this.nodes) return;
    try {
      this.engine.master.analyser.disconnect(this.nodes.splitter);
    } catch {
      // the master chain was disposed first
    }
    this.nodes.splitter.disconnect();
    for (const a of this.nodes.channels) a.disconnect();
    this.nodes = undefined;
  }

  /** Makes one frame now (undefined when nobody subscribes). Reuses its buffers; numbers rounded for the wire. */
  frame(): TelemetryFrame | undefined {
    const n = this.nodes;
    if (!n) return undefined;
    const mix = this.engine.master.analyser;
    const peaks: number[] = [];
    const rmss: number[] = [];
    for (const a of n.channels) {
      a.getFloatTimeDomainData(n.level);
      peaks.push(round(peak(n.level), 1e5));
      rmss.push(round(rms(n.level), 1e5));
    }
    mix.getFloatTimeDomainData(n.wave);
    const step = n.wave.length / SCOPE_POINTS;
    const scope = new Array<number>(SCOPE_POINTS);
    for (let i = 0; i < SCOPE_POINTS; i++) scope[i] = round(n.wave[Math.floor(i * step)]!, 1e3);
    mix.getFloatFrequencyData(n.db);
    const spectrum = new Array<number>(SPECTRUM_BANDS);
    for (let k = 0; k < SPECTRUM_BANDS; k++) {
      let m = -Infinity;
      for (let i = n.bands[k * 2]!, end = Math.min(n.bands[k * 2 + 1]!, n.db.length); i < end; i++) if (n.db[i]! > m) m = n.db[i]!;
      spectrum[k] = Number.isFinite(m) ? round(Math.max(-140, m), 10) : -140;
    }
    const v = this.engine.values();
    const heads = this.playheads?.();
    const space = this.engine.space();
    this.frames++;
    return {
      v: PROTOCOL_VERSION,
      type: 'telemetry',
      time: round(this.engine.context.currentTime, 1e4),
      peak: peaks,
      rms: rmss,
      spectrum,
      scope,
      streams: v.streams,
      signals: v.signals,
      ...(heads ? { playheads: heads } : {}),
      ...(space && { space: { ...space, places: Object.fromEntries(Object.entries(space.places).map(([n, x]) => [n, round(x, 1e3)])) } }),
    };
  }

  private emit(): void {
    const f = this.frame();
    if (!f) return;
    for (const fn of this.listeners) {
      try {
        fn(f);
      } catch {
        // a subscriber's failure is its own; the next frame still goes to the others
      }
    }
  }

  dispose(): void {
    this.listeners.clear();
    this.close();
  }
}
