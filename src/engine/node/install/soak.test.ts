/**
 * 30 days of an installation in simulated time, with the faults real sites
 * see injected: a kill every few hours, hangs, silent sessions, audio devices
 * unplugged for seconds to minutes, feed outages, and a patch that crashes its
 * process 20 s after every start. The supervisor's decisions are the real
 * ones: `installPolicy()`, the object `ecosym run` gives its SupervisedSession
 * (which asks it after every fault, with the playlist from the current entry
 * as candidates and the show's fallback, as here), with INSTALL_TIMINGS'
 * hangAfter for the HeartbeatWatch, the SilenceWatch, the ShowSchedule and
 * the state file on disk; the session process is modelled:
 * it sounds 0.5–1 s after it is started (the figure `npm run bench --
 * --install` checks on the real one), stops sounding when killed, hung (after
 * its 0.1 s look-ahead) or silenced, and fails to start while the device is
 * missing. Checked against the plan: audio back within 3 s of each fault (of
 * a hang: of its detection limit, hangAfter, which a starved machine must not reach), no
 * silence longer than 2 s that no fault explains, the state file readable at
 * every fault and equal to the last state written.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { INSTALL_TIMINGS, installPolicy, SilenceWatch } from '../../core/installPolicy.ts';
import { HeartbeatWatch } from '../../core/restartPolicy.ts';
import { mulberry32 } from '../../core/random.ts';
import { parseShowText } from '../../core/showSchema.ts';
import { ShowSchedule, type PlaylistCursor } from '../../core/showSchedule.ts';
import { readStateFile, STATE_VERSION, writeStateFile, type InstallState } from './stateFile.ts';

const DAY = 86_400;
const HOUR = 3600;
const T0_MS = Date.parse('2026-06-01T00:00:00Z');
const BEAT = 0.25;

type FaultKind = 'kill' | 'hang' | 'silence' | 'device' | 'poison';
interface Fault {
  kind: FaultKind;
  /** When the fault happened. */
  at: number;
  /** From when sound is owed again (the device's return, the end of the silence the entry allows). */
  owedFrom: number;
  /** When sound came back. */
  back?: number;
}

