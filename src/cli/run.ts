/**
 * `ecosym run show.yaml [--port P] [--token T] [--sink none]`: an installation.
 * This process is the supervisor and loads no audio code (no Tone, no
 * node-web-audio-api): it runs the session in a child process through
 * {@link SupervisedSession} (heartbeat, restart with backoff, restore of patch
 * and scene), follows the show's schedule and playlist, keeps the state file,
 * watches for silence, and serves the UI and REST API ({@link startServer})
 * with `/health` and `/metrics`, JSON logs (rotated) and an OSC heartbeat.
 */
import { createSocket } from 'node:dgram';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { Logger } from 'pino';
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { encodeMessage } from '../engine/core/osc/codec.ts';
import { INSTALL_TIMINGS, installPolicy, LevelCapFollower, SilenceWatch } from '../engine/core/installPolicy.ts';
import { ShowSchedule, type PlaylistCursor, type ShowNow } from '../engine/core/showSchedule.ts';
import type { ShowEntry } from '../engine/core/showSchema.ts';
import { loadShowFile, patchRefKey, patchRefOf } from '../engine/node/install/showFile.ts';
import { readStateFile, STATE_VERSION, writeStateFile, type InstallState } from '../engine/node/install/stateFile.ts';
import { startServer, type RunningServer } from '../engine/node/server/server.ts';
import { SupervisedSession } from '../engine/node/session/supervised.ts';
import type { Heartbeat } from '../engine/node/session/hostChannel.ts';
import type { PatchRef, Snapshot } from '../shared/protocol.ts';
import { UsageError } from './common.ts';
import { logDirOf, openInstallLog } from './installLog.ts';

export interface RunOptions {
  show: string;
  port?: string;
  token?: string;
  sink?: string;
  host?: string;
  logDir?: string;
}

/** What /health answers. */
export interface InstallHealth {
  ok: boolean;
  playing: boolean;
  state: string;
  pid: number | null;
  patch: string | null;
  scene: string | null;
  restarts: number;
  lastFault: { cause: string; message: string; at: number } | null;
  rmsDb: number | null;
  on: boolean;
  levelCap: number;
  /** Seconds from the last fault to sound again, as the supervisor measured it. */
  lastRecoverySeconds: number | null;
  faults: Record<string, number>;
  skipped: string[];
  unplannedSilenceSeconds: number;
  /** The playlist playing (`main` or a schedule rule's), null while the schedule has the show off. */
  playlist: string | null;
  /** The index of its entry playing (from 0), null while the fallback plays or the show is off. */
  entry: number | null;
}

