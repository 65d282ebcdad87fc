/**
 * `ecosym play`: real time on the default device, or silently with `--sink none`,
 * printing live levels and stream values.
 */
import { relative } from 'node:path';
import { formatSeconds } from '../engine/core/units.ts';
import { formatPatchError } from '../engine/core/patchLoader.ts';
import { loadPatchFile, resolvePatchPath, type PatchFile } from '../engine/node/files.ts';
import { NoAudioDeviceError, type Player } from '../engine/node/realtime.ts';
import { findOutputDevice, listOutputDevices, type OutputDevice } from '../engine/node/devices.ts';
import { BridgeError, Session } from '../engine/node/session/Session.ts';
import { TransitionLog } from '../engine/core/sources/status.ts';
import { parseArtNetArg, type ArtNetTarget } from '../engine/node/bridges/artnet.ts';
import { parseHostPort, type OscTarget } from '../engine/node/bridges/oscOut.ts';
import type { Patch } from '../engine/core/patchSchema.ts';
import { sacnMulticastAddress } from '../engine/core/lighting.ts';
import { allowEntryProblem } from '../engine/core/osc/allow.ts';
import { dataOverrides, dbfs, durationArg, numberArg, UsageError } from './common.ts';
import { driverNote, probeAudioDevice } from './audioProbe.ts';
import { installErrorPolicy } from './errorPolicy.ts';
import { waitForStop } from './stop.ts';
import { learnArg } from './midi.ts';

export interface PlayArgs {
  patch: string;
  sink?: string;
  duration?: string;
  seed?: string;
  data: string[];
  speed?: string;
  /** Seconds over which data is spread when no --speed is given (then it loops). */
  loop?: string;
  /** Art-Net HOST[:UNIVERSE], overriding the patch's lighting.artnet. */
  artnet?: string;
  /** MIDI ports (names or parts of them), overriding the patch's midi.input / midi.output. */
  midiIn?: string;
  midiOut?: string;
  /** MIDI learn: bind the next control moved to this target (or stream:NAME). */
  midiLearn?: string;
  /** OSC control in: [HOST:]PORT, overriding the patch's osc.in. */
  oscIn?: string;
  /** Senders OSC control accepts (addresses or CIDR ranges), replacing the patch's osc.in.allow. */
  oscAllow?: string[];
  /** OSC out targets HOST:PORT, replacing the patch's osc.out.targets. */
  oscOut?: string[];
  /** OSCQuery HTTP/WebSocket [HOST:]PORT describing the control address space (default host: the OSC port's). */
  oscQuery?: string;
  /** sACN [HOST:]UNIVERSE, overriding the patch's lighting.sacn. */
  sacn?: string;
  /** Also print what the audio driver said when no device could be opened. */
  verbose?: boolean;
  /** Hot reload: watch the patch file and the data files it names; swap on save. */
  watch?: boolean;
  /** The user's patch folder (library, duplicates, uploaded data; default: the platform's data folder). */
  patchesDir?: string;
  /** An output device: its id or (part of) its name, as `ecosym devices` lists them. */
  device?: string;
  /** The output's sample rate. */
  sampleRate?: string;
}

/** The exit-3 error for a machine without an audio device, saying what to do instead. */
function noDeviceError(e: NoAudioDeviceError, patch: string, note = ''): UsageError {
  return new UsageError(`${e.message}.\nRun with --sink none to play silently (levels are still printed), or bounce it: ecosym render ${patch}${note}`, 3);
}

/** Parses `--osc-in [HOST:]PORT` (also `--oscquery`); without a host, 127.0.0.1 (this machine only). */
export function parseOscIn(text: string, flag = '--osc-in'): { host: string; port: number; hostGiven: boolean } {
  const m = /^(?:([^:\s]+):)?(\d{1,5})$/.exec(text.trim());
  const port = Number(m?.[2]);
  if (!m || !(port > 0 && port < 65536)) throw new UsageError(`${flag} "${text}": expected PORT or HOST:PORT, like 9000 or 0.0.0.0:9000`);
  return { host: m[1] ?? '127.0.0.1', port, hostGiven: m[1] !== undefined };
}

/** Where OSC control and OSCQuery listen, and whom control accepts; checked before anything starts. */
export interface OscListeners {
  oscIn?: { host: string; port: number; allow?: string[] };
  query?: { host: string; port: number };
}

/**
 * Resolves --osc-in, --osc-allow and --oscquery against the patch's osc.in.
 * Listeners bind loopback unless a host is given; OSCQuery binds where the OSC
 * port does (it describes that port) unless given its own host.
 */
