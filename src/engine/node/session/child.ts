/**
 * The entry of a session child process: the audio host of the desktop app
 * (an Electron `utilityProcess`) and of `ecosym run` (`child_process.fork`).
 * It waits for its start options, opens a {@link Session}, then answers
 * protocol commands, forwards events (and telemetry while the parent wants
 * it), and sends a heartbeat every {@link HEARTBEAT_MS} ms with the event
 * loop's lag and the output level, so the parent can tell a hung or silent
 * host from a playing one. A snapshot for restore is the `snapshot` command.
 *
 * Started through bin/session-child.mjs (the bundle dist/cli/session-child.js
 * when fresh, else these sources through tsx), with ECOSYM_SESSION_CHILD=1:
 * importing this file anywhere else does nothing.
 */
import { existsSync } from 'node:fs';
import '../platform/installGlobals.ts';
import { readPatch, Session } from './Session.ts';
import { parentChannel, type FromChild, type HostChannel, type ToChild } from './hostChannel.ts';
import { renderViaParent } from './renderProcess.ts';

/** Heartbeat period, ms. */
export const HEARTBEAT_MS = 250;
/** Heartbeat period for the first {@link FAST_BEATS_MS} ms after a start: the level reaches the parent sooner after a restart. */
export const FAST_HEARTBEAT_MS = 50;
export const FAST_BEATS_MS = 1500;
/**
 * Seconds the audio clock may stand still while the context says it runs
 * before the output counts as lost (a USB interface unplugged: its stream
 * stops, and with it the context's clock). The process then exits with
 * {@link DEVICE_LOST_EXIT}, and its supervisor starts it again until a device opens.
 */
export const DEVICE_STALL_S = 1.5;
export const DEVICE_LOST_EXIT = 3;
/** The line a child fails with when no output device opens or the one it had went away (supervisors match it). */
export const NO_DEVICE_TEXT = 'no audio output device';

/**
 * Test hook (ECOSYM_TEST_HOOKS=1 only): while the file ECOSYM_TEST_DEVICE_GONE
 * names exists, the device is gone: a start fails as with no device, and a
 * playing session's context is suspended, so its clock really stops.
 */
function deviceGoneByTest(): boolean {
  const file = process.env.ECOSYM_TEST_DEVICE_GONE;
  return process.env.ECOSYM_TEST_HOOKS === '1' && !!file && existsSync(file);
}

