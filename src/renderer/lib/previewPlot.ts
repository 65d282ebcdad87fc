/**
 * Draws a stream preview (the session's `streamPreview`): the raw series
 * (scaled to its own range, grey) beside each signal it feeds (0…1, in
 * colour), a signal's fixed range as the raw axis's marks, threshold levels
 * dashed and their crossings as ticks, on one canvas.
 */
export interface PreviewData {
  stream: string;
  unit?: string;
  summary: string;
  rows: number;
  points: number;
  t: number[];
  raw: Array<number | null>;
  signals: Array<{
    name: string;
    range: [number, number] | 'auto';
    curve: string;
    smooth: number;
    threshold?: { above?: number; below?: number; hysteresis: number };
    values: Array<number | null>;
    events: Array<{ t: number; state: 'on' | 'off' }>;
  }>;
}

export const SIGNAL_COLOURS = ['#7dffb0', '#ffe066', '#7ac7ff', '#ff9ee6', '#ffb36b'];

export function drawPreview(canvas: HTMLCanvasElement, p: PreviewData): void {
  const dpr = window.devicePixelRatio || 1;
  const w = Math.max(100, canvas.clientWidth);
  const h = Math.max(60, canvas.clientHeight);
  canvas.width = Math.round(w * dpr);
  canvas.height = Math.round(h * dpr);
  const g = canvas.getContext('2d');
  if (!g) return;
  g.setTransform(dpr, 0, 0, dpr, 0, 0);
  g.fillStyle = '#050807';
  g.fillRect(0, 0, w, h);
  const n = p.t.length;
  if (n < 2) return;
  const t0 = p.t[0]!;
  const t1 = p.t[n - 1]!;
  const pad = 6;
  const x = (t: number) => pad + ((t - t0) / (t1 - t0 || 1)) * (w - 2 * pad);
  const y = (v: number) => h - pad - v * (h - 2 * pad);
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of p.raw) {
    if (v === null) continue;
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  const norm = (v: number) => (hi > lo ? (v - lo) / (hi - lo) : 0.5);

  const line = (values: Array<number | null>, colour: string, width: number, f: (v: number) => number) => {
    g.strokeStyle = colour;
    g.lineWidth = width;
    g.beginPath();
    let pen = false;
    for (let i = 0; i < n; i++) {
      const v = values[i];
      if (v === null || v === undefined) {
        pen = false;
        continue;
      }
      const px = x(p.t[i]!);
      const py = y(f(v));
      if (pen) g.lineTo(px, py);
      else g.moveTo(px, py);
      pen = true;
    }
    g.stroke();
  };
  line(p.raw, '#6f7a75', 1, norm);
  p.signals.forEach((s, k) => {
    const colour = SIGNAL_COLOURS[k % SIGNAL_COLOURS.length]!;
    line(s.values, colour, 1.5, (v) => Math.min(1, Math.max(0, v)));
    const level = s.threshold?.above ?? s.threshold?.below;
    if (level !== undefined) {
      g.setLineDash([5, 4]);
      g.strokeStyle = colour;
      g.lineWidth = 1;
      g.beginPath();
      g.moveTo(pad, y(level));
      g.lineTo(w - pad, y(level));
      g.stroke();
      g.setLineDash([]);
      for (const e of s.events) {
        g.fillStyle = e.state === 'on' ? colour : '#ff8a7a';
        g.fillRect(x(e.t) - 1, e.state === 'on' ? pad : h - pad - 8, 2, 8);
      }
    }
  });
}
