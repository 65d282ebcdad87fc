/**
 * Waiting for a condition in tests. A deadline here is a failure detector, not
 * a speed check: it only has to end a test that would otherwise hang, with a
 * message saying what never happened. On a busy 2-core machine (CI, or several
 * test runs at once) a socket round trip or a child process start can take
 * seconds, so the default is long; pass a shorter `ms` only where the wait is
 * for something that cannot be slowed down by load.
 */

// Captured at import, before any test installs fake timers: `until` keeps
// polling in real time while a test drives the code under test on a fake clock.
const realSetTimeout = globalThis.setTimeout;
const realNow = performance.now.bind(performance);

/** Default deadline of {@link until}, ms: generous, as it only has to catch a hang. */
export const UNTIL_MS = 30_000;

/**
 * Waits until `check` returns true (polling every `everyMs`), or fails with
 * `what` after `ms`. Poll often (1 ms) where a test waits thousands of times.
 */
export async function until(check: () => boolean, what: string, ms = UNTIL_MS, everyMs = 10): Promise<void> {
  const deadline = realNow() + ms;
  while (!check()) {
    if (realNow() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => realSetTimeout(r, everyMs));
  }
}

/** Resolves after `ms` of real time, also while a test has fake timers installed. */
export function realSleep(ms: number): Promise<void> {
  return new Promise((r) => realSetTimeout(r, ms));
}
