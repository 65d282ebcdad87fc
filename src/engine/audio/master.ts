/**
 * The master chain, shared by every patch an engine plays:
 *
 *   input → volume → DC blocker → limiter → safety clipper → level cap → fade → mute gate → destination
 *
 * Tone.Limiter is a compressor and overshoots 0 dBFS (Tone.js #770, #1353), so the
 * last stage is a WaveShaper whose curve never exceeds the ceiling: the output
 * sample peak is bounded by construction (inputs beyond ±1 read the curve's end
 * points, which are below the ceiling). It is linear up to a knee at ceiling − 3 dB
 * and bends smoothly (tanh) towards the ceiling above it. Oversampling is off on
 * purpose: its interpolation filters could overshoot the curve's bound.
 */
import { peak, rms } from '../core/analysis.ts';
import { dbToGain, gainToDb } from '../core/units.ts';
import { makeProbe, probeFault, type AudioFault } from './health.ts';
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

/**
 * Master output stage. `input` is where patches connect. Two probes (see
 * health.ts) watch it: one on the sum coming in (a runaway or a NaN upstream),
 * one after the clipper (a NaN held in the chain's own filter or compressor).
 */
export class MasterChain {
  readonly input: GainNode;
  private meter: AnalyserNode;
  private dcBlock!: BiquadFilterNode;
  /** One limiter (stereo-linked, as before) for up to two channels; one per channel beyond (a compressor takes at most two). */
  private limiters: DynamicsCompressorNode[] = [];
  /** The limiter stage's ends: the limiter itself, or a splitter and a merger around one per channel. */
  private limiterIn!: AudioNode;
  private limiterOut!: AudioNode;
  /** Output channels (those of the destination). */
  readonly channels: number;
  private clipper!: WaveShaperNode;
  private inputProbe: AnalyserNode;
  private outputProbe!: AnalyserNode;
  /** After the ceiling: the panic/mute gate (1 or 0, ramped so it never clicks). */
  private readonly gate: GainNode;
  /**
   * After the ceiling: the level cap (an installation's quiet hours), a gain
   * ≤ 1 that scales the clipper's bounded output, so the sample peak after it
   * is at most the cap, whatever comes in.
   */
  private readonly capGain: GainNode;
  /** After the cap: the fade-in after a start (0 → 1). */
  private readonly fadeGain: GainNode;
  /** The level cap, dBFS sample peak (undefined: the ceiling only). */
  capDb: number | undefined;
  muted = false;

  constructor(
    private readonly raw: BaseAudioContext,
    readonly ceilingDb = -1,
    volumeDb = -6,
    destination: AudioNode = raw.destination,
  ) {
    this.channels = destination.channelCount;
    this.input = raw.createGain();
    setAt(this.input.gain, dbToGain(volumeDb), 0, 0, 4);
    this.gate = raw.createGain();
    this.capGain = raw.createGain();
    this.fadeGain = raw.createGain();
    this.capGain.connect(this.fadeGain).connect(this.gate);
    this.meter = raw.createAnalyser();
    this.meter.fftSize = 2048;
    this.inputProbe = makeProbe(raw);
    this.input.connect(this.inputProbe);
    this.build();
    this.gate.connect(destination);
    this.gate.connect(this.meter);
  }

  /** Post-clipper tap for meters. */
  get analyser(): AnalyserNode {
    return this.meter;
  }

  /** Builds the nodes that hold state, from `input` to the gate. */
  private build(): void {
    const raw = this.raw;
    this.dcBlock = raw.createBiquadFilter();
    this.dcBlock.type = 'highpass';
    this.dcBlock.frequency.value = 10;
    this.dcBlock.Q.value = 0.707;
    const limiter = () => {
      const l = raw.createDynamicsCompressor();
      l.threshold.value = this.ceilingDb - 4;
      l.knee.value = 2;
      l.ratio.value = 20;
      l.attack.value = 0.002;
      l.release.value = 0.15;
      return l;
    };
    if (this.channels <= 2) {
      this.limiters = [limiter()];
      this.limiterIn = this.limiterOut = this.limiters[0]!;
    } else {
      const split = raw.createChannelSplitter(this.channels);
      const merge = raw.createChannelMerger(this.channels);
      this.limiters = Array.from({ length: this.channels }, (_, c) => {
        const l = limiter();
        l.channelCount = 1;
        l.channelCountMode = 'explicit';
        split.connect(l, c);
        l.connect(merge, 0, c);
        return l;
      });
      this.limiterIn = split;
      this.limiterOut = merge;
    }
    this.clipper = raw.createWaveShaper();
    this.clipper.curve = safetyCurve(dbToGain(this.ceilingDb));
    this.clipper.oversample = 'none';
    this.outputProbe = makeProbe(raw);
    this.input.connect(this.dcBlock).connect(this.limiterIn);
    this.limiterOut.connect(this.clipper).connect(this.capGain);
    this.clipper.connect(this.outputProbe);
  }

