/**
 * `ecosym sources <patch>`: every stream's live status in the terminal.
 * `ecosym record <uri> --out feed.csv`: capture a feed as a recording that
 * replays as a source as it is.
 */
import { appendFileSync, existsSync, renameSync, unlinkSync } from 'node:fs';
import { resolve } from 'node:path';
import { SampleGate, REJECT_REASONS } from '../engine/core/sources/gate.ts';
import { formatRecordingRow, RECORDING_HEADER } from '../engine/core/sources/records.ts';
import type { SourceStatus } from '../engine/core/sources/status.ts';
import { parseSourceUri, type SourceSpec } from '../engine/core/sources/uri.ts';
import { formatSeconds } from '../engine/core/units.ts';
import { loadPatchFile, resolvePatchPath } from '../engine/node/files.ts';
import { absolutizeFileUri } from '../engine/node/sources/collect.ts';
import { createSource, SourceHub } from '../engine/node/sources/hub.ts';
import { dataOverrides, durationArg, UsageError } from './common.ts';
import { waitForStop } from './stop.ts';

function fmtValue(v: number | string | undefined): string {
  if (v === undefined) return '–';
  if (typeof v === 'string') return v;
  return Number.isInteger(v) ? String(v) : v.toPrecision(5);
}

/** The status table, one line per stream. */
export function formatStatusTable(statuses: SourceStatus[], now: number): string {
  const rows = statuses.map((s) => {
    const rejected = Object.entries(s.rejected)
      .map(([k, n]) => `${k} ${n}`)
      .join(', ');
    return [
      s.stream,
      s.state,
      s.connection === undefined ? '–' : `${s.connection === 'connected' ? 'up' : 'down'} ${formatSeconds(Math.max(0, now - (s.connectionSince ?? now)))}`,
      fmtValue(s.lastValue),
      s.lastTime === undefined ? '–' : `${formatSeconds(Math.max(0, now - s.lastTime))} ago`,
      `${s.rate.toFixed(1)}/s`,
      String(s.accepted),
      rejected || '0',
      String(s.errors),
      s.lastError ?? '',
    ];
  });
  const head = ['STREAM', 'STATE', 'LINK', 'LAST', 'AGE', 'RATE', 'OK', 'REJECTED', 'ERRORS', 'LAST ERROR'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  return [head, ...rows].map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd()).join('\n');
}

export interface SourcesArgs {
  patch: string;
  data: string[];
  for?: string;
  json?: boolean;
}

