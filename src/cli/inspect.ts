/**
 * What a patch's data does: per stream the values its source gives (count,
 * time span, min / max, what loading dropped), and per signal the range the
 * signal covers on that data and whether its thresholds are ever reached.
 * `ecosym validate` prints it (unless --no-data); `ecosym inspect` adds a small
 * plot of each stream and signal.
 */
import { Conditioner } from '../engine/core/conditioning.ts';
import { isLive, parseSourceUri } from '../engine/core/sources/uri.ts';
import { conditionSpec } from '../engine/audio/PatchRuntime.ts';
import { collectStreams } from '../engine/node/sources/collect.ts';
import { dirname, resolve } from 'node:path';
import { loadPatchFile, readPatchResult, resolvePatchPath, type PatchFile } from '../engine/node/files.ts';
import { dataOverrides } from './common.ts';

/** Playing seconds the data is laid over for the report (play's default loop). */
const REPORT_SECONDS = 600;

export interface SignalReport {
  name: string;
  min: number;
  max: number;
  /** Values of the signal over the data, evenly thinned for plotting. */
  plot: number[];
  warnings: string[];
}

export interface StreamReport {
  stream: string;
  source: string;
  /** Not read: a live source, or none. */
  skipped?: string;
  error?: string;
  described?: string;
  pace?: string;
  count?: number;
  first?: number;
  last?: number;
  min?: number;
  max?: number;
  /** Distinct text values, for category streams. */
  categories?: string[];
  plot?: number[];
  signals: SignalReport[];
  warnings: string[];
}

const PLOT_WIDTH = 60;

function thin(values: number[], width = PLOT_WIDTH): number[] {
  if (values.length <= width) return values;
  return Array.from({ length: width }, (_, i) => {
    const lo = Math.floor((i * values.length) / width);
    const hi = Math.max(lo + 1, Math.floor(((i + 1) * values.length) / width));
    let s = 0;
    for (let k = lo; k < hi; k++) s += values[k]!;
    return s / (hi - lo);
  });
}

const fmt = (x: number) => (Math.abs(x) >= 1000 || x === Math.round(x) ? String(Math.round(x * 100) / 100) : x.toPrecision(3).replace(/\.?0+$/, ''));

/** Reads each stream's data as `render` would, and conditions it through the patch's signals. */
export async function dataReport(pf: PatchFile, bindings: string[] = []): Promise<StreamReport[]> {
  const overrides = dataOverrides(pf, bindings);
  const out: StreamReport[] = [];
  // All file streams at once: the dated ones share one time axis (their pace lines say so).
  const collected = await collectStreams(pf.patch, pf.dir, overrides, { duration: REPORT_SECONDS, skip: (_, spec) => isLive(spec) });
  for (const [stream, spec] of Object.entries(pf.patch.streams)) {
    const source = overrides.get(stream) ?? spec.source;
    const r: StreamReport = { stream, source: source ?? '', signals: [], warnings: [] };
    out.push(r);
    if (!source) {
      r.skipped = 'no source (fed by --data, OSC or MIDI)';
      continue;
    }
    let live: boolean;
    try {
      live = isLive(parseSourceUri(source));
    } catch (e) {
      r.error = (e as Error).message;
      continue;
    }
    if (live) {
      r.skipped = 'a live source: not read here (see ecosym sources)';
      continue;
    }
    let points;
    try {
      const c = collected.get(stream);
      if (c === undefined) throw new Error(`${stream}: not read`);
      if (c instanceof Error) throw c;
      points = c.feed.points;
      r.described = c.described;
      r.pace = c.pace;
    } catch (e) {
      r.error = (e as Error).message;
      continue;
    }
    r.count = points.length;
    const timed = points.filter((p) => p.dataTime !== undefined);
    if (timed.length) [r.first, r.last] = [timed[0]!.dataTime!, timed[timed.length - 1]!.dataTime!];
    const numbers = points.flatMap((p) => (typeof p.value === 'number' ? [p.value] : []));
    if (numbers.length) {
      r.min = Math.min(...numbers);
      r.max = Math.max(...numbers);
      r.plot = thin(numbers);
    }
    const texts = [...new Set(points.flatMap((p) => (typeof p.value === 'string' ? [p.value] : [])))];
    if (texts.length) r.categories = texts.slice(0, 20);
    for (const [name, sig] of Object.entries(pf.patch.signals)) {
      if (sig.from !== stream) continue;
      const c = new Conditioner(conditionSpec(sig, spec.unit), 0);
      const values: number[] = [];
      for (const p of points) {
        const y = c.push(p.value, p.time, p.dataTime);
        if (y) values.push(y.value);
      }
      const s: SignalReport = { name, min: values.length ? Math.min(...values) : NaN, max: values.length ? Math.max(...values) : NaN, plot: thin(values), warnings: [] };
      r.signals.push(s);
      if (values.length === 0) {
        s.warnings.push(`signal \`${name}\` gets no values from this data`);
        continue;
      }
      if (Array.isArray(sig.range) && r.min !== undefined && r.max !== undefined) {
        const [lo, hi] = [Math.min(...sig.range), Math.max(...sig.range)];
        const used = (Math.min(hi, r.max) - Math.max(lo, r.min)) / (hi - lo);
        if (r.max < lo || r.min > hi) s.warnings.push(`range [${sig.range.join(', ')}] of \`${name}\` misses the data (${fmt(r.min)} … ${fmt(r.max)}): the signal never moves`);
        else if (used < 0.25) s.warnings.push(`the data (${fmt(r.min)} … ${fmt(r.max)}) uses ${Math.round(used * 100)} % of the range [${sig.range.join(', ')}] of \`${name}\`: little will be heard`);
      }
      const t = sig.threshold;
      if (t) {
        if (t.above !== undefined && s.max < t.above)
          s.warnings.push(`threshold \`${name}\` above ${t.above} is never reached: the signal's maximum on this data is ${s.max.toFixed(2)}`);
        if (t.below !== undefined && s.min > t.below)
          s.warnings.push(`threshold \`${name}\` below ${t.below} is never reached: the signal's minimum on this data is ${s.min.toFixed(2)}`);
        if (sig.smooth === 0 && !sig.filter && sig.slew === undefined && t.hold === 0)
          s.warnings.push(`threshold \`${name}\` sits on unsmoothed data: noise can flip it (and its scenes) again and again; add smooth, or hold: 10s`);
      }
    }
  }
  return out;
}

