/**
 * Schema fuzz: random valid patches (tests/support/patchFuzz.ts), each
 * rendered for 60 s offline, none may produce a non-finite sample, an audio
 * fault or a silence it did not ask for. A few run here; `npm run bench -- --fuzz`
 * runs 200 at full rate.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { renderOffline } from '../node/render.ts';
import { fuzzFeed, fuzzPatch, fuzzProblems } from '../../../tests/support/patchFuzz.ts';
import type { EngineEvent } from './Engine.ts';

/**
 * Patches per CI run, and their rate: a 60 s render of a fuzz patch at 16 kHz
 * costs 1–5 s of CPU (up to 16 notes of fat oscillators, a 20 s reverb), and a
 * loaded 2-core machine gives a test a third of that or less.
 */
const RUNS = 3;
const SR = 16000;

describe('schema fuzz', () => {
  it(`${RUNS} random valid patches render 60 s each with no non-finite sample, fault or unrequested silence`, async () => {
    await fc.assert(
      fc.asyncProperty(fuzzPatch, async (patch) => {
        const events: EngineEvent[] = [];
        const r = await renderOffline({ patch, duration: 60, sampleRate: SR, data: fuzzFeed(patch.seed, 60), onEvent: (e) => void events.push(e) });
        expect(fuzzProblems(r.channels, SR, events, r.errors), JSON.stringify(patch)).toEqual([]);
      }),
      { numRuns: RUNS, seed: Number(process.env.FUZZ_SEED ?? 20261201), endOnFailure: true },
    );
  }, 300_000);
});
