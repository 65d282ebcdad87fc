/**
 * Lean instruments against Tone's (with the rt-cpu rows: `npm run bench -- --rt-cpu`).
 *
 * lean-nodes/<synth>, tone-nodes/<synth>: native nodes made per instrument
 * (the raw context's create* methods counted), by kind.
 * lean-cpu/<synth>: CPU seconds of an OfflineAudioContext render of 8
 * instruments × 60 s (6 with --quick), their oscillators running from 0 as the
 * voice pool keeps them, each playing a note a second with detune, (FM, AM) harmonicity
 * and (FM) modulation-index ramps, through the lean instrument ÷ through Tone's;
 * lean-cpu-idle/<synth> the same with no notes (a pool's idle instruments). The
 * JavaScript thread waits while a context renders, so the process's CPU time
 * (process.cpuUsage) is the render thread's. Renders alternate lean, Tone,
 * Tone, lean, …; the row is the median of the pairs' ratios.
 */
import * as Tone from 'tone';
import { rampTo } from '../src/engine/audio/params.ts';
import { instrumentOscillators, tonePlatform } from '../src/engine/audio/platform/index.ts';
import { instrumentFor } from '../src/engine/audio/voices.ts';
import { medianOfSorted } from '../src/engine/core/filters.ts';
import type { VoiceSpec } from '../src/engine/core/patchSchema.ts';

const SR = 48000;

interface Playable {
  triggerAttackRelease(hz: number, duration: number, time: number, velocity: number): unknown;
  connect(node: AudioNode): unknown;
  dispose(): unknown;
}

/** Counts the raw context's create* calls by kind (Gain, ConstantSource, …). */
function countNodes(raw: BaseAudioContext): Map<string, number> {
  const counts = new Map<string, number>();
  const methods = raw as unknown as Record<string, (...a: unknown[]) => unknown>;
  for (const name of ['createGain', 'createConstantSource', 'createOscillator', 'createWaveShaper', 'createBiquadFilter', 'createDelay', 'createBufferSource']) {
    const original = methods[name]!.bind(raw);
    methods[name] = (...a: unknown[]) => {
      counts.set(name.slice(6), (counts.get(name.slice(6)) ?? 0) + 1);
      return original(...a);
    };
  }
  return counts;
}

/** `count` instruments of `spec` (Tone's or lean) on `raw`, oscillators started at 0. */
function makeInstruments(raw: OfflineAudioContext, spec: VoiceSpec, lean: boolean, count: number, ctx = new Tone.OfflineContext(raw)): Playable[] {
  const { Class, options } = instrumentFor(spec, ctx, !lean);
  const C = Class as unknown as new (o: object) => Playable;
  return Array.from({ length: count }, () => {
    const inst = new C(options);
    // Kept running, as the voice pool's makePersistent does: notes neither restart nor stop them.
    for (const osc of instrumentOscillators(inst)) {
      osc.start(0);
      osc.start = () => osc;
      osc.stop = () => osc;
    }
    inst.connect(raw.destination);
    return inst;
  });
}

/** CPU seconds of rendering 8 instruments for `seconds`, notes and ramps included. */
async function renderCpu(spec: VoiceSpec, lean: boolean, seconds: number, notes: boolean): Promise<number> {
  const raw = new OfflineAudioContext({ numberOfChannels: 1, length: seconds * SR, sampleRate: SR });
  const insts = makeInstruments(raw, spec, lean, 8);
  if (notes)
    insts.forEach((inst, i) => {
    for (let t = 0.1 * i; t < seconds - 1; t += 1) inst.triggerAttackRelease(110 * 2 ** ((i + t) % 12 / 12), 0.5, t, 0.8);
    const p = inst as unknown as Record<'detune' | 'harmonicity' | 'modulationIndex', Parameters<typeof rampTo>[0]>;
    for (let t = 2; t < seconds; t += 4) {
      rampTo(p.detune, (t % 8) * 10, t, 0.2);
      if (spec.synth === 'fm' || spec.synth === 'am') rampTo(p.harmonicity, 1 + (t % 3), t + 1, 0.3);
      if (spec.synth === 'fm') rampTo(p.modulationIndex, 2 + (t % 5), t + 2, 0.3);
    }
  });
  const before = process.cpuUsage();
  await raw.startRendering();
  const used = process.cpuUsage(before);
  for (const inst of insts) inst.dispose();
  return (used.user + used.system) / 1e6;
}