export function oscListeners(patch: Patch, a: Pick<PlayArgs, 'oscIn' | 'oscAllow' | 'oscQuery'>): OscListeners {
  const q = a.oscQuery === undefined ? undefined : parseOscIn(a.oscQuery, '--oscquery');
  for (const entry of a.oscAllow ?? []) {
    const problem = allowEntryProblem(entry);
    if (problem) throw new UsageError(`--osc-allow: ${problem}`);
  }
  const fromPatch = patch.osc?.in;
  // OSCQuery describes the control port: without --osc-in or osc.in, one is opened on a free port.
  const base = a.oscIn !== undefined ? parseOscIn(a.oscIn) : (fromPatch ?? (q ? { host: '127.0.0.1', port: 0 } : undefined));
  if (!base) {
    if (a.oscAllow?.length) throw new UsageError('--osc-allow: there is no OSC control in to limit (give --osc-in PORT, or osc.in in the patch)');
    return {};
  }
  const allow = a.oscAllow?.length ? a.oscAllow : fromPatch?.allow;
  return {
    oscIn: { host: base.host, port: base.port, ...(allow ? { allow: [...allow] } : {}) },
    query: q ? { host: q.hostGiven ? q.host : base.host, port: q.port } : undefined,
  };
}

/** OSC out targets: --osc-out flags, else the patch's. */
function oscTargets(patch: Patch, flags: string[] | undefined): OscTarget[] {
  const texts = flags?.length ? flags : (patch.osc?.out?.targets ?? []);
  return texts.map((t) => {
    const r = parseHostPort(t);
    if (typeof r === 'string') throw new UsageError(r);
    return r;
  });
}

/**
 * Where DMX goes: --artnet / --sacn, else the patch's lighting.artnet / lighting.sacn.
 * Resolved (and flags checked) before anything starts, so a usage error leaves nothing running.
 */
function lightingTargets(patch: Patch, artnet: string | undefined, sacn: string | undefined): ArtNetTarget[] {
  const l = patch.lighting;
  if (!l) {
    if (artnet !== undefined || sacn !== undefined)
      throw new UsageError(`--${artnet !== undefined ? 'artnet' : 'sacn'}: patch "${patch.name}" has no lighting section to send`);
    return [];
  }
  const targets: ArtNetTarget[] = [];
  if (artnet !== undefined || l.artnet) {
    const over: { host?: string; universe?: number } | string = artnet === undefined ? {} : parseArtNetArg(artnet);
    if (typeof over === 'string') throw new UsageError(over);
    const base = l.artnet ?? { host: '255.255.255.255', universe: 0, fps: 30 };
    targets.push({ protocol: 'artnet', host: over.host ?? base.host, universe: over.universe ?? base.universe, fps: base.fps });
  }
  if (sacn !== undefined || l.sacn) {
    const over: { host?: string; universe?: number } = sacn === undefined ? {} : parseSacnArg(sacn);
    const universe = over.universe ?? l.sacn?.universe ?? 1;
    targets.push({ protocol: 'sacn', host: over.host ?? l.sacn?.host ?? sacnMulticastAddress(universe), universe, fps: l.sacn?.fps ?? 30 });
  }
  return targets;
}

/** Parses `--sacn [HOST:]UNIVERSE`. */
export function parseSacnArg(text: string): { host?: string; universe: number } {
  const m = /^(?:([^:\s]+):)?(\d+)$/.exec(text.trim());
  const universe = Number(m?.[2]);
  if (!m || !(universe >= 1 && universe <= 63999)) throw new UsageError(`--sacn "${text}": expected UNIVERSE (1…63999) or HOST:UNIVERSE`);
  return { host: m[1], universe };
}

/** A session opened from the play flags, started, with what its host needs to run and stop it. */
export interface OpenedSession {
  session: Session;
  pf: PatchFile;
  sink: 'default' | 'none';
  /** True when no audio device was found and the session plays to no output (`silent: true` was asked). */
  silent: boolean;
  /** The MIDI learn destination of --midi-learn, if given. */
  learn: ReturnType<typeof learnArg> | undefined;
  /** Source transitions, rate-limited for the terminal; flush it on the status tick. */
  changes: TransitionLog;
  /** The uncaught-error policy installed for the session's life; dispose it after stopping. */
  policy: ReturnType<typeof installErrorPolicy>;
}

/**
 * Opens and starts a session from the play flags (shared by `play` and
 * `serve`): every flag is checked before anything starts, so a usage error
 * leaves nothing running. With no audio device, throws (exit 3) unless
 * `silent` is given, then plays to no output (`--sink none`) and says so.
 */
