/**
 * `ecosym play`: real time on the default device, or silently with `--sink none`,
 * printing live levels and stream values.
 */
import { formatSeconds } from '../engine/core/units.ts';
import { loadPatchFile, loadPatchSamples, resolvePatchPath } from '../engine/node/files.ts';
import { NoAudioDeviceError, startPlayer, type Player } from '../engine/node/realtime.ts';
import { SourceHub } from '../engine/node/sources/hub.ts';
import { TransitionLog } from '../engine/core/sources/status.ts';
import { ArtNetBridge, parseArtNetArg, rigFor, type ArtNetTarget } from '../engine/node/bridges/artnet.ts';
import { OscControl } from '../engine/node/bridges/oscControl.ts';
import { OscQueryServer } from '../engine/node/bridges/oscQuery.ts';
import { OscOutBridge, parseHostPort, type OscTarget } from '../engine/node/bridges/oscOut.ts';
import type { Engine } from '../engine/audio/Engine.ts';
import type { Patch } from '../engine/core/patchSchema.ts';
import { sacnMulticastAddress } from '../engine/core/lighting.ts';
import { allowEntryProblem, isLoopbackHost } from '../engine/core/osc/allow.ts';
import { dataOverrides, dbfs, durationArg, numberArg, UsageError } from './common.ts';
import { driverNote, probeAudioDevice } from './audioProbe.ts';
import { installErrorPolicy } from './errorPolicy.ts';
import { waitForStop } from './stop.ts';
import { learnArg, startMidi } from './midi.ts';

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

