/**
 * Telemetry outside Svelte's state: frames arrive up to 30 times a second and
 * only canvases read them, so they live in plain objects here, and one
 * requestAnimationFrame loop redraws the registered canvases when a new frame
 * has come. Nothing runs while the page is hidden (no frame is scheduled; the
 * loop restarts on `visibilitychange`).
 */
import type { TelemetryFrame } from '../../shared/protocol.ts';

/** How many seconds of history a sparkline keeps. */
export const HISTORY_SECONDS = 180;
const HISTORY_POINTS = 1024;

/** A ring of (time, value) points. */
export class Series {
  readonly t = new Float64Array(HISTORY_POINTS);
  readonly v = new Float64Array(HISTORY_POINTS);
  /** Index of the next write; `count` points are valid before it. */
  head = 0;
  count = 0;
  private lastT = -Infinity;

  push(time: number, value: number): void {
    // At most ~5 points a second: 180 s fits the ring.
    if (time - this.lastT < HISTORY_SECONDS / HISTORY_POINTS) {
      this.v[(this.head + HISTORY_POINTS - 1) % HISTORY_POINTS] = value;
      return;
    }
    this.lastT = time;
    this.t[this.head] = time;
    this.v[this.head] = value;
    this.head = (this.head + 1) % HISTORY_POINTS;
    this.count = Math.min(HISTORY_POINTS, this.count + 1);
  }

  /** Visits points oldest first. */
  forEach(fn: (t: number, v: number) => void): void {
    const start = (this.head - this.count + HISTORY_POINTS) % HISTORY_POINTS;
    for (let i = 0; i < this.count; i++) {
      const k = (start + i) % HISTORY_POINTS;
      fn(this.t[k]!, this.v[k]!);
    }
  }
}

export const telemetry = {
  frame: null as TelemetryFrame | null,
  /** Frames received (the canvases redraw when it moves). */
  frames: 0,
  streams: new Map<string, Series>(),
  signals: new Map<string, Series>(),
};

/** Takes one telemetry frame (the client's handler). */
export function takeFrame(f: TelemetryFrame): void {
  telemetry.frame = f;
  telemetry.frames++;
  for (const [k, v] of Object.entries(f.streams)) seriesOf(telemetry.streams, k).push(f.time, v);
  for (const [k, v] of Object.entries(f.signals)) seriesOf(telemetry.signals, k).push(f.time, v);
}

function seriesOf(map: Map<string, Series>, key: string): Series {
  let s = map.get(key);
  if (!s) map.set(key, (s = new Series()));
  return s;
}

/** Draws one canvas from the latest telemetry; `ctx` is already scaled to CSS pixels. */
export type Drawer = (ctx: CanvasRenderingContext2D, width: number, height: number) => void;

interface Entry {
  canvas: HTMLCanvasElement;
  draw: Drawer;
  drawnAt: number;
}

const entries = new Set<Entry>();
let raf = 0;
/** Frame times of the loop's own work, ms: read by `npm run bench -- --ui` as `globalThis.ecosymFrameWork`. */
export const frameWork: number[] = [];
(globalThis as { ecosymFrameWork?: number[] }).ecosymFrameWork = frameWork;

function loop(): void {
  raf = 0;
  if (document.hidden || entries.size === 0) return;
  const started = performance.now();
  for (const e of entries) {
    if (e.drawnAt === telemetry.frames) continue;
    e.drawnAt = telemetry.frames;
    const c = e.canvas;
    const dpr = window.devicePixelRatio || 1;
    const w = c.clientWidth;
    const h = c.clientHeight;
    if (w === 0 || h === 0) continue;
    if (c.width !== Math.round(w * dpr) || c.height !== Math.round(h * dpr)) {
      c.width = Math.round(w * dpr);
      c.height = Math.round(h * dpr);
    }
    const ctx = c.getContext('2d');
    if (!ctx) continue;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, w, h);
    try {
      e.draw(ctx, w, h);
    } catch (err) {
      console.error('[ui] a canvas failed to draw', err);
    }
  }
  frameWork.push(performance.now() - started);
  if (frameWork.length > 2000) frameWork.splice(0, 1000);
  raf = requestAnimationFrame(loop);
}

function kick(): void {
  if (raf === 0 && !document.hidden && entries.size > 0) raf = requestAnimationFrame(loop);
}

document.addEventListener('visibilitychange', kick);

/** Redraws every canvas at the next animation frame, telemetry or not (a drawing's own data changed). */
export function invalidate(): void {
  for (const e of entries) e.drawnAt = -1;
  kick();
}

/** A Svelte action: `<canvas use:drawn={drawer}>` redraws it from telemetry. */
export function drawn(canvas: HTMLCanvasElement, draw: Drawer): { update(d: Drawer): void; destroy(): void } {
  const entry: Entry = { canvas, draw, drawnAt: -1 };
  entries.add(entry);
  kick();
  return {
    update(d: Drawer) {
      entry.draw = d;
      entry.drawnAt = -1;
      kick();
    },
    destroy() {
      entries.delete(entry);
    },
  };
}
