/**
 * The UI's reactive state (Svelte 5 runes) fed by the {@link SessionClient}:
 * connection, the session's snapshot, live values (from telemetry, at most 4
 * updates a second, so Svelte re-renders at a human pace) and the event log.
 * Canvases read telemetry directly (lib/telemetry.ts), not from here.
 */
import type { HostStatus, Reply, SessionEvent, Snapshot } from '../../shared/protocol.ts';
import { SessionClient, type CommandBody, type ConnectionState } from '../client.ts';
import { takeFrame } from './telemetry.ts';

const LOG_SIZE = 200;
const LIVE_INTERVAL_MS = 250;
const SNAPSHOT_INTERVAL_MS = 1000;

export interface LogEntry {
  n: number;
  time: number;
  kind: string;
  text: string;
  error?: boolean;
}

class AppState {
  connection = $state<ConnectionState>('connecting');
  detail = $state<string | undefined>(undefined);
  readOnly = $state(true);
  host = $state<HostStatus | undefined>(undefined);
  snapshot = $state<Snapshot | undefined>(undefined);
  /** Stream and signal values from the latest telemetry (refreshed 4 times a second). */
  live = $state<{ time: number; streams: Record<string, number>; signals: Record<string, number> }>({ time: 0, streams: {}, signals: {} });
  log = $state<LogEntry[]>([]);
  /** The last source event's reason, by stream (why it is stale, failed…). */
  reasons = $state<Record<string, string>>({});
  /** The last threshold state, by signal. */
  thresholds = $state<Record<string, 'on' | 'off'>>({});
  /** The last command error, shown until the next command. */
  lastError = $state<string | undefined>(undefined);
  /** Seconds since epoch of the last scene change, and the patch's crossfade, for the Perform view. */
  sceneChangedAt = $state(0);
  /** The last offline bounce's state (`bounce` events): progress while running, the file when done. */
  bounce = $state<Extract<SessionEvent, { type: 'bounce' }> | undefined>(undefined);
  /** The last recording's state (`record` events): started, stopped (the file written, its length) or failed. */
  record = $state<Extract<SessionEvent, { type: 'record' }> | undefined>(undefined);

  private client: SessionClient | undefined;
  private logN = 0;
  private pendingLive: { time: number; streams: Record<string, number>; signals: Record<string, number> } | undefined;
  private liveTimer: ReturnType<typeof setInterval> | undefined;
  private snapTimer: ReturnType<typeof setInterval> | undefined;
  /** Commands this page has sent that change the session: a snapshot asked for before the latest is stale. */
  private commandsSent = 0;

  start(): void {
    this.client = new SessionClient({
      onState: (s, detail) => {
        // A command's error stays until the connection is back (it may be why the command failed).
        if (s === 'open' && this.connection !== 'open') this.lastError = undefined;
        this.connection = s;
        this.detail = detail;
      },
      onHello: (snap, readOnly) => {
        this.snapshot = snap;
        this.readOnly = readOnly;
        this.addLog('connected', `connected${readOnly ? ' (read-only)' : ''}: ${snap.patch?.name ?? 'no patch'}`);
      },
      onEvent: (e) => this.takeEvent(e),
      onTelemetry: (f) => {
        takeFrame(f);
        this.pendingLive = { time: f.time, streams: f.streams, signals: f.signals };
      },
      onHostStatus: (s) => {
        this.host = s;
        this.addLog('host', `audio host ${s.state}${s.reason ? `: ${s.reason}` : ''}`, s.state === 'restarting');
      },
    });
    this.client.start();
    this.liveTimer = setInterval(() => {
      if (this.pendingLive && !document.hidden) {
        this.live = this.pendingLive;
        this.pendingLive = undefined;
      }
    }, LIVE_INTERVAL_MS);
    this.snapTimer = setInterval(() => void this.refresh(), SNAPSHOT_INTERVAL_MS);
  }

  stop(): void {
    clearInterval(this.liveTimer);
    clearInterval(this.snapTimer);
    this.client?.close();
  }