/** `2010-01-01 … 2010-12-31` or `1880 … 2023` (epoch seconds), or row numbers. */
function span(first: number, last: number): string {
  if (Math.abs(first) < 1e8 && Math.abs(last) < 1e8) return `t ${fmt(first)} … ${fmt(last)}`;
  const iso = (t: number) => new Date(t * 1000).toISOString();
  const long = last - first > 2 * 365.25 * 86400;
  const f = (t: number) => (long ? iso(t).slice(0, 4) : last - first > 2 * 86400 ? iso(t).slice(0, 10) : iso(t).slice(0, 16).replace('T', ' '));
  return `${f(first)} … ${f(last)}`;
}

const BARS = '▁▂▃▄▅▆▇█';

/** A one-line plot of values (scaled to their own min…max, or to `lo`…`hi`). */
export function sparkline(values: number[], lo = Math.min(...values), hi = Math.max(...values)): string {
  if (!values.length) return '';
  return values.map((v) => BARS[hi > lo ? Math.min(7, Math.max(0, Math.floor(((v - lo) / (hi - lo)) * 8))) : 0]).join('');
}

/** The report as lines; with `plot`, a sparkline under each stream and signal. Returns the lines and the number of errors. */
export function formatDataReport(report: StreamReport[], plot: boolean): { lines: string[]; errors: number; warnings: number } {
  const lines: string[] = [];
  let errors = 0;
  let warnings = 0;
  for (const r of report) {
    if (r.error) {
      errors++;
      lines.push(`  ${r.stream}: error: ${r.error}`);
      continue;
    }
    if (r.skipped) {
      lines.push(`  ${r.stream}: ${r.skipped}`);
      continue;
    }
    const range = r.min !== undefined ? `, ${fmt(r.min)} … ${fmt(r.max!)}` : '';
    const cats = r.categories ? `, categories: ${r.categories.join(', ')}` : '';
    lines.push(`  ${r.stream}: ${r.count} values${r.first !== undefined ? `, ${span(r.first, r.last!)}` : ''}${range}${cats}`);
    if (r.described) lines.push(`    read: ${r.described.replace(/^.*? ← /, '')}`);
    if (r.pace) lines.push(`    pace: ${r.pace.replace(/^[^:]*: /, '')} (play's default 10 min loop)`);
    if (plot && r.plot?.length) lines.push(`    ${sparkline(r.plot)}`);
    for (const s of r.signals) {
      lines.push(`    signal ${s.name}: ${Number.isFinite(s.min) ? `${s.min.toFixed(2)} … ${s.max.toFixed(2)}` : 'no values'}`);
      if (plot && s.plot.length) lines.push(`      ${sparkline(s.plot, 0, 1)}`);
      for (const w of s.warnings) {
        warnings++;
        lines.push(`    warning: ${w}`);
      }
    }
  }
  return { lines, errors, warnings };
}

/** `ecosym validate`'s data check of each valid patch file: the report lines; returns the number of data errors. */
export async function validateDataCommand(files: string[], out: (s: string) => void = console.log, err: (s: string) => void = console.error): Promise<number> {
  let errors = 0;
  for (const f of files) {
    const file = resolvePatchPath(f);
    const r = readPatchResult(file);
    if (!r.ok) continue;
    const report = await dataReport({ file: f, dir: dirname(resolve(file)), patch: r.patch, lineOf: r.lineOf });
    const { lines, errors: n } = formatDataReport(report, false);
    out(`data of ${f}:`);
    for (const l of lines) (l.includes('error: ') ? err : out)(l.includes('error: ') ? `${f}: ${l.trim()}` : l);
    errors += n;
  }
  return errors;
}

/** `ecosym inspect PATCH [--data …] [--json]`. Returns the exit code (1 when data cannot be read). */
export async function inspectCommand(patch: string, bindings: string[], json: boolean, out: (s: string) => void = console.log): Promise<number> {
  const file = resolvePatchPath(patch);
  const pf = loadPatchFile(file);
  const report = await dataReport(pf, bindings);
  if (json) {
    out(JSON.stringify({ patch: pf.patch.name, file, streams: report }, null, 2));
    return report.some((r) => r.error) ? 1 : 0;
  }
  const { lines, errors, warnings } = formatDataReport(report, true);
  out(`${pf.patch.name} (${patch}): ${report.length} streams, ${errors} errors, ${warnings} warnings`);
  for (const l of lines) out(l);
  return errors ? 1 : 0;
}
