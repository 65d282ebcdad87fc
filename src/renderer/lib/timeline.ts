/**
 * The Live screen's timeline of file data: the series the session sent once
 * (`fileSeries`, downsampled), kept here outside Svelte's state, drawn on a
 * canvas in the telemetry loop (lib/telemetry.ts) with each stream's play head
 * from telemetry frames (`playheads`), the loop region and a region being dragged.
 * Data time (epoch seconds) is the x axis all file streams share.
 */
import type { FileSeriesEntry, FileTransport, Snapshot } from '../../shared/protocol.ts';
import { invalidate, telemetry, type Drawer } from './telemetry.ts';
import { SIGNAL_COLOURS } from './previewPlot.ts';

export const timeline = {
  /** The series by stream, as the session sent them. */
  series: new Map<string, FileSeriesEntry>(),
  /** A loop region being shift-dragged (data times, in drag order). */
  drag: null as [number, number] | null,
};

/** Replaces the series (a new patch, new files) and redraws. */
export function setSeries(entries: Record<string, FileSeriesEntry>): void {
  timeline.series = new Map(Object.entries(entries));
  invalidate();
}

/** The data span of one file: first to one step past the last (where its loop starts over). */
export function spanOf(e: { first: number; last: number; count: number }): [number, number] {
  return [e.first, e.count < 2 ? e.first + 1 : e.first + ((e.last - e.first) * e.count) / (e.count - 1)];
}

/** The speed factors offered (Live's Timeline, Perform's transport). */
export const SPEEDS = [0.25, 0.5, 1, 2, 4, 8];

/** The choices for a Speed select: {@link SPEEDS}, with the speed now among them when it is another. */
export function speedChoices(speed: number): number[] {
  return SPEEDS.includes(speed) ? SPEEDS : [...SPEEDS, speed].sort((a, b) => a - b);
}

/** The snapshot's file streams with their transports, in the snapshot's order. */
export function fileStreams(snap: Snapshot | undefined): Array<{ name: string; file: FileTransport }> {
  return Object.entries(snap?.streams ?? {}).flatMap(([name, st]) => (st.file ? [{ name, file: st.file }] : []));
}

/** Every file's span together (from the snapshot, before any series came); undefined with no files. */
export function filesSpan(files: Array<{ file: FileTransport }>): [number, number] | undefined {
  if (files.length === 0) return undefined;
  let lo = Infinity;
  let hi = -Infinity;
  for (const { file } of files) {
    const [a, b] = spanOf(file);
    lo = Math.min(lo, a);
    hi = Math.max(hi, b);
  }
  return [lo, hi];
}

/** Data time per second of playing, in the largest fitting unit. */
export function fmtSpeed(dataPerSecond: number): string {
  const units: Array<[string, number]> = [['years', 365.25 * 86400], ['days', 86400], ['hours', 3600], ['minutes', 60], ['seconds', 1]];
  const [u, s] = units.find(([, s]) => dataPerSecond >= s) ?? ['seconds', 1];
  const n = dataPerSecond / s;
  return `${n >= 10 ? n.toFixed(0) : n.toPrecision(2)} ${u} of data a second`;
}

/** The x axis: every file's span together; undefined with no series. */
export function axis(): [number, number] | undefined {
  let lo = Infinity;
  let hi = -Infinity;
  for (const e of timeline.series.values()) {
    const [a, b] = spanOf(e);
    lo = Math.min(lo, a);
    hi = Math.max(hi, b);
  }
  return hi > lo ? [lo, hi] : undefined;
}

const YEAR = 365.25 * 86400;
/** A data time for a label: a year, a date or a date-time by the span shown; plain seconds for files without times. */
export function formatDataTime(t: number, span: number): string {
  // Files with no time column count rows from 0 (data seconds).
  if (Math.abs(t) < 1e7 && span < 1e7) return `${Math.round(t)}`;
  const iso = new Date(t * 1000).toISOString();
  if (span >= 2 * YEAR) return iso.slice(0, 4);
  if (span >= 2 * 86400) return iso.slice(0, 10);
  return iso.slice(0, 16).replace('T', ' ');
}

