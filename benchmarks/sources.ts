/**
 * Live-data benchmarks (issue 3), with audio running in real time (no device):
 * - updates-per-second: stream values through conditioning and mapping
 *   (engine.update) on the main thread while a patch plays, in 10 ms bursts
 *   every 20 ms; the rate is updates per second of time spent updating.
 *   Reported with the late notes seen (goal: ≥ 100,000/s, no late notes),
 *   and as a ratio to bare Conditioner.push in the same process.
 * - socket-to-param p50/p99: from a WebSocket server sending a value to the
 *   engine having scheduled its parameter ramp (hub, gate, supervisor,
 *   conditioning, mapping), in ms.
 */
import '../src/engine/node/platform/installGlobals.ts';
import { WebSocketServer } from 'ws';
import { Conditioner } from '../src/engine/core/conditioning.ts';
import { loadPatchFile, resolvePatchPath } from '../src/engine/node/files.ts';
import { startPlayer } from '../src/engine/node/realtime.ts';
import { SourceHub } from '../src/engine/node/sources/hub.ts';
import { quantile } from '../src/engine/core/filters.ts';

export interface Row {
  name: string;
  value: number;
  unit: string;
}

export async function benchSources(quick: boolean, row: (name: string, value: number, unit: string) => void): Promise<void> {
  const pf = loadPatchFile(resolvePatchPath('carbon-pulse'));
  const stream = Object.keys(pf.patch.streams)[0]!;

  // Baseline: bare conditioning maths, same process.
  const bare = new Conditioner({ range: { autoWindowSeconds: 86400 }, curve: 'exp', smoothSeconds: 0.5, clamp: true, invert: false });
  const n0 = 2_000_000;
  const t = performance.now();
  for (let i = 0; i < n0; i++) bare.push(400 + (i % 97), i * 1e-3, i);
  const bareRate = n0 / ((performance.now() - t) / 1000);

  const player = await startPlayer({ patch: pf.patch, sink: 'none' });
  try {
    const seconds = quick ? 2 : 8;
    let updates = 0;
    let busy = 0;
    let k = 0;
    const lateBefore = player.engine.stats.lateNotes;
    const notesBefore = player.engine.stats.notes;
    const end = performance.now() + seconds * 1000;
    while (performance.now() < end) {
      const start = performance.now();
      const now = player.raw.currentTime;
      do {
        for (let j = 0; j < 256; j++, k++) player.engine.update(stream, 380 + (k % 61), now, 1_700_000_000 + k);
        updates += 256;
      } while (performance.now() - start < 10);
      busy += performance.now() - start;
      await new Promise((r) => setTimeout(r, 10));
    }
    const rate = updates / (busy / 1000);
    row('updates-per-second', rate, 'updates/s (goal ≥ 100000)');
    row('updates-vs-bare-conditioner', rate / bareRate, 'ratio');
    row('updates-late-notes', player.engine.stats.lateNotes - lateBefore, `late notes of ${player.engine.stats.notes - notesBefore}`);

    // Socket → parameter scheduled.
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise<void>((r) => wss.once('listening', () => r()));
    const port = (wss.address() as { port: number }).port;
    const latencies: number[] = [];
    const hub = new SourceHub({
      patch: pf.patch,
      baseDir: pf.dir,
      overrides: new Map([[stream, `ws://127.0.0.1:${port}/#$.v`]]),
      cacheDir: false,
      deliver: (s, value, dataTime) => {
        if (typeof value !== 'number' || s !== stream) return;
        player.engine.update(s, value, undefined, dataTime);
        latencies.push(performance.timeOrigin + performance.now() - dataTime * 1000);
      },
    });
    hub.start();
    await new Promise<void>((r) => wss.once('connection', () => r()));
    const count = quick ? 200 : 1000;
    const client = [...wss.clients][0]!;
    for (let i = 0; i < count; i++) {
      client.send(JSON.stringify({ v: 380 + (i % 40), time: (performance.timeOrigin + performance.now()) / 1000 }));
      await new Promise((r) => setTimeout(r, 5));
    }
    await new Promise((r) => setTimeout(r, 100));
    await hub.stop();
    await new Promise<void>((r) => wss.close(() => r()));
    row('socket-to-param-p50', quantile(latencies, 0.5), `ms (${latencies.length} values over WebSocket)`);
    row('socket-to-param-p99', quantile(latencies, 0.99), 'ms');
  } finally {
    await player.stop();
  }
}