function runSoak(seed: number) {
  const rnd = mulberry32(seed);
  const uniform = (a: number, b: number) => a + (b - a) * rnd();
  const parsed = parseShowText(
    `playlist:
  - { patch: carbon-pulse, for: 2h }
  - { patch: poison, for: 30m }
  - { patch: seattle-drift, for: 2h, silenceAllowed: 10s }
fallback: warming-stripes
`,
    'soak.show.yaml',
  );
  if (!parsed.ok) throw new Error('show');
  const show = parsed.show;
  const schedule = new ShowSchedule(show);
  // The supervisor's own decision model, as `ecosym run` makes it and SupervisedSession runs it.
  const policy = installPolicy();
  const watch = new HeartbeatWatch(INSTALL_TIMINGS.hangAfter, 0);
  const silence = new SilenceWatch(show.silenceFloor, INSTALL_TIMINGS.rearmGrace);
  // On tmpfs when there is one: a thousand fsyncs on a busy disk take most of the run.
  const stateFile = join(mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'ecosym-soak-')), 'soak.state.json');

  // ---- the injected faults
  const external: Array<{ kind: 'kill' | 'hang' | 'silence' | 'device' | 'outage'; at: number; dur: number }> = [];
  const every = (kind: (typeof external)[number]['kind'], lo: number, hi: number, dur: () => number) => {
    for (let t = uniform(lo, hi); t < 30 * DAY; t += uniform(lo, hi)) external.push({ kind, at: t, dur: dur() });
  };
  every('kill', 2 * HOUR, 6 * HOUR, () => 0);
  every('hang', 1 * DAY, 2 * DAY, () => 0);
  every('silence', 2 * DAY, 4 * DAY, () => 0);
  every('device', 3 * DAY, 6 * DAY, () => uniform(5, 300));
  every('outage', 6 * HOUR, 18 * HOUR, () => uniform(600, 3 * HOUR));
  external.sort((a, b) => a.at - b.at);

  // ---- the world
  let now = 0;
  let sounding = false;
  let silentSince: number | undefined = 0;
  const silences: Array<[number, number]> = [];
  const setSound = (on: boolean) => {
    if (on === sounding) return;
    sounding = on;
    if (on) {
      silences.push([silentSince!, now]);
      silentSince = undefined;
    } else silentSince = now;
  };
  let deviceBackAt = -1;
  const deviceThere = (t: number) => t >= deviceBackAt;
  /** The process: playing, starting, or none; `gen` tells stale events apart. */
  let proc: { gen: number; patch: string; playing: boolean; hungAt?: number; silentAt?: number } | undefined;
  let gen = 0;
  let cursor: PlaylistCursor | undefined;
  let restarts = 0;
  let lastWritten: InstallState | undefined;
  let writes = 0;
  let killedWrites = 0;
  const faults: Fault[] = [];
  const open: Fault[] = [];
  let outageUntil = -1;
  let restartsDuringOutages = 0;

  const queue: Array<{ at: number; run: () => void }> = [];
  const later = (at: number, run: () => void) => {
    // Binary insertion after every event at the same time: events run in time order, ties in order of arrival.
    let lo = 0;
    let hi = queue.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (queue[mid]!.at <= at) lo = mid + 1;
      else hi = mid;
    }
    queue.splice(lo, 0, { at, run });
  };

  const candidates = () => {
    const list = schedule.entries(cursor!.playlist).map((e) => e.patch);
    return [...list.slice(cursor!.index), ...list.slice(0, cursor!.index)];
  };
  const save = () => {
    const state: InstallState = {
      version: STATE_VERSION,
      savedAt: T0_MS + now * 1000,
      show: 'soak.show.yaml',
      cursor,
      patch: proc?.patch,
      restarts,
      skipped: {},
    };
    writes++;
    // One write in 40 is killed before its rename, as a power cut would.
    const kill = rnd() < 1 / 40;
    try {
      writeStateFile(stateFile, state, kill ? { beforeRename: () => { throw new Error('killed mid-write'); } } : {});
      lastWritten = state;
    } catch {
      killedWrites++;
    }
  };
  const checkState = () => {
    const lines: string[] = [];
    const read = readStateFile(stateFile, (l) => lines.push(l));
    expect(lines).toStrictEqual([]);
    expect(read).toStrictEqual(lastWritten);
  };

  const start = (patch: string) => {
    const g = ++gen;
    proc = { gen: g, patch, playing: false };
    const opens = now + 0.3;
    if (!deviceThere(opens)) {
      later(opens, () => proc?.gen === g && fail('device'));
      return;
    }
    later(now + uniform(0.5, 1.0), () => {
      if (proc?.gen !== g) return;
      proc.playing = true;
      policy.started(now);
      watch.reset(now);
      silence.reset();
      setSound(true);
      for (const f of open.splice(0)) f.back = now;
      save();
      if (patch === 'poison') later(now + 20, () => proc?.gen === g && proc.playing && crash('poison'));
    });
  };
  const fail = (cause: 'crash' | 'hang' | 'silence' | 'device') => {
    const patch = proc!.patch;
    proc = undefined;
    setSound(false);
    checkState();
    if (now < outageUntil) restartsDuringOutages++;
    const d = policy.failed(now, patch, cause, candidates(), show.fallback);
    later(now + d.delay, () => {
      restarts++;
      start(d.patch);
    });
  };
  const crash = (kind: 'kill' | 'poison') => {
    const f: Fault = { kind, at: now, owedFrom: now };
    faults.push(f);
    open.push(f);
    fail('crash');
  };

  // Heartbeats and the supervisor's checks every 250 ms would be 10 million steps: they run
  // only while a fault is being handled, from the fault until the sound is back.
  const tick = (g: number) => {
    if (proc?.gen !== g) return;
    if (proc.hungAt === undefined) watch.beat(now);
    if (proc.playing && watch.hung(now)) return fail('hang');
    if (proc.playing && proc.silentAt !== undefined) {
      const v = silence.sample(now, -Infinity, true, show.playlist[2]!.silenceAllowed);
      if (v === 'rearm') {
        // Reloading the patch in the same process brings the sound back half the time.
        if (rnd() < 0.5) {
          later(now + 0.3, () => {
            if (proc?.gen !== g) return;
            proc.silentAt = undefined;
            setSound(true);
            for (const f of open.splice(0)) f.back = now;
          });
        }
      } else if (v === 'restart') return fail('silence');
    }
    if (proc.hungAt !== undefined || proc.silentAt !== undefined) later(now + BEAT, () => tick(g));
  };

  // The playlist: each entry change loads the chosen patch in the running session (a crossfade, no silence).
  const entryChange = () => {
    const n = schedule.at(T0_MS + now * 1000, cursor);
    const changed = !cursor || n.cursor!.index !== cursor.index;
    cursor = n.cursor;
    if (changed && proc?.playing) {
      const next = policy.choose(now, candidates(), show.fallback).patch;
      if (next !== proc.patch) {
        proc.patch = next;
        const g = proc.gen;
        if (next === 'poison') later(now + 20, () => proc?.gen === g && proc.playing && proc.patch === 'poison' && crash('poison'));
      }
      save();
    }
    later((schedule.entryEnd(schedule.entries(cursor!.playlist)[cursor!.index]!, cursor!.startedAt) - T0_MS) / 1000, entryChange);
  };

  cursor = schedule.at(T0_MS, undefined).cursor;
  start(policy.choose(0, candidates(), show.fallback).patch);
  later(0, entryChange);
  for (const x of external) {
    later(x.at, () => {
      // A fault lands only on a process that plays and is not already in trouble.
      if (x.kind === 'outage') {
        outageUntil = Math.max(outageUntil, now + x.dur);
        return;
      }
      if (!proc?.playing || proc.hungAt !== undefined || proc.silentAt !== undefined || open.length) return;
      const g = proc.gen;
      if (x.kind === 'kill') return crash('kill');
      if (x.kind === 'hang') {
        // A hang cannot be told from a starved machine before hangAfter: sound is owed from then.
        const f: Fault = { kind: 'hang', at: now, owedFrom: now + INSTALL_TIMINGS.hangAfter };
        faults.push(f);
        open.push(f);
        proc.hungAt = now;
        // Its last heartbeat left at most 250 ms before it hung.
        watch.beat(now - uniform(0, BEAT));
        later(now + 0.1, () => proc?.gen === g && setSound(false));
        // The supervisor's tick runs at its own phase.
        later(now + uniform(0, BEAT), () => tick(g));
        return;
      }
      if (x.kind === 'silence') {
        const f: Fault = { kind: 'silence', at: now, owedFrom: now + show.playlist[2]!.silenceAllowed };
        faults.push(f);
        open.push(f);
        proc.silentAt = now;
        setSound(false);
        later(now + uniform(0, BEAT), () => tick(g));
        return;
      }
      // The device: the session dies with it; it comes back after x.dur seconds.
      const f: Fault = { kind: 'device', at: now, owedFrom: now + x.dur };
      faults.push(f);
      open.push(f);
      deviceBackAt = now + x.dur;
      fail('device');
    });
  }
  while (queue.length && queue[0]!.at <= 30 * DAY) {
    const e = queue.shift()!;
    now = e.at;
    e.run();
  }
  if (!sounding) silences.push([silentSince!, now]);
  rmSync(dirname(stateFile), { recursive: true, force: true });
  return { faults, silences, policy, silence, writes, killedWrites, restarts, restartsDuringOutages, outages: external.filter((x) => x.kind === 'outage').length };
}

