/**
 * Offline suspend points on node-web-audio-api. It registers a suspend point
 * when the point's native future is first polled, on its own thread pool, and
 * refuses any polled once rendering has started: registering from a callback
 * always fails, starting in the same turn lost 12 of 319 points, and even after
 * a macrotask some were lost under load. (The Web Audio spec lets an
 * implementation refuse a point it has passed; node-web-audio-api's lazy
 * registration makes that happen to points asked for in time.
 * src/engine/node/platform/platform.test.ts shows it still does.)
 */

/**
 * Resolves once every suspend point asked of `raw` so far is registered, so
 * that `startRendering()` may be called: a marker at the render's end is
 * refused as soon as it is polled, and its rejection means the points queued
 * before it have been polled and registered. Even so a point may be refused
 * now and then under load; callers check, and render again (renders are
 * deterministic).
 */
export async function suspendPointsRegistered(raw: OfflineAudioContext): Promise<void> {
  await raw.suspend(raw.length / raw.sampleRate).catch(() => undefined);
  await new Promise((resolve) => setImmediate(resolve));
}