/** A URL host for an address a server reports (IPv6 in brackets). */
function urlHost(address: string): string {
  return address.includes(':') ? `[${address}]` : address;
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

/** Starts a DMX bridge per target. */
function startLighting(patch: Patch, engine: Engine, targets: ArtNetTarget[], log: (s: string) => void): ArtNetBridge[] {
  return targets.map((target) => {
    const b = new ArtNetBridge(engine, rigFor(patch.lighting!), target);
    b.start();
    log(`  lighting: ${target.protocol === 'sacn' ? 'sACN' : 'Art-Net'} to ${target.host} universe ${target.universe} at ${target.fps} fps`);
    return b;
  });
}

/** Parses `--sacn [HOST:]UNIVERSE`. */
export function parseSacnArg(text: string): { host?: string; universe: number } {
  const m = /^(?:([^:\s]+):)?(\d+)$/.exec(text.trim());
  const universe = Number(m?.[2]);
  if (!m || !(universe >= 1 && universe <= 63999)) throw new UsageError(`--sacn "${text}": expected UNIVERSE (1…63999) or HOST:UNIVERSE`);
  return { host: m[1], universe };
}

/** Plays until the duration passes or Ctrl-C. Resolves when stopped. */
export async function playCommand(a: PlayArgs, log: (s: string) => void = console.log): Promise<void> {
  const sink = (a.sink ?? 'default') as 'default' | 'none';
  if (sink !== 'default' && sink !== 'none') throw new UsageError(`--sink "${a.sink}": expected "none" or "default"`);
  const pf = loadPatchFile(resolvePatchPath(a.patch));
  // Checked before anything starts, so a usage error leaves nothing running.
  const { oscIn, query: queryAt } = oscListeners(pf.patch, a);
  const targets = oscTargets(pf.patch, a.oscOut);
  if (a.oscOut?.length && !pf.patch.osc?.out) throw new UsageError(`--osc-out: patch "${pf.patch.name}" has no osc.out messages to send`);
  const dmx = lightingTargets(pf.patch, a.artnet, a.sacn);
  if (a.midiLearn !== undefined) learnArg(pf, a.midiLearn); // a usage error before anything starts
  const duration = a.duration === undefined ? Infinity : durationArg(a.duration, 0);
  const speed = numberArg(a.speed, '--speed');
  const loopSeconds = durationArg(a.loop, 600, '--loop');
  if (sink === 'default') {
    // Probed in a child process first, so the driver's noise stays out of the way.
    const probe = await probeAudioDevice();
    if (probe.device === 'absent') throw noDeviceError(probe.error, a.patch, driverNote(probe, a.verbose === true));
  }
  const hub = new SourceHub({
    patch: pf.patch,
    baseDir: pf.dir,
    overrides: dataOverrides(pf, a.data),
    spreadSeconds: loopSeconds,
    speed,
    deliver: (stream, value, dataTime) => {
      player?.engine.update(stream, value, undefined, dataTime);
    },
    onTransition: (stream, t) => changes.add(stream, t),
    onConnection: (stream, c) => changes.add(stream, c, 'link '),
    onFileLoaded: (stream, summary) => log(`${tty ? '\r\x1b[K' : ''}source ${stream}: read ${summary}`),
  });
  const tty = process.stdout.isTTY;
  // A flapping feed prints one line a minute, not two a second.
  const changes = new TransitionLog((line) => log(`${tty ? '\r\x1b[K' : ''}${line}`));
  const samples = await loadPatchSamples(pf, new OfflineAudioContext(1, 128, 48000));
  const policy = installErrorPolicy((msg) => console.error(msg));
  let player: Player | undefined;
  try {
    player = await startPlayer({
      patch: pf.patch,
      sink,
      seed: a.seed === undefined ? undefined : Number(a.seed),
      samples,
      onError: (e) => console.error(`engine: ${(e as Error)?.message ?? String(e)}`),
    });
  } catch (e) {
    policy.dispose();
    await hub.stop();
    if (e instanceof NoAudioDeviceError) throw noDeviceError(e, a.patch);
    throw e;
  }
  log(`Playing ${pf.patch.name}${sink === 'none' ? ' (no audio device: --sink none)' : ''}. Ctrl-C stops.`);
  if (process.env.ECOSYM_FIRST_SOUND) reportFirstSound(player);
  for (const st of hub.statuses()) log(`  ${st.stream} ← ${st.uri}`);
  hub.start();
  const p = player;
  const lighting = startLighting(pf.patch, p.engine, dmx, log);
  let control: OscControl | undefined;
  let oscOut: OscOutBridge | undefined;
  let query: OscQueryServer | undefined;
  try {
    if (oscIn) {
      control = new OscControl(p.engine, (stream, value) => p.engine.update(stream, value), { allow: oscIn.allow });
      const port = await control.listen(oscIn.host, oscIn.port);
      const bound = control.bound!;
      log(`  OSC control in on ${urlHost(bound.address)}:${port} (/eco/…; see README)${oscIn.allow ? `, from ${oscIn.allow.join(', ')} only` : ''}`);
      if (!isLoopbackHost(bound.address) && !oscIn.allow)
        log(`  warning: OSC control in is open to the network: anyone who reaches ${urlHost(bound.address)}:${port} can send panic, volume or stream values; limit senders with --osc-allow CIDR (osc.in.allow)`);
      if (queryAt) {
        // HOST_INFO's OSC_IP only when it is an address a tool can send to (not 0.0.0.0 or ::).
        const oscHost = bound.address === '0.0.0.0' || bound.address === '::' ? undefined : bound.address;
        query = new OscQueryServer(p.engine, control, { name: pf.patch.name, oscPort: port, oscHost });
        await query.listen(queryAt.host, queryAt.port);
        const qa = query.bound!;
        log(`  OSCQuery on http://${urlHost(qa.address)}:${qa.port}/ (the address space, values, LISTEN over WebSocket)`);
        if (!isLoopbackHost(qa.address)) log(`  warning: OSCQuery is open to the network (it answers anyone; its WebSocket takes no control)`);
      }
    }
    if (pf.patch.osc?.out && targets.length) {
      oscOut = new OscOutBridge(p.engine, pf.patch.osc.out, targets);
      await oscOut.start();
      log(`  OSC out to ${targets.map((t) => `${t.host}:${t.port}`).join(', ')}`);
    }
  } catch (e) {
    // A port in use must not leave the player running.
    await query?.close();
    await control?.close();
    await oscOut?.stop();
    await Promise.all(lighting.map((b) => b.stop()));
    await hub.stop();
    await p.stop();
    policy.dispose();
    throw new UsageError(`OSC: ${(e as Error).message}`);
  }
  const midi = await startMidi(pf, p.engine, a, log);
  const started = p.clock.now();
  // The analyser holds the last 2048 samples (43 ms): sample it often and report
  // the loudest peak and the mean power of the whole second.
  let peak = 0;
  let power = 0;
  let frames = 0;
  const sample = () => {
    const l = p.engine.master.levels();
    peak = Math.max(peak, l.peak);
    power += l.rms * l.rms;
    frames++;
  };
  const midiStatus = () => {
    if (!midi) return '';
    const b = midi.bridge;
    const clock = b.follower?.bpm ? ` clock ${b.follower.bpm.toFixed(1)} BPM${b.follower.running ? '' : ' (stopped)'}` : '';
    return ` | MIDI in ${b.stats.in.messages} out ${b.stats.out.messages}${clock}`;
  };
  const status = () => {
    const rms = Math.sqrt(power / Math.max(1, frames));
    const v = p.engine.values();
    const streams = Object.entries(v.streams)
      .map(([k, x]) => `${k}=${Number.isInteger(x) ? x : x.toFixed(2)}`)
      .join(' ');
    const signals = Object.entries(v.signals)
      .map(([k, x]) => `${k}:${x.toFixed(2)}`)
      .join(' ');
    const sources = hub
      .statuses()
      .filter((st) => st.state !== 'live' || st.connection === 'disconnected')
      .map((st) => `${st.stream} ${st.state}${st.connection === 'disconnected' ? ' (link down)' : ''}`)
      .join(' ');
    const line = `${formatSeconds(p.clock.now() - started)}  peak ${dbfs(peak)}  rms ${dbfs(rms)}  | ${streams} | ${signals}${v.scene ? ` | scene ${v.scene}` : ''}${sources ? ` | ${sources}` : ''}${midiStatus()}`;
    if (tty) process.stdout.write(`\r\x1b[K${line}`);
    else log(line);
    changes.flush(Date.now() / 1000);
    peak = power = frames = 0;
  };
  // The meters run on the player's clock (one service for every timer); the wait only ends the play.
  const sampler = p.clock.every(0.04, sample);
  const meter = p.clock.every(1, status);
  try {
    await waitForStop(duration);
  } finally {
    sampler.dispose();
    meter.dispose();
  }
  if (tty) process.stdout.write('\n');
  changes.flush(Date.now() / 1000, true);
  const stats = p.engine.stats;
  await hub.stop();
  await query?.close();
  await control?.close();
  await oscOut?.stop();
  await Promise.all(lighting.map((b) => b.stop()));
  await midi?.bridge.stop();
  midi?.system.close();
  await p.stop();
  policy.dispose();
  log(`Stopped: ${stats.notes} notes, ${stats.errors} engine errors, ${p.driver.stats.rearms} scheduler re-arms, ${policy.count} uncaught errors survived.`);
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