export async function benchLeanSynths(quick: boolean, row: (name: string, value: number, unit: string) => void): Promise<void> {
  tonePlatform.install();
  console.log('\nlean instruments (vs Tone):');
  const specs: VoiceSpec[] = [
    // carbon-pulse's stab, warming-stripes' pad
    { synth: 'fm', harmonicity: 2, modulationIndex: 6, envelope: { attack: 0.01, decay: 0.2, sustain: 0.1, release: 0.3 } } as VoiceSpec,
    { synth: 'am', oscillator: 'sine', harmonicity: 2, envelope: { attack: 2, decay: 1, sustain: 0.7, release: 3 } } as VoiceSpec,
    // seattle-sky's sun (synth and pluck play the same instrument)
    { synth: 'pluck', oscillator: 'sawtooth', envelope: { attack: 0.002, decay: 0.3, sustain: 0, release: 0.2 } } as VoiceSpec,
    // carbon-pulse's kick and bass
    { synth: 'membrane', envelope: { attack: 0.001, decay: 0.3, sustain: 0, release: 0.2 } } as VoiceSpec,
    { synth: 'mono', oscillator: 'sawtooth', envelope: { attack: 0.005, decay: 0.2, sustain: 0.4, release: 0.1 } } as VoiceSpec,
  ];
  for (const spec of specs) await benchOne(spec, quick, row);
}

async function benchOne(spec: VoiceSpec, quick: boolean, row: (name: string, value: number, unit: string) => void): Promise<void> {
  const synth = spec.synth;
  for (const lean of [false, true]) {
    const raw = new OfflineAudioContext({ numberOfChannels: 1, length: 128, sampleRate: SR });
    const ctx = new Tone.OfflineContext(raw);
    const counts = countNodes(raw);
    for (const inst of makeInstruments(raw, spec, lean, 1, ctx)) inst.dispose();
    const total = [...counts.values()].reduce((a, b) => a + b, 0);
    console.log(`  ${lean ? 'lean' : 'Tone'} ${synth}: ${[...counts].map(([k, n]) => `${n} ${k}`).join(', ')}`);
    row(`${lean ? 'lean' : 'tone'}-nodes/${synth}`, total, 'native nodes per instrument');
  }
  const seconds = quick ? 6 : 60;
  for (const notes of [true, false]) {
    const ratios: number[] = [];
    const cpu = { lean: 0, tone: 0 };
    for (let pair = 0; pair < (quick ? 2 : 4); pair++) {
      const order = pair % 2 === 0 ? [true, false] : [false, true];
      const got: Record<string, number> = {};
      for (const lean of order) got[String(lean)] = await renderCpu(spec, lean, seconds, notes);
      cpu.lean += got.true!;
      cpu.tone += got.false!;
      ratios.push(got.true! / got.false!);
    }
    ratios.sort((a, b) => a - b);
    const median = medianOfSorted(ratios);
    const what = notes ? 'playing' : 'idle';
    console.log(`  8 ${synth} × ${seconds} s ${what}: lean ${cpu.lean.toFixed(2)} CPU s, Tone ${cpu.tone.toFixed(2)} CPU s in all; ratios ${ratios.map((r) => r.toFixed(3)).join(' ')}`);
    row(notes ? `lean-cpu/${synth}` : `lean-cpu-idle/${synth}`, median, `ratio of render CPU, lean ÷ Tone (8 instruments ${what})`);
  }
}
