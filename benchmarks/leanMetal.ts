/**
 * The lean MetalSynth (src/engine/audio/leanMetal.ts) against Tone.MetalSynth,
 * in the --rt-cpu group (what an instrument costs the render thread):
 * - lean-metal-nodes/tone, lean-metal-nodes/lean: native nodes one instrument
 *   makes (the raw context's create* calls, its oscillators started), and
 *   lean-metal-nodes/tone-gains, -constants, /lean-gains, -constants;
 * - lean-metal-render-cpu/tone, /lean: CPU seconds per audio second of an
 *   OfflineAudioContext render of 8 instruments × 60 s (6 s with --quick),
 *   oscillators kept running as the voice pool keeps them, each instrument
 *   striking a note every 2 s; the process's CPU time around startRendering
 *   (the render thread's work, as the graph is built before);
 * - lean-metal-render-cpu-ratio: lean ÷ Tone, the median of three pairs
 *   rendered in turn (which goes first alternates), so the machine's drift cancels.
 */
import '../src/engine/node/platform/installGlobals.ts';
import * as Tone from 'tone';
import { LeanMetal } from '../src/engine/audio/leanMetal.ts';
import { instrumentOscillators } from '../src/engine/audio/platform/tone.ts';
import { medianOfSorted } from '../src/engine/core/filters.ts';

type Row = (name: string, value: number, unit: string) => void;
type Kind = 'tone' | 'lean';

const SR = 48000;
const INSTRUMENTS = 8;

interface Made {
  triggerAttackRelease(f: number, d: number, t: number, v?: number): unknown;
  connect(d: Tone.InputNode): unknown;
}

/** Makes an instrument of `kind` with its oscillators started at 0 and kept running (voices.ts makePersistent). */
function make(kind: Kind, context: Tone.BaseContext): Made {
  const inst: Made = kind === 'tone' ? new Tone.MetalSynth({ context, volume: 0 }) : new LeanMetal({ context, volume: 0 });
  for (const osc of instrumentOscillators(inst)) {
    osc.start(0);
    osc.start = () => osc;
    osc.stop = () => osc;
  }
  return inst;
}

/** Counts the raw context's create* calls while one instrument of `kind` is made, by method. */
function countNodes(kind: Kind): Map<string, number> {
  const raw = new OfflineAudioContext({ numberOfChannels: 1, length: 128, sampleRate: SR });
  const counts = new Map<string, number>();
  const target = raw as unknown as Record<string, unknown>;
  for (let proto = Object.getPrototypeOf(raw) as object | null; proto; proto = Object.getPrototypeOf(proto) as object | null) {
    for (const name of Object.getOwnPropertyNames(proto)) {
      if (!name.startsWith('create') || name === 'createBuffer' || name === 'createPeriodicWave' || Object.hasOwn(target, name)) continue;
      const fn = target[name] as (...a: unknown[]) => unknown;
      if (typeof fn !== 'function') continue;
      target[name] = (...args: unknown[]) => {
        counts.set(name, (counts.get(name) ?? 0) + 1);
        return fn.apply(raw, args);
      };
    }
  }
  const ctx = new Tone.OfflineContext(raw as unknown as OfflineAudioContext);
  make(kind, ctx);
  return counts;
}

/** CPU seconds of rendering 8 instruments of `kind` for `seconds`, a note each every 2 s. */
async function renderCpu(kind: Kind, seconds: number): Promise<number> {
  const raw = new OfflineAudioContext({ numberOfChannels: 1, length: seconds * SR, sampleRate: SR });
  const ctx = new Tone.OfflineContext(raw as unknown as OfflineAudioContext);
  for (let i = 0; i < INSTRUMENTS; i++) {
    const inst = make(kind, ctx);
    inst.connect(raw.destination as unknown as Tone.InputNode);
    for (let t = 0.1 + i * 0.25; t < seconds - 1; t += 2) inst.triggerAttackRelease(220 * Math.pow(2, i / 8), 0.5, t, 0.3);
  }
  const cpu0 = process.cpuUsage();
  await raw.startRendering();
  const cpu = process.cpuUsage(cpu0);
  return (cpu.user + cpu.system) / 1e6;
}

export async function benchLeanMetal(quick: boolean, row: Row): Promise<void> {
  for (const kind of ['tone', 'lean'] as const) {
    const counts = countNodes(kind);
    const total = [...counts.values()].reduce((a, b) => a + b, 0);
    console.log(`  ${kind}: ${[...counts].map(([k, v]) => `${k.slice(6)} ${v}`).join(', ')}`);
    row(`lean-metal-nodes/${kind}`, total, 'native nodes');
    row(`lean-metal-nodes/${kind}-gains`, counts.get('createGain') ?? 0, 'GainNodes');
    row(`lean-metal-nodes/${kind}-constants`, counts.get('createConstantSource') ?? 0, 'ConstantSourceNodes');
  }
  const seconds = quick ? 6 : 60;
  const cost: Record<Kind, number[]> = { tone: [], lean: [] };
  const ratios: number[] = [];
  for (let pair = 0; pair < 3; pair++) {
    const order: Kind[] = pair % 2 === 0 ? ['tone', 'lean'] : ['lean', 'tone'];
    const got: Partial<Record<Kind, number>> = {};
    for (const kind of order) got[kind] = await renderCpu(kind, seconds);
    cost.tone.push(got.tone! / seconds);
    cost.lean.push(got.lean! / seconds);
    ratios.push(got.lean! / got.tone!);
  }
  const median = (xs: number[]) => medianOfSorted([...xs].sort((a, b) => a - b));
  console.log(`  lean ÷ tone per pair: ${ratios.map((r) => r.toFixed(3)).join(' ')}`);
  row('lean-metal-render-cpu/tone', median(cost.tone), 'CPU s per audio s (8 instruments)');
  row('lean-metal-render-cpu/lean', median(cost.lean), 'CPU s per audio s (8 instruments)');
  row('lean-metal-render-cpu-ratio', median(ratios), 'ratio');
}
