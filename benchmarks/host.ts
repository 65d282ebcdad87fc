/**
 * Supervised session benchmark (`npm run bench -- --host`): restart-to-sound,
 * ms from SIGKILL of the session child (`carbon-pulse`, `--sink none`) to the
 * first heartbeat of the new child with the output above −60 dBFS (heartbeats
 * come every 250 ms and carry the level over the last second, so that is the
 * resolution), median and max of N kills; goal ≤ 3,000 ms (issue 12). Each kill
 * comes 5 s after the child sounded (the standby process has loaded by then), with the policy's "healthy after" set
 * to 1 s, so every kill starts a fresh backoff series (0.5 s): the row times
 * the restart, not the backoff. The same without the standby process (a fresh
 * process loads the engine first) runs in the same process for the ratio row. The child runs dist/ when
 * its build is fresh, else the sources through tsx (`npm run prepare` first).
 */
import { SupervisedSession } from '../src/engine/node/session/supervised.ts';

function soundAfter(host: SupervisedSession, notPid: number | undefined, t0: number): Promise<number> {
  return new Promise((done) => {
    const off = host.onHeartbeat((h) => {
      if (host.pid !== notPid && host.status.state === 'playing' && (h.rmsDb ?? -Infinity) > -60) {
        off();
        done(performance.now() - t0);
      }
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Spawn-to-sound of the first start, and SIGKILL-to-sound of each of `kills` restarts. */
async function restarts(standby: boolean, kills: number): Promise<{ cold: number; times: number[] }> {
  const host = new SupervisedSession({ session: { patch: { id: 'carbon-pulse' }, sink: 'none', cacheDir: false, midi: false }, policy: { healthyAfter: 1 }, standby });
  const t0 = performance.now();
  const first = soundAfter(host, undefined, t0);
  await host.start();
  const cold = await first;
  const times: number[] = [];
  try {
    for (let i = 0; i < kills; i++) {
      // Time for the standby process to load, as between faults hours apart.
      await sleep(5000);
      const pid = host.pid!;
      const t = performance.now();
      const back = soundAfter(host, pid, t);
      process.kill(pid, 'SIGKILL');
      times.push(await back);
    }
  } finally {
    await host.stop();
  }
  return { cold, times: times.sort((a, b) => a - b) };
}

export async function benchHost(quick: boolean, row: (name: string, value: number, unit: string) => void): Promise<void> {
  const n = quick ? 3 : 10;
  const warm = await restarts(true, n);
  const cold = await restarts(false, Math.ceil(n / 2));
  const p50 = (xs: number[]) => xs[Math.floor(xs.length / 2)]!;
  row('host-start-to-sound', warm.cold, 'ms, spawn of the session child to its first heartbeat above -60 dBFS');
  row('restart-to-sound-p50', p50(warm.times), `ms, SIGKILL to sound again (standby process), median of ${n} (goal <= 3000)`);
  row('restart-to-sound-max', warm.times.at(-1)!, 'ms');
  row('restart-to-sound-no-standby-p50', p50(cold.times), `ms, the same without a standby process, median of ${cold.times.length}`);
  row('restart-standby-vs-none', p50(warm.times) / p50(cold.times), 'ratio');
}
