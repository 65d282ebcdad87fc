/**
 * `npm run bench -- --fuzz[=N]`: the schema fuzz at full size: N random valid
 * patches (default 200, tests/support/patchFuzz.ts), each rendered for 60 s at
 * 48 kHz; reports how many failed (a non-finite sample, an audio fault or an
 * unrequested silence) and prints each failing patch as JSON to replay.
 * `--fuzz-seed=S` picks another set of patches.
 */
import fc from 'fast-check';
import { renderOffline } from '../src/engine/node/render.ts';
import type { EngineEvent } from '../src/engine/audio/Engine.ts';
import { fuzzFeed, fuzzPatch, fuzzProblems } from '../tests/support/patchFuzz.ts';

export async function benchFuzz(runs: number, seed: number, row: (name: string, value: number, unit: string) => void): Promise<number> {
  const patches = fc.sample(fuzzPatch, { numRuns: runs, seed });
  let failed = 0;
  let audio = 0;
  const started = performance.now();
  for (const [i, patch] of patches.entries()) {
    const events: EngineEvent[] = [];
    const r = await renderOffline({ patch, duration: 60, data: fuzzFeed(patch.seed, 60), onEvent: (e) => void events.push(e) });
    audio += 60;
    const problems = fuzzProblems(r.channels, r.sampleRate, events, r.errors);
    if (problems.length) {
      failed++;
      console.log(`fuzz ${i + 1}/${runs} FAILED: ${problems.join('; ')}\n  ${JSON.stringify(patch)}`);
    } else if ((i + 1) % 10 === 0) console.log(`fuzz ${i + 1}/${runs}: ${failed} failed so far`);
  }
  row('fuzz/patches', runs, 'patches of 60 s');
  row('fuzz/failed', failed, 'patches');
  row('fuzz/speed', audio / ((performance.now() - started) / 1000), 'x RT');
  return failed;
}
