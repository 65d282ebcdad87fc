/**
 * The supervisor's level cap and the fade-in against a real child process
 * (`--sink none`): the cap is measured on the child's output level, a client's
 * `levelCap` cannot lift it, a SIGKILLed child comes back under it, and fades
 * in from silence (its first heartbeat with sound far below its level later).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { SupervisedSession } from './supervised.ts';
import type { Heartbeat } from './hostChannel.ts';
import type { Snapshot } from '../../../shared/protocol.ts';
import { realSleep, until } from '../../../../tests/support/wait.ts';

const PATCH = `name: steady
tempo: 90
streams:
  x: { default: 0.5 }
voices:
  pad:
    synth: synth
    oscillator: sine
    volume: -6
    envelope: { attack: 0.05, release: 1 }
    notes: { mode: chord, octave: 3 }
    rhythm: { hold: true }
`;

let host: SupervisedSession | undefined;
afterAll(async () => {
  await host?.stop();
});

describe('SupervisedSession: level cap and fade-in', () => {
  it('the cap is measured on the output, a client cannot lift it, and a restart fades in under it', async () => {
    const h = (host = new SupervisedSession({
      session: { patch: { text: PATCH }, sink: 'none', cacheDir: false, midi: false, maxLevelDb: -1, fadeIn: 3 },
      hangAfter: 5,
      standby: false,
    }));
    const beats: Heartbeat[] = [];
    h.onHeartbeat((b) => beats.push(b));
    await h.start();
    // Full level first (after the start's fade-in).
    await until(() => (h.lastHeartbeat?.rmsDb ?? -Infinity) > -25, 'the pad at full level', 60_000);
    const full = h.lastHeartbeat!.rmsDb!;

    const r = await h.setLevelCap(-30);
    expect(r).toMatchObject({ ok: true, data: { db: -30 } });
    const setAt = Date.now();
    // Heartbeats measure the last second: wait for one that began after the cap.
    await until(() => beats.some((b) => b.at > setAt + 1200), 'a heartbeat a second after the cap', 30_000);
    const capped = beats.filter((b) => b.at > setAt + 1200).at(-1)!.rmsDb!;
    expect(capped).toBeLessThanOrEqual(-30);
    expect(capped).toBeLessThan(full - 15);
    expect(capped).toBeGreaterThan(-60); // still sounding

    // A client (UI, REST, OSC) may not lift it.
    const lift = await h.handle({ type: 'levelCap', db: null });
    expect(lift).toMatchObject({ ok: true, data: { db: -30 } });
    expect(((await h.handle({ type: 'snapshot' })) as { data: Snapshot }).data.levelCapDb).toBe(-30);

    // SIGKILL: the new child starts under the cap and fades in.
    const pid = h.pid!;
    // The old child is gone after the kill (no standby): later heartbeats are the new child's.
    const killedAt = beats.length;
    process.kill(pid, 'SIGKILL');
    await until(() => h.status.state === 'playing' && h.pid !== undefined && h.pid !== pid, 'the new child to play', 60_000);
    const fromNew = () => beats.slice(killedAt).filter((b) => b.rmsDb !== null);
    await until(() => fromNew().length > 0, 'the new child to sound', 30_000);
    const first = fromNew()[0]!;
    const firstAt = first.at;
    await realSleep(4500);
    const later = beats.filter((b) => b.at > firstAt + 4000 && b.rmsDb !== null).at(-1)!;
    expect(later).toBeDefined();
    expect(later.rmsDb!).toBeLessThanOrEqual(-30);
    expect(later.rmsDb!).toBeGreaterThan(-60);
    expect(first.rmsDb!).toBeLessThan(later.rmsDb! - 6);
    for (const b of fromNew()) expect(b.rmsDb!).toBeLessThanOrEqual(-30);
    expect(((await h.handle({ type: 'snapshot' })) as { data: Snapshot }).data.levelCapDb).toBe(-30);
  }, 180_000);
});
