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

function levels(buf: Float32Array): { peak: number; rms: number } {
  return { peak: peak(buf), rms: rms(buf) };
}

/** Makes telemetry frames for subscribers, at up to {@link MAX_FPS}. */
export class Telemetry {
  private readonly listeners = new Set<(f: TelemetryFrame) => void>();
  private timer: Disposable | undefined;
  private nodes: { splitter: ChannelSplitterNode; channels: AnalyserNode[] } | undefined;
  /** Frames made (tests and benchmarks). */
  frames = 0;

  constructor(
    private readonly engine: Engine,
    private readonly clock: Clock,
    private readonly fps = MAX_FPS,
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
    this.engine.master.analyser.connect(splitter);
    this.nodes = { splitter, channels };
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

  /** Makes one frame now (undefined when nobody subscribes). */
  frame(): TelemetryFrame | undefined {
    if (!this.nodes) return undefined;
    const mix = this.engine.master.analyser;
    const buf = new Float32Array(2048);
    const peak: number[] = [];
    const rms: number[] = [];
    for (const a of this.nodes.channels) {
      a.getFloatTimeDomainData(buf);
      const l = levels(buf);
      peak.push(l.peak);
      rms.push(l.rms);
    }
    const wave = new Float32Array(mix.fftSize);
    mix.getFloatTimeDomainData(wave);
    const step = wave.length / SCOPE_POINTS;
    const scope = Array.from({ length: SCOPE_POINTS }, (_, i) => wave[Math.floor(i * step)]!);
    const db = new Float32Array(mix.frequencyBinCount);
    mix.getFloatFrequencyData(db);
    const v = this.engine.values();
    this.frames++;
    return {
      v: PROTOCOL_VERSION,
      type: 'telemetry',
      time: this.engine.context.currentTime,
      peak,
      rms,
      spectrum: logBands(db, this.engine.context.sampleRate),
      scope,
      streams: v.streams,
      signals: v.signals,
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