  /**
   * Asks for a fresh snapshot (skipped while hidden or disconnected). A
   * snapshot asked for before a command this page sent is dropped: it may
   * predate the command (seen on a loaded machine: M pressed twice muted
   * twice, the second press reading the stale "unmuted"); the refresh after
   * the command follows it.
   */
  async refresh(): Promise<void> {
    if (!this.client || this.connection !== 'open' || document.hidden) return;
    const asked = this.commandsSent;
    const r = await this.client.request({ type: 'snapshot' });
    if (r.ok && r.data && asked === this.commandsSent) this.snapshot = r.data as Snapshot;
  }

  /**
   * Sends a command; an error shows in the status bar and the log, unless
   * `quiet` (a screen that shows the answer in place, like Author's previews).
   */
  async send(body: CommandBody, opts: { quiet?: boolean } = {}): Promise<Reply> {
    if (!this.client) return { v: 1, type: 'reply', ok: false, error: 'not started' };
    const changes = body.type !== 'snapshot' && body.type !== 'list';
    if (changes) this.commandsSent++;
    const r = await this.client.request(body);
    if (opts.quiet) return r;
    if (!r.ok) {
      this.lastError = `${body.type}: ${r.error}`;
      this.addLog('error', this.lastError, true);
    } else {
      this.lastError = undefined;
      if (changes) void this.refresh();
    }
    return r;
  }

  private takeEvent(e: SessionEvent): void {
    switch (e.type) {
      case 'note':
        return;
      case 'source':
        if (e.reason) this.reasons[e.stream] = e.reason;
        else delete this.reasons[e.stream];
        this.addLog('source', `${e.stream}: ${e.from ? `${e.from} → ` : ''}${e.to}${e.reason ? ` (${e.reason})` : ''}`, e.to === 'failed');
        return;
      case 'sourceRead':
        this.addLog('source', `${e.stream}: ${e.summary}`);
        return;
      case 'scene':
        this.sceneChangedAt = e.time;
        if (this.snapshot) this.snapshot.scene = e.scene;
        this.addLog('scene', `scene ${e.scene}`);
        return;
      case 'threshold':
        this.thresholds[e.signal] = e.state;
        this.addLog('threshold', `${e.signal} ${e.state === 'on' ? 'crossed up' : 'fell back'}`);
        return;
      case 'mute':
        if (this.snapshot) this.snapshot.muted = e.muted;
        this.addLog('mute', e.panic ? 'PANIC: silenced' : e.muted ? 'muted' : 'unmuted');
        return;
      case 'load':
        this.addLog('load', `loaded ${e.patch} (crossfade ${e.crossfade} s)`);
        void this.refresh();
        return;
      case 'record':
        this.record = e;
        this.addLog('record', `recording ${e.state}: ${e.path}${e.error ? ` (${e.error})` : ''}`, e.state === 'failed');
        return;
      case 'error':
        this.addLog('error', `${e.where}: ${e.message}`, true);
        return;
      case 'bounce':
        this.bounce = e;
        if (e.state !== 'running') this.addLog('bounce', `bounce ${e.state}: ${e.path}${e.error ? ` (${e.error})` : ''}`, e.state === 'failed');
        return;
      case 'output':
        this.addLog('output', `audio output re-opened: ${e.sink}, ${e.sampleRate} Hz`);
        void this.refresh();
        return;
    }
  }

  private addLog(kind: string, text: string, error = false): void {
    const entry: LogEntry = { n: this.logN++, time: Date.now() / 1000, kind, text, ...(error ? { error } : {}) };
    this.log = [entry, ...this.log.slice(0, LOG_SIZE - 1)];
  }
}

export const app = new AppState();

/** A number for display: a few significant digits, no exponent for ordinary values. */
export function fmt(x: number | string | null | undefined, digits = 3): string {
  if (x === null || x === undefined) return '—';
  if (typeof x === 'string') return x;
  if (!Number.isFinite(x)) return String(x);
  const a = Math.abs(x);
  if (a !== 0 && (a >= 1e6 || a < 1e-3)) return x.toExponential(2);
  return Number(x.toPrecision(digits + (a >= 1000 ? 2 : 0))).toString();
}