  /** What the probes saw lately: a fault coming in, or one held in the chain. */
  fault(): { at: 'input' | 'output'; fault: AudioFault } | undefined {
    const input = probeFault(this.inputProbe);
    if (input) return { at: 'input', fault: input };
    const output = probeFault(this.outputProbe);
    return output && { at: 'output', fault: output };
  }

  /**
   * Replaces the chain's filter, compressor and clipper, the probes and the
   * meter (each remembers the fault) with new ones. Volume, mute and the
   * destination carry over: panic and mute work on the new chain as before.
   */
  rebuild(): void {
    this.input.disconnect(this.dcBlock);
    for (const n of [this.dcBlock, this.limiterIn, ...this.limiters, this.limiterOut, this.clipper, this.outputProbe]) n.disconnect();
    this.input.disconnect(this.inputProbe);
    this.inputProbe = makeProbe(this.raw);
    this.input.connect(this.inputProbe);
    this.gate.disconnect(this.meter);
    this.meter = this.raw.createAnalyser();
    this.meter.fftSize = 2048;
    this.gate.connect(this.meter);
    this.build();
  }

  /** Ramps the master volume (dB). */
  setVolume(db: number, time: number, tau = 0.05): void {
    rampTo(this.input.gain, dbToGain(db), time, tau, 0, 4);
  }

  /** The master volume at `time` (dB). */
  volumeAt(time: number): number {
    return gainToDb(valueAt(this.input.gain, time));
  }

  /** The gain after the clipper for a cap (dBFS sample peak): ≤ 1, so the output peak is at most the cap. */
  capGainFor(capDb: number | undefined): number {
    return capDb === undefined || capDb >= this.ceilingDb ? 1 : dbToGain(capDb - this.ceilingDb);
  }

  /**
   * Caps the output's sample peak at `capDb` (undefined: the ceiling only); a
   * cap above the ceiling is the ceiling. Lowering takes about 50 ms, raising
   * about a second (no jump up when quiet hours end); `tau` sets the ramp's time constant.
   */
  setCap(capDb: number | undefined, time: number, tau?: number): void {
    if (capDb !== undefined && !Number.isFinite(capDb)) throw new Error(`level cap: expected a finite dBFS value (got ${capDb})`);
    const g = this.capGainFor(capDb);
    const before = this.capGainFor(this.capDb);
    this.capDb = capDb === undefined || capDb >= this.ceilingDb ? undefined : capDb;
    rampTo(this.capGain.gain, g, time, tau ?? (g < before ? 0.015 : 0.3), 0, 1);
  }

  /** The level cap's gain at `time` (1: none). */
  capGainAt(time: number): number {
    return valueAt(this.capGain.gain, time);
  }

  /** Fades the output in from silence at `time` over `seconds` (linear in gain; 0: at once). */
  fadeIn(seconds: number, time: number): void {
    const g = this.fadeGain.gain;
    g.cancelScheduledValues(0);
    if (!(seconds > 0)) {
      g.setValueAtTime(1, time);
      return;
    }
    g.setValueAtTime(0, time);
    g.linearRampToValueAtTime(1, time + seconds);
  }

  /** Mutes (in about 10 ms) or unmutes (in about 50 ms) everything after the ceiling. */
  setMuted(muted: boolean, time: number): void {
    this.muted = muted;
    rampTo(this.gate.gain, muted ? 0 : 1, time, muted ? 0.003 : 0.015, 0, 1);
  }

  /** Peak and RMS (linear) of the most recent analyser frame. */
  levels(): { peak: number; rms: number } {
    const buf = new Float32Array(this.meter.fftSize);
    this.meter.getFloatTimeDomainData(buf);
    return { peak: peak(buf), rms: rms(buf) };
  }

  dispose(): void {
    for (const n of [this.input, this.dcBlock, this.limiterIn, ...this.limiters, this.limiterOut, this.clipper, this.capGain, this.fadeGain, this.gate, this.meter, this.inputProbe, this.outputProbe])
      n.disconnect();
  }
}
