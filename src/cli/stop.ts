/**
 * How the long-running commands (play, sources, record) stop: their time runs
 * out, Ctrl-C (SIGINT), SIGTERM, or the reader of stdout goes away (EPIPE, as in
 * `ecosym play … | head -4`). A stop ends the command's wait at once with every
 * timer of the wait cleared, so the command can close its bridges and the process
 * exits; a second signal during that clean-up exits at once.
 */

/** Why a wait ended: its time ran out, a signal, or a closed stdout/stderr. */
export type StopCause = 'time' | 'SIGINT' | 'SIGTERM' | 'EPIPE';

/** A stop that comes from outside the command. */
export type ExternalStop = Exclude<StopCause, 'time'>;

/**
 * Exit codes after a signal: 128 + the signal's number, what shells report for a
 * process killed by it (so `ecosym play … ; echo $?` reads the same either way).
 */
export const SIGNAL_EXIT_CODES = { SIGINT: 130, SIGTERM: 143 } as const;

const SIGNALS = ['SIGINT', 'SIGTERM'] as const;

let requested: ExternalStop | undefined;
let forceHandlers: Array<[NodeJS.Signals, () => void]> | undefined;
const waiters = new Set<(cause: ExternalStop) => void>();

/** The first stop asked from outside so far, if any. */
export function stopRequested(): ExternalStop | undefined {
  return requested;
}

/**
 * The exit code a signal stop imposes (130 / 143), or undefined when no signal
 * came (a closed stdout keeps the command's own code: the output was not wanted,
 * nothing failed).
 */
export function signalExitCode(): number | undefined {
  return requested === 'SIGINT' || requested === 'SIGTERM' ? SIGNAL_EXIT_CODES[requested] : undefined;
}

/**
 * Asks every running wait to stop. The first stop decides the exit code. After a
 * signal, a second SIGINT or SIGTERM exits at once: clean-up that hangs (a broker
 * that does not answer, a device that does not close) must not hold the terminal.
 */
export function requestStop(cause: ExternalStop): void {
  requested ??= cause;
  if (cause !== 'EPIPE' && !forceHandlers) {
    // Node calls the listeners of a signal from a copy of the list, so these
    // see the next signal, not the one being handled.
    forceHandlers = SIGNALS.map((s) => [s, () => process.exit(SIGNAL_EXIT_CODES[s])]);
    for (const [s, h] of forceHandlers) process.once(s, h);
  }
  for (const finish of [...waiters]) finish(cause);
}

/** Something a wait runs every `ms` milliseconds (levels, a status table). */
export interface Ticker {
  ms: number;
  run: () => void;
}

/**
 * Waits until `seconds` pass (Infinity: until stopped) or a stop arrives, running
 * the tickers meanwhile. SIGINT and SIGTERM are caught only while a wait runs, so
 * elsewhere (a render, start-up) they keep their default: the process ends at once.
 * Every timer the wait set is cleared before it resolves.
 */
export function waitForStop(seconds: number, tickers: Ticker[] = []): Promise<StopCause> {
  if (requested) return Promise.resolve(requested);
  return new Promise((resolve) => {
    const intervals = tickers.map((t) => setInterval(t.run, t.ms));
    const onSignal = (signal: NodeJS.Signals) => requestStop(signal as ExternalStop);
    const finish = (cause: StopCause) => {
      for (const i of intervals) clearInterval(i);
      clearTimeout(deadline);
      waiters.delete(finish);
      for (const s of SIGNALS) process.off(s, onSignal);
      resolve(cause);
    };
    const deadline = Number.isFinite(seconds) ? setTimeout(() => finish('time'), seconds * 1000) : undefined;
    waiters.add(finish);
    for (const s of SIGNALS) process.on(s, onSignal);
  });
}

/**
 * Makes a closed stdout or stderr end the process quietly: the write error
 * (EPIPE) stops the running wait instead of surfacing as an unhandled 'error'
 * event with a stack trace per write. Later writes to the closed stream are
 * dropped by Node. Returns a function that removes the guard.
 */
export function guardClosedOutput(streams: NodeJS.WriteStream[] = [process.stdout, process.stderr]): () => void {
  const onError = (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE') throw e;
    requestStop('EPIPE');
  };
  for (const s of streams) s.on('error', onError);
  return () => {
    for (const s of streams) s.off('error', onError);
  };
}

/** Forgets stops asked so far (for tests that run commands in one process). */
export function resetStops(): void {
  requested = undefined;
  for (const [s, h] of forceHandlers ?? []) process.off(s, h);
  forceHandlers = undefined;
}