export async function openPlaySession(
  a: PlayArgs,
  log: (s: string) => void,
  o: { silent?: boolean; verb?: string } = {},
): Promise<OpenedSession> {
  let sink = (a.sink ?? 'default') as 'default' | 'none';
  if (sink !== 'default' && sink !== 'none') throw new UsageError(`--sink "${a.sink}": expected "none" or "default"`);
  const pf = loadPatchFile(resolvePatchPath(a.patch));
  // Checked before anything starts, so a usage error leaves nothing running.
  const { oscIn, query: oscQuery } = oscListeners(pf.patch, a);
  const oscOut = oscTargets(pf.patch, a.oscOut);
  if (a.oscOut?.length && !pf.patch.osc?.out) throw new UsageError(`--osc-out: patch "${pf.patch.name}" has no osc.out messages to send`);
  const lighting = lightingTargets(pf.patch, a.artnet, a.sacn);
  const learn = a.midiLearn === undefined ? undefined : learnArg(pf, a.midiLearn);
  const speed = numberArg(a.speed, '--speed');
  const loopSeconds = durationArg(a.loop, 600, '--loop');
  const overrides = dataOverrides(pf, a.data);
  let silent = false;
  const sampleRate = numberArg(a.sampleRate, '--sample-rate');
  if (sampleRate !== undefined && !(Number.isInteger(sampleRate) && sampleRate >= 8000 && sampleRate <= 192000))
    throw new UsageError(`--sample-rate ${a.sampleRate}: expected a whole number of Hz, 8000…192000`);
  let device: OutputDevice | undefined;
  if (a.device !== undefined) {
    if (sink === 'none') throw new UsageError('--device: not with --sink none (it plays to no device)');
    const found = await findOutputDevice(a.device);
    if (typeof found === 'string') throw new UsageError(`--device: ${found}`, (await listOutputDevices()).devices.length ? 2 : 3);
    device = found;
  } else if (sink === 'default') {
    // Probed in a child process first, so the driver's noise stays out of the way.
    const probe = await probeAudioDevice();
    if (probe.device === 'absent') {
      if (!o.silent) throw noDeviceError(probe.error, a.patch, driverNote(probe, a.verbose === true));
      log(`No audio device here (${probe.error.message}): playing silently (--sink none); levels and the UI still work.`);
      sink = 'none';
      silent = true;
    }
  }
  const tty = process.stdout.isTTY;
  // A flapping feed prints one line a minute, not two a second.
  const changes = new TransitionLog((line) => log(`${tty ? '\r\x1b[K' : ''}${line}`));
  const policy = installErrorPolicy((msg) => console.error(msg));
  let session: Session;
  try {
    session = await Session.open({
      patch: pf,
      sink,
      device,
      sampleRate,
      seed: a.seed === undefined ? undefined : Number(a.seed),
      overrides,
      speed,
      loopSeconds,
      oscIn,
      oscQuery,
      oscOut,
      lighting,
      midi: { input: a.midiIn, output: a.midiOut, always: learn !== undefined },
      ...(a.patchesDir === undefined ? {} : { patchesDir: a.patchesDir }),
      log,
      watch: a.watch === true,
    });
  } catch (e) {
    policy.dispose();
    if (e instanceof NoAudioDeviceError) throw noDeviceError(e, a.patch);
    throw e;
  }
  session.onEvent((e) => {
    if (e.type === 'source') changes.add(e.stream, { from: e.from, to: e.to, at: e.time, reason: e.reason }, e.link ? 'link ' : '');
    else if (e.type === 'sourceRead') log(`${tty ? '\r\x1b[K' : ''}source ${e.stream}: read ${e.summary}`);
    else if (e.type === 'error' && (e.where === 'engine' || e.where === 'watch')) console.error(`${e.where}: ${e.message}`);
    else if (e.type === 'reload') {
      const name = relative(process.cwd(), e.file) || e.file;
      if (e.ok) log(`${tty ? '\r\x1b[K' : ''}reloaded ${name} (${e.changed.map((f) => relative(process.cwd(), f) || f).join(', ')} changed)`);
      else {
        log(`${tty ? '\r\x1b[K' : ''}not reloaded: ${name} has ${e.errors?.length ?? 0} problem${e.errors?.length === 1 ? '' : 's'}; still playing the last good version`);
        for (const x of e.errors ?? []) log(`  ${formatPatchError({ ...x, file: relative(process.cwd(), x.file) || x.file })}`);
      }
    }
  });
  const out = session.snapshot().engine;
  log(`${o.verb ?? 'Playing'} ${pf.patch.name}${sink === 'none' ? ' (no audio device: --sink none)' : device ? ` on ${device.label}` : ''}, ${out.sampleRate} Hz. Ctrl-C stops.`);
  if (process.env.ECOSYM_FIRST_SOUND) reportFirstSound(session.player);
  const spatial = session.engine.runtime?.spatialPlan;
  if (spatial) log(`  output: ${spatial.note ?? `${spatial.channels} channels (${spatial.layout.name})`}`);
  for (const st of session.sources.statuses()) log(`  ${st.stream} ← ${st.uri}`);
  try {
    await session.start();
  } catch (e) {
    // The session has stopped everything it started.
    policy.dispose();
    if (e instanceof BridgeError && e.bridge === 'OSC') throw new UsageError(e.message);
    throw e;
  }
  if (learn && session.bridges.midi) {
    const midi = session.bridges.midi;
    log(`  MIDI learn: move a control to bind it to ${'to' in learn ? learn.to : `stream ${learn.stream}`}`);
    void midi.learn(learn, 10 * 60_000).then((b) => b === undefined && log('  MIDI learn: nothing moved; no binding made'));
  }
  return { session, pf, sink, silent, learn, changes, policy };
}

