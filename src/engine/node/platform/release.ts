/**
 * Lets a node-web-audio-api context be garbage-collected once it is done with.
 *
 * node-web-audio-api 2.2.0's OfflineAudioContext hands its native object a
 * state-change callback bound to the JavaScript context; the native side keeps
 * that callback as a global (strong) handle for as long as it lives, and it
 * lives as long as the JavaScript context: a cycle the GC cannot break, so no
 * offline context is ever freed, with its whole node graph (heap snapshots of a
 * segmented render: one more OfflineAudioContext reachable per segment, from
 * "(Global handles)" through a bound function; native memory grew ~30 MB per
 * segment). Replacing the callback with one that holds nothing drops the old
 * handle, and the context goes with the next collections
 * (platform.test.ts shows both).
 */
export function releaseOfflineContext(raw: OfflineAudioContext): boolean {
  const key = Object.getOwnPropertySymbols(raw).find((s) => s.description === 'node-web-audio-api:napi-obj');
  const napi = key && (raw as unknown as Record<symbol, { onstatechange?: unknown }>)[key];
  if (!napi || typeof napi.onstatechange !== 'function') return false;
  try {
    (napi.onstatechange as (cb: () => void) => void)(() => {});
    return true;
  } catch {
    return false;
  }
}
