/** Canvas drawings of telemetry: meters, spectrum, scope, sparklines. */
import { HISTORY_SECONDS, telemetry, type Drawer, type Series } from './telemetry.ts';

const GREEN = '#7dffb0';
const YELLOW = '#ffe066';
const RED = '#ff6b6b';
const GRID = '#2a3530';
const TEXT = '#c8d3cc';

/** Linear amplitude → 0…1 on a −60…0 dBFS scale. */
function dbScale(x: number): number {
  if (!(x > 0)) return 0;
  return Math.max(0, Math.min(1, (20 * Math.log10(x) + 60) / 60));
}

/** Output meters: per channel a bar for RMS and a line for the peak (−60…0 dBFS). */
export const drawMeters: Drawer = (ctx, w, h) => {
  const f = telemetry.frame;
  const channels = f ? Math.max(f.peak.length, 1) : 2;
  const gap = 6;
  const barH = (h - gap * (channels - 1)) / channels;
  ctx.fillStyle = GRID;
  for (let db = -60; db <= 0; db += 12) {
    const x = ((db + 60) / 60) * w;
    ctx.fillRect(Math.min(x, w - 1), 0, 1, h);
  }
  for (let c = 0; c < channels; c++) {
    const y = c * (barH + gap);
    const rms = dbScale(f?.rms[c] ?? 0);
    const peak = dbScale(f?.peak[c] ?? 0);
    ctx.fillStyle = rms > 0.95 ? RED : rms > 0.8 ? YELLOW : GREEN;
    ctx.fillRect(0, y, rms * w, barH);
    ctx.fillStyle = peak > 0.95 ? RED : '#ffffff';
    ctx.fillRect(Math.max(0, peak * w - 2), y, 3, barH);
  }
};

/** The spectrum: log-spaced bands, −100…0 dBFS. */
export const drawSpectrum: Drawer = (ctx, w, h) => {
  const bands = telemetry.frame?.spectrum ?? [];
  ctx.fillStyle = GRID;
  for (let db = -100; db <= 0; db += 20) ctx.fillRect(0, h - ((db + 100) / 100) * h, w, 1);
  if (bands.length === 0) return;
  const bw = w / bands.length;
  ctx.fillStyle = GREEN;
  bands.forEach((db, i) => {
    const v = Math.max(0, Math.min(1, (db + 100) / 100));
    ctx.fillRect(i * bw, h - v * h, Math.max(1, bw - 1), v * h);
  });
};

/** The scope: a trace of the mixed output, scaled up to fill the height (the gain is written in the corner). */
export const drawScope: Drawer = (ctx, w, h) => {
  const trace = telemetry.frame?.scope ?? [];
  ctx.fillStyle = GRID;
  ctx.fillRect(0, h / 2, w, 1);
  if (trace.length < 2) return;
  let max = 0;
  for (const v of trace) max = Math.max(max, Math.abs(v));
  // Quiet passages are scaled up, at most ×1000 (−60 dBFS fills the view).
  const gain = 1 / Math.max(0.001, Math.min(1, max * 1.1));
  ctx.fillStyle = TEXT;
  ctx.font = '11px system-ui';
  ctx.fillText(`×${gain < 10 ? gain.toFixed(1) : Math.round(gain)}`, w - 40, 12);
  ctx.strokeStyle = GREEN;
  ctx.lineWidth = 1.5;
  ctx.beginPath();
  trace.forEach((v, i) => {
    const x = (i / (trace.length - 1)) * w;
    const y = h / 2 - Math.max(-1, Math.min(1, v * gain)) * (h / 2 - 1);
    if (i === 0) ctx.moveTo(x, y);
    else ctx.lineTo(x, y);
  });
  ctx.stroke();
};