/** Runs the show until SIGINT/SIGTERM. */
export async function runCommand(o: RunOptions): Promise<void> {
  const loaded = loadShowFile(o.show);
  const { show } = loaded;
  if (o.sink !== undefined && o.sink !== 'none' && o.sink !== 'default') throw new UsageError(`--sink "${o.sink}": expected none or default`);
  const sink: 'none' | 'default' = o.sink === 'none' || show.output.device === 'none' ? 'none' : 'default';
  const port = o.port !== undefined ? Number(o.port) : (show.ui?.port ?? 8080);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port "${o.port}": expected 0…65535`);
  const log: Logger = await openInstallLog(o.logDir ?? logDirOf(loaded.file));
  const startedAt = Date.now();
  log.info({ show: loaded.file, sink, pid: process.pid }, 'ecosym run: starting the show');

  const schedule = new ShowSchedule(show);
  // The one decision model: the supervised session runs it after every fault; its skips are read here and kept in the state file.
  const policy = installPolicy();
  const silence = new SilenceWatch(show.silenceFloor, INSTALL_TIMINGS.rearmGrace);
  const caps = new LevelCapFollower(show.maxLevel);
  const ref = (p: string): PatchRef => patchRefOf(p, loaded.dir);

  // Where the show was: the state file (a corrupt one is ignored with a log line).
  const saved = readStateFile(loaded.stateFile, (line) => log.warn({ stateFile: loaded.stateFile }, line));
  if (saved) log.info({ cursor: saved.cursor, patch: saved.patch, scene: saved.scene }, 'resuming from the state file');
  const secs = () => Date.now() / 1000;
  // Skips in the state file are epoch ms; the policy counts seconds.
  for (const [p, until] of Object.entries(saved?.skipped ?? {})) if (until > Date.now()) policy.skip(secs() - INSTALL_TIMINGS.skipFor + (until - Date.now()) / 1000, p);
  let now: ShowNow = schedule.at(Date.now(), saved?.cursor);
  let cursor: PlaylistCursor | undefined = now.cursor;
  let entry: ShowEntry | undefined = now.entry;
  const entries = () => (cursor ? schedule.entries(cursor.playlist) : show.playlist);
  /** The playlist's entries from the current one on. */
  const fromCursorEntries = () => {
    const list = entries();
    const i = cursor?.index ?? 0;
    return [...list.slice(i), ...list.slice(0, i)];
  };
  /** The playlist's patches from the current entry on. */
  const fromCursor = () => fromCursorEntries().map((e) => e.patch);
  // The policy knows patches by their show names (as the state file keeps them).
  const nameOf = new Map<string, string>();
  for (const p of [...show.playlist.map((e) => e.patch), ...Object.values(show.playlists).flatMap((l) => l.map((e) => e.patch)), ...(show.fallback ? [show.fallback] : [])]) nameOf.set(patchRefKey(ref(p)), p);
  const keyOf = (r: PatchRef) => nameOf.get(patchRefKey(r)) ?? patchRefKey(r);
  let playing!: string;
  /**
   * The show now plays `patch`, the policy's choice among the playlist from
   * the cursor on ({@link fromCursor}) or the fallback: the cursor moves to the
   * first entry from it on that plays that patch (the one the policy chose),
   * starting its own duration, silence allowance and bindings, as an advance
   * would; the fallback plays under no entry.
   */
  const playFrom = (patch: string, fallback: boolean) => {
    playing = patch;
    if (fallback) {
      entry = undefined;
      return;
    }
    const list = entries();
    const at = cursor?.index ?? 0;
    const key = keyOf(ref(patch));
    for (let k = 0; k < list.length; k++) {
      const j = (at + k) % list.length;
      if (keyOf(ref(list[j]!.patch)) !== key) continue;
      if (cursor && j !== cursor.index) cursor = { ...cursor, index: j, startedAt: Date.now() };
      entry = list[j];
      return;
    }
  };
  // Where the state file was, else the policy's choice from the cursor on (the fallback when every entry is skipped).
  const resumed = saved?.patch && saved.cursor && cursor && saved.cursor.index === cursor.index && saved.cursor.playlist === cursor.playlist ? saved.patch : undefined;
  const first = resumed !== undefined ? { patch: resumed, fallback: resumed === show.fallback && entry?.patch !== resumed } : policy.choose(secs(), fromCursor(), show.fallback);
  playFrom(first.patch, first.fallback);
  const firstPatch = playing;
  let lastFaultAt: number | undefined;
  let lastRecovery: number | null = null;
  let patchFaults = 0;

  const supervised = new SupervisedSession({
    session: {
      patch: ref(firstPatch),
      sink,
      maxLevelDb: show.maxLevel,
      fadeIn: show.fadeIn,
      levelCapDb: Math.min(now.levelCap, show.maxLevel),
      overrides: Object.entries(entry?.data ?? {}),
      cacheDir: false,
      ...(show.bridges.oscIn ? { oscIn: hostPort(show.bridges.oscIn, '127.0.0.1', { allow: show.bridges.oscAllow }) } : {}),
      ...(show.bridges.oscQuery ? { oscQuery: hostPort(show.bridges.oscQuery, '127.0.0.1') } : {}),
      midi: show.bridges.midiIn || show.bridges.midiOut ? { input: show.bridges.midiIn, output: show.bridges.midiOut } : false,
    },
    policy,
    // The skips read here (candidates, /health) and kept in the state file are epoch seconds: the policy runs on that clock.
    policyClock: secs,
    hangAfter: INSTALL_TIMINGS.hangAfter,
    retryFirstStart: true,
    ...(show.fallback ? { fallback: ref(show.fallback) } : {}),
    // Each entry with its bindings: a crash loop's switch starts the next entry's patch with that entry's data.
    candidates: () => fromCursorEntries().map((e) => ({ patch: ref(e.patch), data: e.data })),
    keyOf,
    onDecision: (d, failing) => {
      const name = keyOf(failing);
      if (d.skipped) {
        patchFaults++;
        faultsByCause.inc({ cause: 'crashloop' });
        const cause = supervised.lastFault?.cause ?? 'crash';
        const { within } = INSTALL_TIMINGS.restart.crashLoop;
        log.error(
          { patch: name, failures: d.failures, within, cause, next: d.patch, fallback: d.fallback, skipFor: INSTALL_TIMINGS.skipFor },
          `patch ${name} failed ${d.failures} times within ${within} s (last: ${cause}): skipped for ${INSTALL_TIMINGS.skipFor} s, playing ${d.fallback ? 'the fallback patch ' : ''}${d.patch} instead`,
        );
      }
      // Another patch starts only after a crash loop: `playing` is then a show name (one the show's own patches map to).
      if (d.patch !== name) {
        playFrom(d.patch, d.fallback);
        // The failing patch's scene and streams are not the next one's: not saved for it, not restored on it.
        beat = undefined;
        snapshot = undefined;
        // The skip and the patch that plays now, kept at once: a supervisor restarted in the next 30 s does not go back to the failing patch.
        save();
      }
    },
    log: (line) => log.warn({ where: 'supervisor' }, line),
  });

  let beat: Heartbeat | undefined;
  let snapshot: Snapshot | undefined;
  /** When `snapshot` was taken (epoch ms): source ages move on from it. */
  let snapshotAt = 0;
  supervised.onHeartbeat((h) => {
    beat = h;
    // Heartbeats after a fault come from the new session only: the first one with sound ends the recovery.
    if (lastFaultAt !== undefined && h.rmsDb !== null && h.rmsDb > show.silenceFloor) {
      lastRecovery = (Date.now() - lastFaultAt) / 1000;
      log.info({ seconds: lastRecovery, pid: supervised.pid }, 'sound back after a fault');
      lastFaultAt = undefined;
    }
    const should = now.on && !(snapshot?.muted ?? false);
    const verdict = silence.sample(Date.now() / 1000, h.rmsDb ?? -Infinity, should, entry?.silenceAllowed ?? 10);
    if (verdict === 'rearm') {
      log.warn({ patch: playing, allowed: entry?.silenceAllowed }, 'silent longer than the entry allows: re-arming the patch');
      void supervised.handle({ type: 'load', patch: ref(playing), crossfade: 0.05 });
    } else if (verdict === 'restart') {
      log.error({ patch: playing }, 'still silent after a re-arm: restarting the session');
      supervised.restartChild('silence', 'silent after a re-arm');
    }
  });
  // The scene as the last heartbeat before a fault had it, put back once the new session plays.
  let sceneBeforeFault: { patch: string; scene: string } | undefined;
  supervised.onStatus((s) => {
    if (s.state === 'restarting' && lastFaultAt === undefined) {
      lastFaultAt = Date.now();
      silence.reset();
      if (beat?.scene) sceneBeforeFault = { patch: playing, scene: beat.scene };
      beat = undefined;
    }
    if (s.state === 'playing' && sceneBeforeFault) {
      const want = sceneBeforeFault;
      sceneBeforeFault = undefined;
      if (want.patch === playing)
        void supervised.handle({ type: 'scene', name: want.scene }).then((r) => {
          if (!r.ok) log.warn({ scene: want.scene }, `could not restore the scene: ${r.error}`);
        });
    }
    log.info({ state: s.state, restarts: s.restarts, reason: s.reason }, `session ${s.state}`);
  });
  supervised.onEvent((e) => {
    if (e.type === 'error') log.warn({ where: e.where }, e.message);
  });

  const save = () => {
    const state: InstallState = {
      version: STATE_VERSION,
      savedAt: Date.now(),
      show: loaded.file,
      cursor,
      patch: playing,
      scene: beat?.scene ?? snapshot?.scene ?? undefined,
      restarts: supervised.restarts,
      skipped: Object.fromEntries(policy.skippedAt(secs()).map(([p, t]) => [p, t * 1000])),
    };
    try {
      writeStateFile(loaded.stateFile, state);
    } catch (e) {
      log.error({ stateFile: loaded.stateFile }, `cannot write the state file: ${(e as Error).message}`);
    }
  };

  // ---- the show's clock: every second, what should play now.
  const values = (stream: string) => {
    const raw = snapshot?.streams[stream]?.raw;
    return typeof raw === 'number' ? raw : undefined;
  };
  let lastScene = beat?.scene;
  let ticking = false;
  const tick = async () => {
    if (ticking || supervised.status.state !== 'playing') return;
    ticking = true;
    try {
      const r = await supervised.handle({ type: 'snapshot' });
      if (r.ok) {
        snapshot = r.data as Snapshot;
        snapshotAt = Date.now();
      }
      const next = schedule.at(Date.now(), cursor, values);
      const wasOn = now.on;
      now = next;
      if (next.on !== wasOn) {
        log.info({ on: next.on }, next.on ? 'schedule: on' : 'schedule: off');
        await supervised.handle({ type: 'mute', on: !next.on });
      }
      await followCap(next.levelCap);
      if (next.cursor && (!cursor || next.cursor.index !== cursor.index || next.cursor.playlist !== cursor.playlist)) {
        cursor = next.cursor;
        entry = next.entry;
        await advance();
      }
      if (beat?.scene !== lastScene) {
        lastScene = beat?.scene;
        save();
      }
    } finally {
      ticking = false;
    }
  };
  /** Sends the schedule's level cap when it changed (quiet hours): the session and every restart stay under it. */
  const followCap = async (planCap: number) => {
    const want = caps.want(planCap);
    if (want === undefined) return;
    const r = await supervised.setLevelCap(want);
    if (!r.ok) return log.warn({ levelCap: want }, `could not set the level cap: ${r.error}`);
    caps.sent(want);
    log.info({ levelCap: want, quiet: now.quiet }, `level cap ${want} dBFS`);
  };
  /** Loads the entry the cursor points at (or the next that loads), crossfading. */
  const advance = async () => {
    for (let tries = 0; tries < entries().length; tries++) {
      const e = entries()[cursor!.index]!;
      if (policy.isSkipped(secs(), e.patch)) {
        cursor = { ...cursor!, index: (cursor!.index + 1) % entries().length, startedAt: Date.now() };
        continue;
      }
      // The entry's own bindings ({} when it has none: the patch's own sources, nothing of the entry before).
      const r = await supervised.handle({ type: 'load', patch: ref(e.patch), crossfade: e.crossfade, data: e.data });
      if (r.ok) {
        playing = e.patch;
        entry = e;
        if (e.scene) await supervised.handle({ type: 'scene', name: e.scene });
        log.info({ patch: e.patch, index: cursor!.index, playlist: cursor!.playlist }, `playing ${e.patch}`);
        save();
        return;
      }
      patchFaults++;
      faultsByCause.inc({ cause: 'load' });
      log.error({ patch: e.patch, error: r.error }, `patch ${e.patch} failed to load: moving on`);
      cursor = { ...cursor!, index: (cursor!.index + 1) % entries().length, startedAt: Date.now() };
    }
    // Nothing else loaded: the fallback plays on, under no entry.
    if (show.fallback !== undefined && playing === show.fallback) entry = undefined;
    save();
  };
  const clock = setInterval(() => void tick().catch((e: unknown) => log.error(`show clock: ${(e as Error)?.message ?? String(e)}`)), 1000);
  const saver = setInterval(save, 30_000);

  // ---- metrics
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'ecosym_supervisor_' });
  const lag = monitorEventLoopDelay({ resolution: 20 });
  lag.enable();
  const faultsByCause = new Counter({ name: 'ecosym_patch_faults_total', help: 'Patches that failed to load or kept crashing', labelNames: ['cause'], registers: [registry] });
  const gauge = (name: string, help: string, get: () => number | undefined, labelNames: string[] = []) =>
    new Gauge({
      name,
      help,
      labelNames,
      registers: [registry],
      collect() {
        const v = get();
        if (v !== undefined && Number.isFinite(v)) this.set(v);
      },
    });
  gauge('ecosym_uptime_seconds', 'Seconds since the supervisor started', () => (Date.now() - startedAt) / 1000);
  gauge('ecosym_playing', '1 while the session plays', () => (supervised.status.state === 'playing' ? 1 : 0));
  gauge('ecosym_output_rms_dbfs', 'Output level over the last second, dBFS', () => beat?.rmsDb ?? -200);
  gauge('ecosym_session_event_loop_lag_ms', 'The session process event-loop lag, ms', () => beat?.lagMs);
  gauge('ecosym_supervisor_event_loop_lag_ms', 'The supervisor event-loop lag (p99), ms', () => lag.percentile(99) / 1e6);
  gauge('ecosym_session_rss_bytes', 'The session process RSS', () => beat?.rss);
  gauge('ecosym_session_heap_used_bytes', 'The session process heap in use', () => beat?.heapUsed);
  gauge('ecosym_session_external_bytes', 'The session process memory outside the V8 heap that V8 tracks (ArrayBuffers)', () => beat?.external);
  gauge('ecosym_unplanned_silence_seconds', 'Seconds of silence beyond what entries allow, while the show should sound', () => silence.unplannedSeconds);
  gauge('ecosym_late_notes', 'Notes scheduled late (engine)', () => snapshot?.engine.lateNotes);
  gauge('ecosym_engine_errors', 'Errors caught in the engine', () => snapshot?.engine.errors);
  new Gauge({
    name: 'ecosym_restarts',
    help: 'Session restarts by cause',
    labelNames: ['cause'],
    registers: [registry],
    collect() {
      for (const [cause, n] of Object.entries(supervised.faults)) this.set({ cause }, n);
    },
  });
  new Gauge({
    name: 'ecosym_source_live',
    help: '1 when a stream source is live, by stream and state',
    labelNames: ['stream', 'state'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [stream, st] of Object.entries(snapshot?.streams ?? {})) this.set({ stream, state: st.state }, st.state === 'live' ? 1 : 0);
    },
  });

  /** A source's kind, from its URI's scheme (http, file, sim, osc…). */
  const kindOf = (uri: string | undefined) => (uri ? (/^([a-z][a-z0-9+.-]*):/i.exec(uri)?.[1]?.toLowerCase() ?? 'file') : 'manual');
  new Gauge({
    name: 'ecosym_source_state',
    help: 'Each stream source state: 1 for the state it is in (connecting, live, stale, failed, fallback, manual)',
    labelNames: ['stream', 'kind', 'state'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [stream, st] of Object.entries(snapshot?.streams ?? {})) this.set({ stream, kind: kindOf(st.uri), state: st.state }, 1);
    },
  });
  new Gauge({
    name: 'ecosym_source_age_seconds',
    help: 'Seconds since each stream source last gave a value (since it started, when it never did)',
    labelNames: ['stream', 'kind'],
    registers: [registry],
    collect() {
      this.reset();
      const moved = Math.max(0, (Date.now() - snapshotAt) / 1000);
      for (const [stream, st] of Object.entries(snapshot?.streams ?? {})) if (st.ageSeconds !== undefined) this.set({ stream, kind: kindOf(st.uri) }, st.ageSeconds + moved);
    },
  });

  const health = (): InstallHealth => {
    const state = supervised.status.state;
    const isPlaying = state === 'playing';
    const rmsDb = beat?.rmsDb ?? null;
    const sounding = rmsDb !== null && rmsDb > show.silenceFloor;
    return {
      ok: isPlaying && (sounding || !now.on),
      playing: isPlaying,
      state,
      pid: supervised.pid ?? null,
      patch: beat?.patch ?? null,
      scene: beat?.scene ?? null,
      restarts: supervised.restarts,
      lastFault: supervised.lastFault ?? null,
      rmsDb,
      on: now.on,
      levelCap: now.levelCap,
      lastRecoverySeconds: lastRecovery,
      faults: { ...supervised.faults, patch: patchFaults },
      skipped: policy.skippedAt(secs()).map(([p]) => p),
      unplannedSilenceSeconds: silence.unplannedSeconds,
      playlist: cursor?.playlist ?? null,
      entry: cursor && entry ? cursor.index : null,
    };
  };

  const server: RunningServer = await startServer({
    link: supervised,
    host: o.host ?? show.ui?.host ?? '127.0.0.1',
    port,
    token: o.token ?? show.ui?.token,
    health: () => health() as unknown as { ok: boolean },
    metrics: async () => ({ contentType: registry.contentType, body: await registry.metrics() }),
  });
  log.info({ url: server.baseUrl }, `serving ${server.baseUrl} (/health, /metrics)`);
  console.error(`ecosym run: ${show.name ?? loaded.file} — UI ${server.url}`);

  await supervised.start();
  if (saved?.scene && saved.patch === playing) {
    const r = await supervised.handle({ type: 'scene', name: saved.scene });
    if (!r.ok) log.warn({ scene: saved.scene }, `could not restore the scene: ${r.error}`);
  }
  if (!now.on) await supervised.handle({ type: 'mute', on: true });
  await followCap(now.levelCap);
  save();


  // ---- OSC heartbeat out
  const osc = show.heartbeat ? createSocket('udp4') : undefined;
  const heartbeat = show.heartbeat
    ? setInterval(() => {
        const h = health();
        const packet = encodeMessage({
          address: show.heartbeat!.address,
          args: [
            { type: 'i', value: h.playing ? 1 : 0 },
            { type: 'f', value: (Date.now() - startedAt) / 1000 },
            { type: 'i', value: h.restarts },
            { type: 'f', value: h.rmsDb ?? -200 },
            { type: 'f', value: caps.cap ?? show.maxLevel },
          ],
        });
        for (const to of show.heartbeat!.to) {
          const { host, port: p } = hostPort(to, '127.0.0.1');
          osc!.send(packet, p, host);
        }
      }, show.heartbeat.every * 1000)
    : undefined;

  await new Promise<void>((done) => {
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
  });
  log.info('ecosym run: stopping');
  clearInterval(clock);
  clearInterval(saver);
  if (heartbeat) clearInterval(heartbeat);
  osc?.close();
  save();
  await server.close();
  await supervised.stop();
  log.flush?.();
}

function hostPort<T extends object>(text: string, defaultHost: string, extra?: T): { host: string; port: number } & T {
  const m = /^(?:\[?([^\]]*?)\]?:)?(\d{1,5})$/.exec(text);
  if (!m) throw new UsageError(`"${text}": expected [HOST:]PORT`);
  return { host: m[1] || defaultHost, port: Number(m[2]), ...(extra ?? ({} as T)) };
}
