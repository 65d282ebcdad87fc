/**
 * The master chain, shared by every patch an engine plays:
 *
 *   input → volume → DC blocker → limiter → safety clipper → destination
 *
 * Tone.Limiter is a compressor and overshoots 0 dBFS (Tone.js #770, #1353), so the
 * last stage is a WaveShaper whose curve never exceeds the ceiling: the output
 * sample peak is bounded by construction (inputs beyond ±1 read the curve's end
 * points, which are below the ceiling). It is linear up to a knee at ceiling − 3 dB
 * and bends smoothly (tanh) towards the ceiling above it. Oversampling is off on
 * purpose: its interpolation filters could overshoot the curve's bound.
 */
import { dbToGain, gainToDb } from '../core/units.ts';
import { rampTo, setAt, valueAt } from './params.ts';

/** The clipper's transfer curve over [−1, 1] for a linear `ceiling`. */
export function safetyCurve(ceiling: number, points = 8193): Float32Array<ArrayBuffer> {
  const knee = ceiling * dbToGain(-3);
  const headroom = ceiling - knee;
  // Float32 storage must not round a point above the ceiling.
  const cap = Math.fround(ceiling) > ceiling ? ceiling * (1 - 1e-6) : ceiling;
  const curve = new Float32Array(points);
  for (let i = 0; i < points; i++) {
    const x = (i / (points - 1)) * 2 - 1;
    const a = Math.abs(x);
    const y = a <= knee ? a : knee + headroom * Math.tanh((a - knee) / headroom);
    curve[i] = Math.sign(x) * Math.min(y, cap);
  }
  return curve;
}

/** Master output stage. `input` is where patches connect. */
export class MasterChain {
  readonly input: GainNode;
  /** Post-clipper tap for meters. */
  readonly analyser: AnalyserNode;
  private readonly dcBlock: BiquadFilterNode;
  private readonly limiter: DynamicsCompressorNode;
  private readonly clipper: WaveShaperNode;
  /** After the ceiling: the panic/mute gate (1 or 0, ramped so it never clicks). */
  private readonly gate: GainNode;
  muted = false;

  constructor(
    raw: BaseAudioContext,
    readonly ceilingDb = -1,
    volumeDb = -6,
    destination: AudioNode = raw.destination,
  ) {
    this.input = raw.createGain();
    setAt(this.input.gain, dbToGain(volumeDb), 0, 0, 4);
    this.dcBlock = raw.createBiquadFilter();
    this.dcBlock.type = 'highpass';
    this.dcBlock.frequency.value = 10;
    this.dcBlock.Q.value = 0.707;
    this.limiter = raw.createDynamicsCompressor();
    this.limiter.threshold.value = ceilingDb - 4;
    this.limiter.knee.value = 2;
    this.limiter.ratio.value = 20;
    this.limiter.attack.value = 0.002;
    this.limiter.release.value = 0.15;
    this.clipper = raw.createWaveShaper();
    this.clipper.curve = safetyCurve(dbToGain(ceilingDb));
    this.clipper.oversample = 'none';
    this.analyser = raw.createAnalyser();
    this.analyser.fftSize = 2048;
    this.gate = raw.createGain();
    this.input.connect(this.dcBlock).connect(this.limiter).connect(this.clipper).connect(this.gate).connect(destination);
    this.gate.connect(this.analyser);
  }

  /** Ramps the master volume (dB). */
  setVolume(db: number, time: number, tau = 0.05): void {
    rampTo(this.input.gain, dbToGain(db), time, tau, 0, 4);
  }

  /** The master volume at `time` (dB). */
  volumeAt(time: number): number {
    return gainToDb(valueAt(this.input.gain, time));
  }

  /** Mutes (in about 10 ms) or unmutes (in about 50 ms) everything after the ceiling. */
  setMuted(muted: boolean, time: number): void {
    this.muted = muted;
    rampTo(this.gate.gain, muted ? 0 : 1, time, muted ? 0.003 : 0.015, 0, 1);
  }

  /** Peak and RMS (linear) of the most recent analyser frame. */
  levels(): { peak: number; rms: number } {
    const buf = new Float32Array(this.analyser.fftSize);
    this.analyser.getFloatTimeDomainData(buf);
    let peak = 0;
    let sum = 0;
    for (const x of buf) {
      const a = Math.abs(x);
      if (a > peak) peak = a;
      sum += x * x;
    }
    return { peak, rms: Math.sqrt(sum / buf.length) };
  }

  dispose(): void {
    for (const n of [this.input, this.dcBlock, this.limiter, this.clipper, this.gate, this.analyser]) n.disconnect();
  }
}