/** A sparkline of the last minutes of one series, scaled to its own range. */
export function sparkline(series: () => Series | undefined, color = GREEN): Drawer {
  return (ctx, w, h) => {
    const s = series();
    const now = telemetry.frame?.time;
    if (!s || s.count < 2 || now === undefined) {
      ctx.fillStyle = TEXT;
      ctx.font = '12px system-ui';
      ctx.fillText('waiting for data', 4, h / 2 + 4);
      return;
    }
    let lo = Infinity;
    let hi = -Infinity;
    s.forEach((_t, v) => {
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    });
    if (hi - lo < 1e-9) {
      hi += 0.5;
      lo -= 0.5;
    }
    // The last minutes, or since the first value when there is less history.
    let t0 = now;
    s.forEach((t) => {
      if (t < t0) t0 = t;
    });
    const span = Math.max(1, Math.min(HISTORY_SECONDS, now - t0));
    ctx.strokeStyle = color;
    ctx.lineWidth = 1.5;
    ctx.beginPath();
    let first = true;
    s.forEach((t, v) => {
      if (now - t > span) return;
      const x = w - ((now - t) / span) * w;
      const y = h - 2 - ((v - lo) / (hi - lo)) * (h - 4);
      if (first) ctx.moveTo(x, y);
      else ctx.lineTo(x, y);
      first = false;
    });
    ctx.stroke();
  };
}

/** Colours of the voices and buses on the speaker layout, in order. */
const PLACE_COLOURS = ['#7dffb0', '#ffe066', '#6bc7ff', '#ff9f6b', '#d59bff', '#ff6b9f', '#b0ff6b', '#ffffff'];

/**
 * The speaker layout of a patch with positions: its speakers (numbered by
 * channel) on a circle seen from above (0° in front, at the top; 90° right) or
 * along a line, and a dot per voice and bus where it is now. The same, as text,
 * goes to the aria-description of the canvas's labelled parent.
 */
export const drawSpace: Drawer = (ctx, w, h) => {
  const s = telemetry.frame?.space;
  const holder = ctx.canvas.parentElement;
  ctx.font = '11px system-ui';
  if (!s) {
    ctx.fillStyle = TEXT;
    ctx.fillText('this patch has no positions (no output section)', 4, h / 2 + 4);
    holder?.setAttribute('aria-description', 'No positions');
    return;
  }
  const names = Object.keys(s.places);
  /** Where a place is drawn; `inset` < 1 draws it inside the ring (sounds inside, speakers on it). */
  let at: (place: number, inset?: number) => [number, number];
  if (s.kind === 'circle') {
    const cx = w / 2;
    const cy = h / 2;
    const r = Math.min(w, h) / 2 - 18;
    ctx.strokeStyle = GRID;
    ctx.lineWidth = 1;
    ctx.beginPath();
    ctx.arc(cx, cy, r, 0, 2 * Math.PI);
    ctx.stroke();
    at = (deg, inset = 1) => [cx + inset * r * Math.sin((deg * Math.PI) / 180), cy - inset * r * Math.cos((deg * Math.PI) / 180)];
  } else {
    const y = h / 2;
    ctx.fillStyle = GRID;
    ctx.fillRect(16, y, w - 32, 1);
    at = (p, inset = 1) => [16 + Math.min(1, Math.max(0, p)) * (w - 32), y + (inset < 1 ? 16 : 0)];
  }
  s.speakers.forEach((sp, c) => {
    if (sp === null) return;
    const [x, y] = at(sp);
    ctx.fillStyle = TEXT;
    ctx.fillRect(x - 6, y - 6, 12, 12);
    ctx.fillStyle = '#10161a';
    ctx.fillText(String(c + 1), x - (c + 1 >= 10 ? 6 : 3), y + 4);
  });
  names.forEach((name, i) => {
    const [x, y] = at(s.places[name]!, 0.78);
    const colour = PLACE_COLOURS[i % PLACE_COLOURS.length]!;
    ctx.fillStyle = colour;
    ctx.beginPath();
    ctx.arc(x, y, 5, 0, 2 * Math.PI);
    ctx.fill();
    ctx.fillText(name, x + 8, y - 6 + (i % 2) * 14);
  });
  if (s.folded) {
    ctx.fillStyle = YELLOW;
    ctx.fillText('folded down to stereo on this output', 4, h - 4);
  }
  const show = (p: number) => (s.kind === 'circle' ? `${Math.round(p)}°` : p.toFixed(2));
  const text = `${s.layout} of ${s.speakers.length} speakers${s.folded ? ', folded down to stereo' : ''}; ${names.map((n) => `${n} at ${show(s.places[n]!)}`).join(', ')}`;
  if (holder && holder.getAttribute('aria-description') !== text) holder.setAttribute('aria-description', text);
};
