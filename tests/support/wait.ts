/**
 * Waits until `check` returns true (polling every `everyMs`), or fails with
 * `what` after `ms`. Poll often (1 ms) where a test waits thousands of times.
 */
export async function until(check: () => boolean, what: string, ms = 10_000, everyMs = 10): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