/** Runs a session child on a channel to its parent. Resolves when the session has stopped. */
export async function runSessionChild(ch: HostChannel<ToChild, FromChild>, exit: (code: number) => void = (c) => process.exit(c)): Promise<void> {
  const errLine = (s: string) => process.stderr.write(`[session ${process.pid}] ${s}\n`);
  // One stray error must not stop the sound (the CLI's policy, restated: src/engine may not import the CLI).
  let survived = 0;
  const onError = (e: unknown) => {
    survived++;
    errLine(`survived an uncaught error (#${survived}): ${(e as Error)?.stack ?? String(e)}`);
    ch.send({ kind: 'event', event: { type: 'error', time: Date.now() / 1000, where: 'session process', message: String((e as Error)?.message ?? e).slice(0, 500) } });
  };
  process.on('uncaughtException', onError);
  process.on('unhandledRejection', onError);

  let session: Session | undefined;
  let heartbeat: NodeJS.Timeout | undefined;
  let telemetryOff: (() => void) | undefined;
  let stopping: Promise<void> | undefined;
  const pending: ToChild[] = [];
  /** `output` commands running: the device watch waits for them. */
  let outputSwitches = 0;
  let warming: Promise<void> | undefined;
  let done!: () => void;
  const finished = new Promise<void>((r) => (done = r));

  const stop = (code: number) =>
    (stopping ??= (async () => {
      if (heartbeat) clearInterval(heartbeat);
      telemetryOff?.();
      await session?.stop().catch((e: unknown) => errLine(`stop: ${(e as Error)?.message ?? String(e)}`));
      ch.send({ kind: 'stopped' });
      process.off('uncaughtException', onError);
      process.off('unhandledRejection', onError);
      done();
      // Let the last messages leave before the process ends.
      setTimeout(() => exit(code), 100).unref?.();
    })());

  const onMessage = (m: ToChild) => {
    if (typeof m !== 'object' || m === null) return;
    if (m.kind === 'start') return void start(m.options);
    if (m.kind === 'warm') return void (warming ??= warm(m.options));
    if (m.kind === 'stop') return void stop(0);
    if (!session) {
      pending.push(m);
      return;
    }
    const s = session;
    if (m.kind === 'command') {
      // An output switch opens the new context while the old one closes (on some systems the old one's device stalls meanwhile): no device watch until it is done.
      const switching = (m.message as { type?: unknown } | null)?.type === 'output';
      if (switching) outputSwitches++;
      void s.handle(m.message).then((reply) => {
        if (switching) outputSwitches--;
        ch.send({ kind: 'reply', seq: m.seq, reply });
      });
    }
    else if (m.kind === 'telemetry') {
      telemetryOff?.();
      telemetryOff = m.on ? s.onTelemetry((frame) => ch.send({ kind: 'telemetry', frame })) : undefined;
    } else if (m.kind === 'debugStall') {
      if (process.env.ECOSYM_TEST_HOOKS !== '1') return errLine('debugStall ignored: test hooks are off (ECOSYM_TEST_HOOKS=1)');
      const until = Date.now() + Math.max(0, Math.min(600, Number(m.seconds) || 0)) * 1000;
      while (Date.now() < until) {
        // busy-wait: the event loop stalls, as a runaway computation would
      }
    }
  };

  /**
   * A standby process runs the start path once with no device (the patch
   * read, the engine built, the context opened and closed, no bridges
   * started), so that its later `start` runs compiled code with the native
   * audio module loaded: most of a cold start's time. A failure here is only
   * logged: the real start reports its own.
   */
  const warm = async (options: Extract<ToChild, { kind: 'warm' }>['options']) => {
    try {
      const s = await Session.open({ ...options, sink: 'none', patch: readPatch(options.patch), overrides: new Map(options.overrides ?? []), oscIn: undefined, oscQuery: undefined, midi: false, log: () => undefined });
      await s.stop();
    } catch (e) {
      errLine(`warm-up: ${(e as Error)?.message ?? String(e)}`);
    }
  };

  const start = async (options: Extract<ToChild, { kind: 'start' }>['options']) => {
    if (session || stopping) return;
    // Never two contexts at once: a start during the warm-up waits for it.
    await warming;
    if (session || stopping) return;
    try {
      if (deviceGoneByTest()) throw new Error(`${NO_DEVICE_TEXT} could be opened (test hook: ${process.env.ECOSYM_TEST_DEVICE_GONE} exists)`);
      const pf = readPatch(options.patch);
      const { renderViaParent: viaParent, ...rest } = options;
      const s = await Session.open({
        ...rest,
        patch: pf,
        overrides: new Map(options.overrides ?? []),
        log: (line) => errLine(line.trim()),
        launchRender: viaParent ? renderViaParent((m) => ch.send(m), (fn) => void ch.onMessage(fn)) : undefined,
      });
      session = s;
      s.onEvent((event) => ch.send({ kind: 'event', event }));
      await s.start();
    } catch (e) {
      ch.send({ kind: 'failed', where: 'start', error: (e as Error)?.message ?? String(e) });
      return void stop(1);
    }
    const s = session;
    // Fast beats first (the level after a restart reaches the parent within 50 ms), then every HEARTBEAT_MS.
    const beats = (period: number) => {
      let expected = Date.now() + period;
      return setInterval(() => {
        const now = Date.now();
        const lagMs = Math.max(0, now - expected);
        expected = now + period;
        if (stopping) return;
        if (outputLost(now)) {
          const error = `${NO_DEVICE_TEXT}: the output stopped (its clock stood still for ${DEVICE_STALL_S} s while playing); the device went away`;
          errLine(error);
          ch.send({ kind: 'failed', where: 'run', error });
          return void stop(DEVICE_LOST_EXIT);
        }
        const { rms } = s.outputLevels();
        const mem = process.memoryUsage();
        ch.send({
          kind: 'heartbeat',
          at: now,
          lagMs,
          rmsDb: rms > 0 ? 20 * Math.log10(rms) : null,
          patch: s.patchFile.patch.name,
          scene: s.engine.values().scene ?? null,
          rss: mem.rss,
          heapUsed: mem.heapUsed,
          external: mem.external,
        });
      }, period);
    };
    // The output watch: a context that says it runs but whose clock stands still has lost its device.
    let raw = s.player.raw;
    let clockAt = raw.currentTime;
    let clockMovedAt = Date.now();
    const outputLost = (now: number): boolean => {
      // An `output` command swaps the context: the watch pauses while it runs, and the new clock starts afresh.
      const swapped = raw !== s.player.raw || outputSwitches > 0;
      raw = s.player.raw;
      if (deviceGoneByTest() && raw.state === 'running') void raw.suspend();
      const t = raw.currentTime;
      if (swapped || t > clockAt + 0.01 || (raw.state !== 'running' && !deviceGoneByTest())) {
        clockAt = t;
        clockMovedAt = now;
        return false;
      }
      return now - clockMovedAt > DEVICE_STALL_S * 1000;
    };
    heartbeat = beats(FAST_HEARTBEAT_MS);
    const slow = setTimeout(() => {
      if (stopping) return;
      clearInterval(heartbeat);
      heartbeat = beats(HEARTBEAT_MS);
    }, FAST_BEATS_MS);
    slow.unref?.();
    ch.send({ kind: 'ready', pid: process.pid, snapshot: s.snapshot() });
    for (const m of pending.splice(0)) onMessage(m);
  };

  ch.onMessage(onMessage);
  // The parent went away (its IPC channel closed): nobody to play for.
  process.once('disconnect', () => void stop(0));
  process.once('SIGTERM', () => void stop(143));
  return finished;
}

if (process.env.ECOSYM_SESSION_CHILD === '1') {
  const ch = parentChannel();
  if (!ch) {
    process.stderr.write('session child: started without a parent channel (fork it, or run it as an Electron utility process)\n');
    process.exit(2);
  }
  void runSessionChild(ch);
}
