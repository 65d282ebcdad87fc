/**
 * MIDI benchmarks (issue 4), through JZZ's JavaScript ports, with audio
 * running in real time (no device):
 * - note-in-to-voice p50/p99: from a note-on sent into an input port to the
 *   engine having scheduled the voice's start (port, parser, bridge, engine,
 *   Tone's attack), in ms. In-process ports deliver synchronously, so this is
 *   our own cost; a hardware port adds its driver's.
 * - clock-out jitter: the intervals between MIDI clock ticks arriving at an
 *   output port against the ideal 60 / (24 · BPM), std dev and max in ms.
 */
import '../src/engine/node/platform/installGlobals.ts';
import { loadPatchFile, resolvePatchPath } from '../src/engine/node/files.ts';
import { startPlayer } from '../src/engine/node/realtime.ts';
import { MidiBridge } from '../src/engine/node/midi/bridge.ts';
import { openMidiSystem, virtualPorts } from '../src/engine/node/midi/system.ts';
import type { Patch } from '../src/engine/core/patchSchema.ts';

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function benchMidi(quick: boolean, row: (name: string, value: number, unit: string) => void): Promise<void> {
  const system = await openMidiSystem({ virtual: true });
  if ('unavailable' in system) throw new Error(system.unavailable);
  const ports = await virtualPorts();
  const pf = loadPatchFile(resolvePatchPath('carbon-pulse'));
  const voice = Object.keys(pf.patch.voices)[0]!;
  // No data: the tempo stays where the stream defaults put it, so the ideal tick is known.
  const midi: NonNullable<Patch['midi']> = { play: { [voice]: 'all' }, channels: {}, controls: [], send: [], clock: { in: false, out: true } };
  const patch: Patch = { ...pf.patch, midi };
  const player = await startPlayer({ patch, sink: 'none' });
  const send = ports.addInput('Bench In');
  const ticks: number[] = [];
  ports.addOutput('Bench Out', (bytes, at) => void (bytes[0] === 0xf8 && ticks.push(at)));
  const bridge = new MidiBridge({ engine: player.engine, patch, system, input: 'Bench In', output: 'Bench Out' });
  try {
    await bridge.start();

    // Note in → voice start scheduled.
    const engine = player.engine;
    const play = engine.playNote.bind(engine);
    let sentAt = 0;
    const latencies: number[] = [];
    engine.playNote = (v, m, vel, t) => {
      const ok = play(v, m, vel, t);
      latencies.push(performance.now() - sentAt);
      return ok;
    };
    const count = quick ? 200 : 1000;
    for (let i = 0; i < count; i++) {
      const note = 48 + (i % 24);
      sentAt = performance.now();
      send([0x90, note, 100]);
      await sleep(i % 2 ? 7 : 13);
      send([0x80, note, 0]);
    }
    engine.playNote = play;
    row('midi-note-in-to-voice-p50', quantile(latencies, 0.5), `ms (${latencies.length} notes through a JZZ port, audio running)`);
    row('midi-note-in-to-voice-p99', quantile(latencies, 0.99), 'ms');

    // Clock out jitter, and what the engine's forced garbage collections and
    // late notes were meanwhile (src/engine/audio/platform/gc.ts).
    ticks.length = 0;
    const before = engine.stats;
    await sleep(quick ? 3000 : 10_000);
    const after = engine.stats;
    const ideal = 60_000 / (24 * engine.tempo!);
    const dev = ticks.slice(1).map((t, i) => t - ticks[i]! - ideal);
    const mean = dev.reduce((a, b) => a + b, 0) / dev.length;
    const sd = Math.sqrt(dev.reduce((a, b) => a + (b - mean) ** 2, 0) / dev.length);
    row('midi-clock-out-jitter-sd', sd, `ms (${dev.length} tick intervals at ${engine.tempo!.toFixed(1)} BPM, ideal ${ideal.toFixed(3)} ms)`);
    row('midi-clock-out-jitter-max', Math.max(...dev.map(Math.abs)), 'ms');
    row('midi-clock-out-collections', after.collections - before.collections, `forced garbage collections in those ${quick ? 3 : 10} s`);
    row('midi-clock-out-late-notes', after.lateNotes - before.lateNotes, `late notes in those ${quick ? 3 : 10} s`);
  } finally {
    await bridge.stop();
    await player.stop();
  }
}