export async function sourcesCommand(a: SourcesArgs, log: (s: string) => void = console.log): Promise<SourceStatus[]> {
  const pf = loadPatchFile(resolvePatchPath(a.patch));
  const seconds = a.for === undefined ? (a.json ? 5 : Infinity) : durationArg(a.for, 5, '--for');
  const hub = new SourceHub({
    patch: pf.patch,
    baseDir: pf.dir,
    overrides: dataOverrides(pf, a.data),
    deliver: () => {},
    // JSON output stays one document; the table is printed after these lines.
    onFileLoaded: a.json ? undefined : (stream, summary) => log(`${stream}: read ${summary}`),
  });
  if (hub.streams.length === 0) throw new UsageError(`${pf.patch.name}: no stream has a source (give one with --data STREAM=URI)`);
  hub.start();
  const tty = process.stdout.isTTY && !a.json;
  let lines = 0;
  const draw = () => {
    const table = formatStatusTable(hub.statuses(), Date.now() / 1000);
    if (tty) {
      process.stdout.write(`${lines ? `\x1b[${lines}A` : ''}\x1b[J${table}\n`);
      lines = table.split('\n').length;
    } else if (!a.json) log(table + '\n');
  };
  await waitForStop(seconds, [{ ms: 1000, run: draw }]);
  const final = hub.statuses();
  await hub.stop();
  if (a.json) log(JSON.stringify(final, null, 2));
  else if (!tty) log(formatStatusTable(final, Date.now() / 1000));
  return final;
}

export interface RecordArgs {
  uri: string;
  out?: string;
  for?: string;
  stream?: string;
}

/** A stream name for a feed: the MQTT topic's or OSC address's last level, the file's name, or "value". */
export function streamNameFor(spec: SourceSpec): string {
  const clean = (s: string | undefined) => (s ?? '').replace(/[^A-Za-z0-9_-]+/g, '_').replace(/^_+|_+$/g, '');
  const pick =
    spec.kind === 'mqtt'
      ? spec.topic.split('/').filter((l) => l !== '+' && l !== '#').pop()
      : spec.kind === 'osc'
        ? spec.address.split('/').pop()
        : spec.kind === 'file'
          ? spec.path.split(/[\\/]/).pop()?.replace(/\.[^.]*$/, '')
          : spec.kind === 'sim'
            ? spec.shape
            : 'select' in spec && spec.select
              ? spec.select.split(/[.[\]]/).filter((x) => x && x !== '$' && x !== '*').pop()
              : undefined;
  const name = clean(pick);
  return /^[A-Za-z]/.test(name) ? name : 'value';
}

export interface RecordSummary {
  file: string;
  rows: number;
  rejected: number;
  errors: number;
}

export async function recordCommand(a: RecordArgs, log: (s: string) => void = console.log): Promise<RecordSummary> {
  if (!a.out) throw new UsageError('ecosym record: give --out FILE.csv');
  let spec: SourceSpec;
  try {
    spec = parseSourceUri(absolutizeFileUri(a.uri, process.cwd()));
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const seconds = a.for === undefined ? Infinity : durationArg(a.for, 60, '--for');
  const stream = a.stream ?? streamNameFor(spec);
  const out = resolve(a.out);
  // Rows go to FILE.part as they come (a crash keeps them), renamed to FILE at the end.
  const part = `${out}.part`;
  if (existsSync(part)) unlinkSync(part);
  appendFileSync(part, RECORDING_HEADER + '\n');
  const gate = new SampleGate({ text: true });
  let rows = 0;
  let errors = 0;
  let lastError = '';
  let buffer: string[] = [];
  const flush = () => {
    if (buffer.length) appendFileSync(part, buffer.join('\n') + '\n');
    buffer = [];
  };
  const source = createSource(
    spec,
    {
      records: (records) => {
        const now = Date.now() / 1000;
        for (const r of records) {
          const ok = gate.accept(r.value, Number.isFinite(r.dataTime) ? r.dataTime : now);
          if (typeof ok === 'string') continue;
          buffer.push(formatRecordingRow({ dataTime: ok.dataTime, stream, value: ok.value, data: r.data }));
          rows++;
        }
      },
      error: (e) => {
        errors++;
        lastError = (e as Error)?.message ?? String(e);
      },
      connecting: () => {},
    },
    { baseDir: process.cwd() },
  );
  log(`Recording ${spec.uri} as stream "${stream}" to ${a.out}${Number.isFinite(seconds) ? ` for ${formatSeconds(seconds)}` : ''}. Ctrl-C stops.`);
  source.start();
  const tty = process.stderr.isTTY;
  await waitForStop(seconds, [
    {
      ms: 1000,
      run: () => {
        flush();
        if (tty) process.stderr.write(`\r\x1b[K${rows} rows, ${gate.rejected} rejected, ${errors} errors${lastError ? ` (${lastError})` : ''}`);
      },
    },
  ]);
  await source.stop();
  flush();
  if (tty) process.stderr.write('\r\x1b[K');
  renameSync(part, out);
  const rejected = REJECT_REASONS.filter((r) => gate.counts[r] > 0).map((r) => `${r} ${gate.counts[r]}`);
  log(`Wrote ${a.out}: ${rows} rows${rejected.length ? `, rejected: ${rejected.join(', ')}` : ''}${errors ? `, ${errors} errors (last: ${lastError})` : ''}`);
  return { file: out, rows, rejected: gate.rejected, errors };
}
