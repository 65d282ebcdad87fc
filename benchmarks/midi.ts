/**
 * MIDI benchmarks (issue 4), through JZZ's JavaScript ports, with audio
 * running in real time (no device):
 * - note-in-to-voice p50/p99: from a note-on sent into an input port to the
 *   engine having scheduled the voice's start (port, parser, bridge, engine,
 *   Tone's attack), in ms. In-process ports deliver synchronously, so this is
 *   our own cost; a hardware port adds its driver's.
 * - clock-out jitter: the intervals between MIDI clock ticks arriving at an
 *   output port against the ideal 60 / (24 · BPM), std dev and max in ms; and
 *   the CPU the process spends meanwhile (what a busy-wait for precision costs).
 * - clock-in: the tempo followed and the phase lock against an external clock
 *   whose ticks carry ideal timestamps (see benchClockIn).
 */
import '../src/engine/node/platform/installGlobals.ts';
import { loadPatchFile, resolvePatchPath } from '../src/engine/node/files.ts';
import { startPlayer } from '../src/engine/node/realtime.ts';
import { MidiBridge } from '../src/engine/node/midi/bridge.ts';
import { openMidiSystem, virtualPorts, type MidiSystem } from '../src/engine/node/midi/system.ts';
import type { Patch } from '../src/engine/core/patchSchema.ts';
import { quantile } from '../src/engine/core/filters.ts';

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

    // Clock out jitter.
    ticks.length = 0;
    const cpu0 = process.cpuUsage();
    const wall0 = performance.now();
    await sleep(quick ? 3000 : 10_000);
    const cpu = process.cpuUsage(cpu0);
    const busy = (cpu.user + cpu.system) / 1000 / (performance.now() - wall0);
    const ideal = 60_000 / (24 * engine.tempo!);
    const dev = ticks.slice(1).map((t, i) => t - ticks[i]! - ideal);
    const mean = dev.reduce((a, b) => a + b, 0) / dev.length;
    const sd = Math.sqrt(dev.reduce((a, b) => a + (b - mean) ** 2, 0) / dev.length);
    row('midi-clock-out-jitter-sd', sd, `ms (${dev.length} tick intervals at ${engine.tempo!.toFixed(1)} BPM, ideal ${ideal.toFixed(3)} ms)`);
    row('midi-clock-out-jitter-max', Math.max(...dev.map(Math.abs)), 'ms');
    row('midi-clock-out-cpu', busy * 100, '% of one core, whole process (audio thread included), while clock out runs');
  } finally {
    await bridge.stop();
    await player.stop();
  }
  await benchClockIn(quick, row, system, patch);
}

/**
 * Clock in: an external clock at 120 BPM for 10 beats, then 128 BPM, its ticks
 * handed to the bridge when due and stamped with their ideal times (as a
 * driver's timestamps). Rows: the followed tempo's worst error once settled
 * (2 s after each change), and the phase error of the engine's beats against
 * the clock's over the last 4 s (median and max of |error|, ms).
 */
async function benchClockIn(quick: boolean, row: (name: string, value: number, unit: string) => void, system: MidiSystem, base: Patch): Promise<void> {
  // the patch maps a signal to the tempo: that would fight the clock it follows
  const patch: Patch = { ...base, mappings: base.mappings.filter((m) => m.to !== 'tempo'), midi: { ...base.midi!, clock: { in: true, out: false } } };
  const player = await startPlayer({ patch, sink: 'none' });
  const bridge = new MidiBridge({ engine: player.engine, patch, system });
  const samples: Array<{ at: number; bpm?: number; phase?: number }> = [];
  const sampler = setInterval(() => samples.push({ at: performance.now(), bpm: bridge.follower!.bpm, phase: bridge.phaseError }), 50);
  try {
    await bridge.start();
    const plan = [
      { bpm: 120, beats: 10 },
      { bpm: 128, beats: quick ? 16 : 48 },
    ];
    const times: Array<{ at: number; bpm: number }> = [];
    let t = performance.now() + 50;
    for (const p of plan)
      for (let i = 0; i < p.beats * 24; i++) {
        times.push({ at: t, bpm: p.bpm });
        t += 60_000 / (24 * p.bpm);
      }
    bridge.receive([0xfa]);
    for (let k = 0; k < times.length; ) {
      while (k < times.length && times[k]!.at <= performance.now()) bridge.receive([0xf8], times[k++]!.at);
      if (k < times.length) await sleep(Math.max(1, times[k]!.at - performance.now()));
    }
    const change = times[240]!.at;
    const end = times.at(-1)!.at;
    const settled = samples.filter((x) => x.bpm !== undefined && ((x.at > times[0]!.at + 2000 && x.at < change) || (x.at > change + 2000 && x.at < end)));
    const tempoError = Math.max(...settled.map((x) => Math.abs(x.bpm! - (x.at < change ? 120 : 128))));
    const phases = samples.filter((x) => x.at > end - 4000 && x.phase !== undefined).map((x) => Math.abs(x.phase!) * 1000);
    row('midi-clock-in-tempo-error-max', tempoError, `BPM (followed vs sent, ${settled.length} samples 2 s after each change)`);
    row('midi-clock-in-phase-error-p50', quantile(phases, 0.5), `ms (|engine beat − clock beat|, last 4 s at 128 BPM)`);
    row('midi-clock-in-phase-error-max', Math.max(...phases), 'ms');
  } finally {
    clearInterval(sampler);
    await bridge.stop();
    await player.stop();
  }
}