describe('installation soak: 30 days in simulated time with injected faults', () => {
  for (const seed of [1, 2]) {
    it(`seed ${seed}: audio back within 3 s of every fault, no unexplained silence over 2 s, the state file always readable`, () => {
      const r = runSoak(seed);
      const byKind = (k: FaultKind) => r.faults.filter((f) => f.kind === k);
      // Every kind of fault happened, many times.
      expect(byKind('kill').length).toBeGreaterThan(100);
      expect(byKind('hang').length).toBeGreaterThan(10);
      expect(byKind('silence').length).toBeGreaterThan(5);
      expect(byKind('device').length).toBeGreaterThan(3);
      expect(byKind('poison').length).toBeGreaterThan(50);
      expect(r.outages).toBeGreaterThan(30);
      // Audio back within 3 s of each fault (of the device's return, of the end of the silence the entry allows).
      const late = r.faults.filter((f) => f.back === undefined || f.back - f.owedFrom > 3);
      expect(late).toStrictEqual([]);
      const worst = Math.max(...r.faults.map((f) => f.back! - f.owedFrom));
      expect(worst).toBeGreaterThan(0.5); // a start takes 0.5–1 s
      // A hang is seen after hangAfter, never sooner (a false hang would restart a playing show).
      const hangs = byKind('hang').map((f) => f.back! - f.at);
      expect(Math.min(...hangs)).toBeGreaterThan(INSTALL_TIMINGS.hangAfter - BEAT);
      // Every silence is the first start or the work of a fault; none other lasts over 2 s.
      const unexplained = r.silences.filter(([a, b]) => b - a > 2 && !r.faults.some((f) => a >= f.at - 0.2 && b <= f.back! + 1e-9));
      expect(unexplained).toStrictEqual([]);
      expect(r.silences[0]![0]).toBe(0);
      // The poison patch was skipped after its crash loops, never for good: it was tried again each cycle.
      expect(r.policy.counts.crash).toBe(byKind('kill').length + byKind('poison').length);
      expect(r.policy.counts.hang).toBe(byKind('hang').length);
      // Half the silent sessions came back with a re-arm, the rest with a restart.
      expect(r.silence.rearms).toBe(byKind('silence').length);
      expect(r.policy.counts.silence).toBe(r.silence.restarts);
      expect(r.silence.restarts).toBeGreaterThan(0);
      expect(r.silence.restarts).toBeLessThan(byKind('silence').length);
      // Device loss retried (several attempts while it was away) and never blamed on a patch.
      expect(r.policy.counts.device).toBeGreaterThan(byKind('device').length * 3);
      // Feed outages alone never restart anything: the restarts in them are the injected faults'.
      expect(r.restartsDuringOutages).toBeLessThan(r.restarts);
      expect(r.writes).toBeGreaterThan(500);
      expect(r.killedWrites).toBeGreaterThan(5);
    }, 120_000);
  }
});
