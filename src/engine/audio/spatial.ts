/**
 * The graph of a positioned voice or bus: its sound summed to mono, then one
 * gain per output channel (equal-power across the layout, core/spatial.ts) into
 * a channel merger. A moving position is scheduled ahead like everything else:
 * {@link SpatialStrip.advance} ramps the gains to where it will be every
 * {@link SPATIAL_STEP} seconds, up to the scheduler's horizon.
 */
import { foldDownGains, isMoving, panGains, placeAt, type Layout, type PositionSpec } from '../core/spatial.ts';

/** Control period of moving positions, seconds. */
export const SPATIAL_STEP = 0.02;

export interface SpatialPlan {
  layout: Layout;
  /** Folded down to stereo (the device has fewer channels than the layout). */
  folded: boolean;
  /** Channels of the graph: the layout's, or 2 when folded. */
  channels: number;
}

export class SpatialStrip {
  /** Where the voice or bus connects its output. */
  readonly input: GainNode;
  private readonly gains: GainNode[];
  private readonly merger: ChannelMergerNode;
  private scheduledUntil: number;
  /** The last place scheduled (a follow glides from it). */
  private place: number;
  /** It moves by itself (orbit, drift, follow): its place cannot be set. */
  readonly moving: boolean;

  constructor(
    raw: BaseAudioContext,
    private readonly plan: SpatialPlan,
    private readonly position: PositionSpec,
    output: AudioNode,
    private readonly startTime: number,
    private readonly seed: number,
  ) {
    this.input = raw.createGain();
    this.input.channelCount = 1;
    this.input.channelCountMode = 'explicit';
    this.input.channelInterpretation = 'speakers';
    this.merger = raw.createChannelMerger(plan.channels);
    this.gains = Array.from({ length: plan.channels }, (_, c) => {
      const g = raw.createGain();
      this.input.connect(g);
      g.connect(this.merger, 0, c);
      return g;
    });
    this.merger.connect(output);
    this.moving = isMoving(position);
    this.place = placeAt(plan.layout, position, 0, 0.5, seed);
    this.set(this.gainsAt(this.place), startTime);
    this.scheduledUntil = startTime;
  }

  /** Gains for a place, on the layout or folded down to stereo. */
  private gainsAt(place: number): number[] {
    return this.plan.folded ? foldDownGains(this.plan.layout, place) : panGains(this.plan.layout, place);
  }

  private set(gains: number[], time: number): void {
    gains.forEach((v, c) => this.gains[c]!.gain.setValueAtTime(v, Math.max(0, time)));
  }

  /**
   * Schedules a moving position up to `until`. `signal` is the value (0…1) of
   * the signal a `follow` position follows, now.
   */
  advance(until: number, signal?: number): void {
    if (!this.moving) return;
    const p = this.position;
    const follow = typeof p === 'object' && 'follow' in p ? p : undefined;
    while (this.scheduledUntil + SPATIAL_STEP <= until + 1e-9) {
      const t = this.scheduledUntil + SPATIAL_STEP;
      if (follow) {
        const target = placeAt(this.plan.layout, p, t - this.startTime, signal ?? 0.5, this.seed);
        this.place = follow.glide > 0 ? this.place + (target - this.place) * (1 - Math.exp(-SPATIAL_STEP / follow.glide)) : target;
      } else this.place = placeAt(this.plan.layout, p, t - this.startTime, 0.5, this.seed);
      const gains = this.gainsAt(this.place);
      gains.forEach((v, c) => this.gains[c]!.gain.linearRampToValueAtTime(v, t));
      this.scheduledUntil = t;
    }
  }

  /** Puts a fixed position at `place` from `time`, gliding over one control step (no click). */
  moveTo(place: number, time: number): void {
    this.place = place;
    this.gainsAt(place).forEach((v, c) => this.gains[c]!.gain.setTargetAtTime(v, Math.max(0, time), SPATIAL_STEP / 3));
  }

  /** The positioned sound, in the plan's channels (what a stem of it records). */
  get output(): AudioNode {
    return this.merger;
  }

  /** The place now (degrees or 0…1), for the OSC address space and the UI. */
  get currentPlace(): number {
    return this.place;
  }

  dispose(): void {
    this.input.disconnect();
    for (const g of this.gains) g.disconnect();
    this.merger.disconnect();
  }
}