/** Ticks of the axis `[t0, t1]`: data time and label (every other one labelled when they are many). */
export function ticks(t0: number, t1: number): Array<[number, string]> {
  const span = t1 - t0;
  const out: Array<[number, string]> = [];
  if (span >= 2 * YEAR && Math.abs(t0) >= 1e7) {
    const y0 = new Date(t0 * 1000).getUTCFullYear();
    const y1 = new Date(t1 * 1000).getUTCFullYear();
    const step = [1, 2, 5, 10, 20, 25, 50, 100, 200, 500, 1000].find((s) => (y1 - y0) / s <= 10) ?? 1000;
    for (let y = Math.ceil(y0 / step) * step; y <= y1; y += step) {
      const t = Date.UTC(y, 0, 1) / 1000;
      if (t >= t0 && t <= t1) out.push([t, String(y)]);
    }
    return out;
  }
  for (let i = 0; i <= 10; i++) out.push([t0 + (i / 10) * span, i % 2 === 0 && i < 10 ? formatDataTime(t0 + (i / 10) * span, span) : '']);
  return out;
}

const GRID = '#2a3530';
const TEXT = '#c8d3cc';
const HEAD = '#ffffff';
const LOOP = 'rgba(125, 255, 176, 0.14)';
const LOOP_EDGE = 'rgba(125, 255, 176, 0.7)';
const DRAG = 'rgba(255, 224, 102, 0.25)';
/** Pixels kept for the time labels under the plot. */
export const LABEL_H = 16;

/**
 * Draws the timeline: each stream's series scaled to its own range (colours as
 * the Author screen's previews), the loop region, a region being dragged, and
 * every play head. `loops` gives the loop regions by stream (from the snapshot).
 */
export function drawTimeline(loops: () => Record<string, [number, number] | null>): Drawer {
  return (ctx, w, h) => {
    const ax = axis();
    ctx.fillStyle = '#050807';
    ctx.fillRect(0, 0, w, h);
    if (!ax) {
      ctx.fillStyle = TEXT;
      ctx.font = '12px system-ui';
      ctx.fillText('reading the data…', 6, h / 2 + 4);
      return;
    }
    const [t0, t1] = ax;
    const ph = h - LABEL_H;
    const x = (t: number) => ((t - t0) / (t1 - t0)) * w;
    // Ticks of data time, labelled: whole years (1, 2, 5… apart) for data over years, else tenths.
    ctx.font = '11px system-ui';
    ctx.textBaseline = 'alphabetic';
    for (const [t, text] of ticks(t0, t1)) {
      const px = x(t);
      ctx.fillStyle = GRID;
      ctx.fillRect(Math.min(px, w - 1), 0, 1, ph);
      if (text && px < w - 30) {
        ctx.fillStyle = TEXT;
        ctx.fillText(text, px + 3, h - 4);
      }
    }
    const regions = loops();
    const shown = new Set<string>();
    for (const r of Object.values(regions)) {
      if (!r || shown.has(r.join())) continue;
      shown.add(r.join());
      ctx.fillStyle = LOOP;
      ctx.fillRect(x(r[0]), 0, x(r[1]) - x(r[0]), ph);
      ctx.fillStyle = LOOP_EDGE;
      ctx.fillRect(x(r[0]), 0, 2, ph);
      ctx.fillRect(x(r[1]) - 2, 0, 2, ph);
    }
    if (timeline.drag) {
      const [a, b] = timeline.drag;
      ctx.fillStyle = DRAG;
      ctx.fillRect(x(Math.min(a, b)), 0, Math.abs(x(b) - x(a)), ph);
    }
    let k = 0;
    for (const e of timeline.series.values()) {
      const colour = SIGNAL_COLOURS[k++ % SIGNAL_COLOURS.length]!;
      let lo = Infinity;
      let hi = -Infinity;
      for (const [, v] of e.points) {
        lo = Math.min(lo, v);
        hi = Math.max(hi, v);
      }
      if (hi - lo < 1e-12) {
        lo -= 0.5;
        hi += 0.5;
      }
      ctx.strokeStyle = colour;
      ctx.lineWidth = 1.25;
      ctx.beginPath();
      e.points.forEach(([t, v], i) => {
        const px = x(t);
        const py = ph - 3 - ((v - lo) / (hi - lo)) * (ph - 6);
        if (i === 0) ctx.moveTo(px, py);
        else ctx.lineTo(px, py);
      });
      ctx.stroke();
    }
    // Play heads: from telemetry as it comes.
    const heads = telemetry.frame?.playheads ?? {};
    ctx.fillStyle = HEAD;
    for (const name of timeline.series.keys()) {
      const head = heads[name];
      if (!head) continue;
      const px = Math.max(0, Math.min(w - 2, x(head[0]) - 1));
      ctx.fillRect(px, 0, 2, ph);
      ctx.beginPath();
      ctx.moveTo(px - 4, 0);
      ctx.lineTo(px + 6, 0);
      ctx.lineTo(px + 1, 6);
      ctx.fill();
    }
  };
}
