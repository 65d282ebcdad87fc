/**
 * The Node platform's workarounds, each against the upstream bug it hides: run
 * without the workaround, the bug still happens (when one of these fails, the
 * upstream bug is fixed and the workaround can go); with it, things work.
 */
import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { NODE_AUDIO_GLOBALS, type NodeAudioGlobal } from './index.ts';
import { releaseOfflineContext } from './release.ts';
import { garbageCollector } from './gc.ts';

const run = promisify(execFile);

/**
 * Tone on node-web-audio-api in a fresh process, without some globals
 * (tests/support/nodeGlobalsProbe.ts). About 1 s on an idle machine; 10–20 s
 * seen with the machine loaded, hence the margins.
 */
const PROBE_MS = 150_000;

async function probe(...without: NodeAudioGlobal[]): Promise<{ ok?: true; error?: string }> {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', 'tests/support/nodeGlobalsProbe.ts', ...without], { timeout: PROBE_MS });
  const line = stdout.trim().split('\n').at(-1)!;
  return JSON.parse(line) as { ok?: true; error?: string };
}

describe('Node audio globals: what each one prevents', () => {
  it('with all of them, Tone runs a Param, an AudioWorklet, Tone.Draw and close()', async () => {
    expect(await probe()).toStrictEqual({ ok: true });
  }, PROBE_MS + 10_000);

  const bugs: Record<NodeAudioGlobal, RegExp> = {
    webAudioClasses: /param must be an AudioParam/,
    window: /param must be an AudioParam/,
    self: /Right-hand side of 'instanceof' is not an object/,
    isSecureContext: /AudioWorkletNode only works in a secure context/,
    // Node 22 has it: this then fails, and the polyfill can go.
    promiseWithResolvers: /Promise.withResolvers is not a function/,
    animationFrame: /requestAnimationFrame is not defined/,
  };

  it('lists every global it installs here', () => {
    expect(Object.keys(bugs).sort()).toStrictEqual(Object.keys(NODE_AUDIO_GLOBALS).sort());
  });

  it.each(Object.entries(bugs))('without %s, Tone still fails as it did', async (name, message) => {
    const outcome = await probe(name as NodeAudioGlobal);
    expect(outcome.error).toMatch(message);
  }, PROBE_MS + 10_000);
});

describe('node-web-audio-api offline suspend points', () => {
  it('refuses a suspend point asked for once rendering has begun (the spec allows it; render.ts registers all up front and starts over)', async () => {
    const raw = new OfflineAudioContext(1, 48000, 48000);
    let outcome = 'not settled';
    void raw.suspend(0.25).then(() => {
      raw.suspend(0.75).then(
        () => {
          outcome = 'accepted';
          void raw.resume();
        },
        (e: unknown) => void (outcome = `refused: ${(e as Error)?.message ?? e}`),
      );
      void raw.resume();
    });
    await raw.suspend(1).catch(() => undefined); // polled: the point at 0.25 is registered
    await new Promise((r) => setImmediate(r));
    await raw.startRendering();
    await new Promise((r) => setTimeout(r, 50));
    expect(outcome).toMatch(/^refused/);
  });
});

describe('node-web-audio-api offline contexts after rendering', () => {
  /** Renders `count` short contexts, drops them, collects: how many are still alive. */
  async function survivors(release: boolean, count = 4): Promise<number> {
    const gc = garbageCollector()!;
    let alive = 0;
    const registry = new FinalizationRegistry(() => void alive--);
    for (let i = 0; i < count; i++) {
      const raw = new OfflineAudioContext(1, 4800, 48000);
      const osc = raw.createOscillator();
      osc.connect(raw.destination);
      osc.start();
      await raw.startRendering();
      if (release) expect(releaseOfflineContext(raw)).toBe(true);
      registry.register(raw, i);
      alive++;
    }
    for (let k = 0; k < 5 && alive > 0; k++) {
      await new Promise((r) => setTimeout(r, 20));
      gc();
      await new Promise((r) => setTimeout(r, 20));
    }
    return alive;
  }

  it('never frees a rendered context left as it is (its native state-change callback holds it)', async () => {
    expect(await survivors(false)).toBe(4);
  });

  it('frees it once releaseOfflineContext has dropped that callback', async () => {
    // The newest may still be held a while (seen: exactly one, whatever the count); none piles up.
    expect(await survivors(true, 6)).toBeLessThanOrEqual(1);
  });
});
