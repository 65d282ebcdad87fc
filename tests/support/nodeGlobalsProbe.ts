/**
 * Runs Tone.js on node-web-audio-api in a fresh process with the Node audio
 * globals installed except the ones named on the command line, and prints one
 * JSON line: {"ok":true} or {"error":"…"}. src/engine/node/platform/platform.test.ts
 * runs it to show what each global prevents.
 *
 *   node --import tsx tests/support/nodeGlobalsProbe.ts self isSecureContext
 */
import { installNodeAudioGlobals, type NodeAudioGlobal } from '../../src/engine/node/platform/globals.ts';

const without = process.argv.slice(2) as NodeAudioGlobal[];
const { OfflineAudioContext } = installNodeAudioGlobals({ without });

let reported = false;
const report = (outcome: { ok: true } | { error: string }) => {
  if (reported) return;
  reported = true;
  console.log(JSON.stringify(outcome));
  // node-web-audio-api's threads may keep the process alive.
  setTimeout(() => process.exit(0), 50);
};
// Worklet set-up fails asynchronously, outside any await of ours.
process.on('unhandledRejection', (e) => report({ error: String((e as Error)?.message ?? e) }));
process.on('uncaughtException', (e) => report({ error: String(e?.message ?? e) }));

try {
  const Tone = await import('tone');
  const raw = new OfflineAudioContext(1, 4800, 48000);
  const ctx = new Tone.Context({ context: raw as unknown as AudioContext, clockSource: 'offline' } as ConstructorParameters<typeof Tone.Context>[0]);
  // A Param on a native node, an AudioWorklet-based class, Tone.Draw, close().
  new Tone.Gain({ context: ctx, gain: 0.5 });
  new Tone.BitCrusher({ context: ctx, bits: 4 });
  // Protected in Tone's types: resolves once worklet modules have loaded (or rejects).
  await (ctx as unknown as { workletsAreReady(): Promise<void> }).workletsAreReady();
  ctx.draw.schedule(() => undefined, 0.1);
  await ctx.close();
  setTimeout(() => report({ ok: true }), 200);
} catch (e) {
  report({ error: String((e as Error)?.message ?? e) });
}
