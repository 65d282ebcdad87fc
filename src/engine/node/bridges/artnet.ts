/**
 * DMX output over Art-Net or sACN (E1.31): a patch's `lighting` section played
 * to a universe over UDP, at a capped frame rate. Frames are sent when they change, and at least
 * once a second otherwise (Art-Net nodes hold the last frame; a refresh lets a
 * node that restarted catch up). A panic blacks the rig out at once. A send
 * error is counted, never thrown.
 */
import { createSocket, type Socket } from 'node:dgram';
import type { Engine } from '../../audio/Engine.ts';
import type { Clock, Disposable } from '../../core/clock.ts';
import { randomUUID } from 'node:crypto';
import { ARTNET_PORT, encodeArtDmx, encodeSacn, LightingRig, parseFlashTrigger, SACN_PORT, type FlashSpec } from '../../core/lighting.ts';
import type { Patch } from '../../core/patchSchema.ts';
import { clockFor } from '../clock.ts';

type LightingSpec = NonNullable<Patch['lighting']>;

export interface ArtNetTarget {
  /** Art-Net (default) or sACN; sACN goes to its universe's multicast group unless a host is given. */
  protocol?: 'artnet' | 'sacn';
  host: string;
  port?: number;
  universe: number;
  fps: number;
}

/** Parses `--artnet HOST[:UNIVERSE]` (the port is always 6454, Art-Net's). */
export function parseArtNetArg(text: string): { host: string; universe?: number } | string {
  const m = /^([^:]+)(?::(\d+))?$/.exec(text.trim());
  if (!m) return `--artnet "${text}": expected HOST or HOST:UNIVERSE`;
  const universe = m[2] === undefined ? undefined : Number(m[2]);
  if (universe !== undefined && universe > 32767) return `--artnet "${text}": universe ${universe} is above 32767`;
  return { host: m[1]!, universe };
}

/** Builds the rig a lighting section describes. */
export function rigFor(spec: LightingSpec): LightingRig {
  const flashes: FlashSpec[] = spec.flashes.map((f) => ({ channel: f.channel, on: parseFlashTrigger(f.on) as FlashSpec['on'], level: f.level, decay: f.decay, bits: f.bits }));
  return new LightingRig(
    spec.channels.map((c) => ({ ...c })),
    flashes,
  );
}

export class ArtNetBridge {
  readonly stats = { frames: 0, errors: 0, lastError: '' };
  private readonly socket: Socket;
  private timer: Disposable | undefined;
  private sequence = 0;
  private last: Uint8Array | undefined;
  private lastSent = 0;
  private readonly unlisten: () => void;
  private readonly cid = Uint8Array.from(Buffer.from(randomUUID().replace(/-/g, ''), 'hex'));

  constructor(
    private readonly engine: Engine,
    readonly rig: LightingRig,
    readonly target: ArtNetTarget,
    /** The clock frames go out on (default: the engine context's, shared with the other bridges). */
    private readonly clock: Clock = clockFor(engine.context),
  ) {
    this.socket = createSocket('udp4');
    this.socket.on('error', (e) => this.fail(e));
    this.socket.bind(0, () => {
      try {
        this.socket.setBroadcast(true);
      } catch (e) {
        this.fail(e);
      }
    });
    this.unlisten = engine.addListener((e) => {
      if (e.type === 'note') this.rig.event({ type: 'note', voice: e.voice, velocity: e.velocity, time: e.time });
      else if (e.type === 'beat' || e.type === 'threshold' || e.type === 'scene') this.rig.event(e);
      else if (e.type === 'mute') {
        this.rig.event(e);
        this.send(true); // a blackout goes out now, not at the next frame
      }
    });
  }

  private fail(e: unknown): void {
    this.stats.errors++;
    this.stats.lastError = (e as Error)?.message ?? String(e);
  }

  start(): void {
    this.timer = this.clock.every(1 / Math.min(44, Math.max(1, this.target.fps)), () => this.send(false));
  }

  private send(force: boolean): void {
    try {
      // the light of what is heard now, not of what is being rendered
      const now = this.clock.heard();
      this.rig.update(now, this.engine.values().signals);
      const frame = this.rig.frame(now);
      const wall = this.clock.wallMs();
      if (!force && this.last && wall - this.lastSent < 1000 && frame.every((b, i) => b === this.last![i])) return;
      this.last = frame;
      this.lastSent = wall;
      this.sequence = (this.sequence % 255) + 1;
      this.socket.send(this.packet(frame, false), this.target.port ?? (this.target.protocol === 'sacn' ? SACN_PORT : ARTNET_PORT), this.target.host, (e) => e && this.fail(e));
      this.stats.frames++;
    } catch (e) {
      this.fail(e);
    }
  }

  private packet(frame: Uint8Array, terminated: boolean): Uint8Array {
    return this.target.protocol === 'sacn'
      ? encodeSacn({ universe: this.target.universe, sequence: this.sequence, priority: 100, sourceName: 'Eco-Symphony', cid: this.cid, data: frame, terminated })
      : encodeArtDmx(this.target.universe, this.sequence, frame);
  }

  /** Stops, sending one dark frame so the rig does not hang on the last look (sACN: and "stream terminated"). */
  async stop(): Promise<void> {
    this.timer?.dispose();
    this.unlisten();
    this.rig.blackout = true;
    this.send(true);
    if (this.target.protocol === 'sacn')
      for (let i = 0; i < 3; i++) {
        this.sequence = (this.sequence % 255) + 1;
        this.socket.send(this.packet(new Uint8Array(512), true), this.target.port ?? SACN_PORT, this.target.host, (e) => e && this.fail(e));
      }
    await new Promise<void>((r) => setTimeout(r, 20));
    await new Promise<void>((r) => this.socket.close(() => r()));
  }
}