/**
 * Plays until the duration passes or Ctrl-C. Resolves when stopped. A thin host
 * over the {@link Session}: flags become session options, the status line
 * comes from its snapshot and its events.
 */
export async function playCommand(a: PlayArgs, log: (s: string) => void = console.log): Promise<void> {
  const duration = a.duration === undefined ? Infinity : durationArg(a.duration, 0);
  const { session, changes, policy } = await openPlaySession(a, log);
  const tty = process.stdout.isTTY;
  const midi = session.bridges.midi;
  const clock = session.player.clock;
  const started = clock.now();
  const midiStatus = () => {
    if (!midi) return '';
    const clock = midi.follower?.bpm ? ` clock ${midi.follower.bpm.toFixed(1)} BPM${midi.follower.running ? '' : ' (stopped)'}` : '';
    return ` | MIDI in ${midi.stats.in.messages} out ${midi.stats.out.messages}${clock}`;
  };
  const status = () => {
    const s = session.snapshot();
    const { peak, rms } = session.outputLevels();
    const v = session.engine.values();
    const streams = Object.entries(v.streams)
      .map(([k, x]) => `${k}=${Number.isInteger(x) ? x : x.toFixed(2)}`)
      .join(' ');
    const signals = Object.entries(s.signals)
      .map(([k, x]) => `${k}:${x.toFixed(2)}`)
      .join(' ');
    const sources = Object.entries(s.streams)
      .filter(([, st]) => st.uri !== undefined && (st.state !== 'live' || st.link === 'disconnected'))
      .map(([name, st]) => `${name} ${st.state}${st.link === 'disconnected' ? ' (link down)' : ''}`)
      .join(' ');
    const line = `${formatSeconds(clock.now() - started)}  peak ${dbfs(peak)}  rms ${dbfs(rms)}  | ${streams} | ${signals}${s.scene ? ` | scene ${s.scene}` : ''}${sources ? ` | ${sources}` : ''}${midiStatus()}`;
    if (tty) process.stdout.write(`\r\x1b[K${line}`);
    else log(line);
    changes.flush(Date.now() / 1000);
  };
  // The status line runs on the player's clock (one service for every timer); the wait only ends the play.
  const meter = clock.every(1, status);
  try {
    await waitForStop(duration);
  } finally {
    meter.dispose();
  }
  if (tty) process.stdout.write('\n');
  changes.flush(Date.now() / 1000, true);
  const stats = session.engine.stats;
  const rearms = session.player.driver.stats.rearms;
  await session.stop();
  policy.dispose();
  log(`Stopped: ${stats.notes} notes, ${stats.errors} engine errors, ${rearms} scheduler re-arms, ${policy.count} uncaught errors survived.`);
}

/**
 * For the `startup-to-sound` benchmark (ECOSYM_FIRST_SOUND=1): prints
 * "first sound" to stderr when the master output first peaks above −60 dBFS,
 * polled every 5 ms, so a parent process can time command to sound.
 */
function reportFirstSound(p: Player): void {
  const timer = setInterval(() => {
    if (p.engine.master.levels().peak <= 1e-3) return;
    clearInterval(timer);
    process.stderr.write(`first sound ${performance.now().toFixed(0)} ms after process start\n`);
  }, 5);
  timer.unref();
}
