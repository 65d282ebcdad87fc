/**
 * The MIDI bridge through JZZ's JavaScript ports (no hardware, no native
 * code), with audio running in real time on a context with no device.
 * Musical timing is checked with tolerances for a loaded two-core machine;
 * nothing here times how fast anything is.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PatchSchema, type Patch, type PatchInput } from '../../core/patchSchema.ts';
import { ControlPairs } from '../../core/midi/controls.ts';
import { quantile } from '../../core/filters.ts';
import { parseSidecar } from '../../core/midi/config.ts';
import type { EngineEvent } from '../../audio/Engine.ts';
import { startPlayer, type Player } from '../realtime.ts';
import { MidiBridge, sidecarPath } from './bridge.ts';
import { openMidiSystem, virtualPorts, type MidiSystem } from './system.ts';
import { until } from '../../../../tests/support/wait.ts';

type Ports = Awaited<ReturnType<typeof virtualPorts>>;
let system: MidiSystem;
let ports: Ports;
beforeAll(async () => {
  const s = await openMidiSystem({ virtual: true });
  if ('unavailable' in s) throw new Error(s.unavailable);
  system = s;
  ports = await virtualPorts();
});

let cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const f of cleanup.reverse()) await f();
  cleanup = [];
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let serial = 0;
const unique = (what: string) => `${what} ${++serial}`;

/** A live-playing patch: `keys` waits for notes (its own rhythm never plays), `beat` plays 16ths at 120 BPM. */
const BASE: PatchInput = {
  name: 'midi',
  tempo: 120,
  key: 'C major',
  streams: { knob: {}, fine: {}, bend: {}, level: { default: 0 } },
  signals: { sig7: { from: 'level', range: [0, 1] }, sig14: { from: 'level', range: [0, 2] } },
  voices: {
    keys: { synth: 'synth', oscillator: 'sine', poly: 4, volume: -6, density: 0, rhythm: { pattern: 'x' }, envelope: { attack: 0.005, sustain: 1, release: 0.05 } },
    beat: { synth: 'synth', oscillator: 'sine', poly: 2, volume: -30, rhythm: { pattern: 'x' }, notes: { mode: 'root', octave: 5 }, envelope: { attack: 0.002, decay: 0.05, sustain: 0, release: 0.02 } },
  },
  scenes: { calm: {}, storm: {} },
};

interface Rig {
  player: Player;
  bridge: MidiBridge;
  send: (bytes: number[]) => void;
  received: Array<{ bytes: number[]; at: number }>;
  events: EngineEvent[];
  logs: string[];
  patch: Patch;
}

async function rig(midi: PatchInput['midi'] = {}, extra: { sidecar?: string; patch?: Partial<PatchInput> } = {}): Promise<Rig> {
  const patch = PatchSchema.parse({ ...BASE, ...extra.patch, midi });
  const inName = unique('Test In');
  const outName = unique('Test Out');
  const send = ports.addInput(inName);
  const received: Rig['received'] = [];
  ports.addOutput(outName, (bytes, at) => received.push({ bytes, at }));
  const player = await startPlayer({ patch, sink: 'none' });
  const events: EngineEvent[] = [];
  player.engine.addListener((e) => events.push(e));
  const logs: string[] = [];
  const bridge = new MidiBridge({ engine: player.engine, patch, system, input: inName, output: outName, sidecar: extra.sidecar, pollMs: 50, log: (m) => logs.push(m) });
  await bridge.start();
  cleanup.push(async () => {
    await bridge.stop();
    await player.stop();
  });
  expect(bridge.ports).toStrictEqual({ input: inName, output: outName });
  return { player, bridge, send, received, events, logs, patch };
}

/** Highest output peak over `ms`. */
async function peakOver(player: Player, ms: number): Promise<number> {
  let peak = 0;
  const end = performance.now() + ms;
  while (performance.now() < end) {
    peak = Math.max(peak, player.engine.master.levels().peak);
    await sleep(10);
  }
  return peak;
}

describe('MIDI in: notes', () => {
  it('notes in play the voice while held, and note-offs end them', async () => {
    const r = await rig({ play: { keys: 'all' } }, { patch: { voices: { keys: BASE.voices!.keys! } } });
    expect(await peakOver(r.player, 300)).toBe(0);
    r.send([0x90, 69, 110]);
    expect(r.player.engine.heldNotes).toBe(1);
    expect(await peakOver(r.player, 300)).toBeGreaterThan(0.05);
    r.send([0x80, 69, 0]);
    expect(r.player.engine.heldNotes).toBe(0);
    await sleep(300);
    expect(await peakOver(r.player, 200)).toBeLessThan(1e-3);
    expect(r.bridge.stats.in.notes).toBe(1);
  });

  it('reads running status, note-on velocity 0, and a sustain pedal', async () => {
    const r = await rig();
    const e = r.player.engine;
    r.send([0x90, 60, 100, 64, 100]); // running status: two notes
    expect(e.heldNotes).toBe(2);
    r.send([0x90, 60, 0]); // velocity 0 = note off
    expect(e.heldNotes).toBe(1);
    r.send([0xb0, 64, 127, 0x80, 64, 0]); // pedal down, then the key up: still sounding
    expect(e.heldNotes).toBe(1);
    r.send([0xb0, 64, 0]); // pedal up: released
    expect(e.heldNotes).toBe(0);
    r.send([0x90, 70, 90, 0xb0, 123, 0]); // all notes off
    expect(e.heldNotes).toBe(0);
  });

  it('a controller elsewhere (receiveFrom) plays through the same path, its bytes never mixed with the port\'s running status', async () => {
    const r = await rig();
    const e = r.player.engine;
    r.bridge.receive([0x90, 60, 100]); // the port: note on, running status note-on from here
    r.bridge.receiveFrom('Page Knobs', [0x90, 62, 100]); // the page: a note of its own…
    r.bridge.receiveFrom('Page Knobs', [0xb1, 1, 5]); // …and a controller (one parser would now read [64, 100] as a CC)
    expect(e.heldNotes).toBe(2);
    r.bridge.receive([64, 100]); // the port's running status still holds after the page's message
    expect(e.heldNotes).toBe(3);
    r.bridge.receiveFrom('Page Knobs', [0x80, 62, 0]);
    r.bridge.receive([0x80, 60, 0, 0x80, 64, 0]);
    expect(e.heldNotes).toBe(0);
    expect(r.bridge.stats.in.notes).toBe(3);
  });

  it("a controller elsewhere that goes away lets go of exactly its notes, those under its sustain pedal too", async () => {
    const r = await rig();
    const e = r.player.engine;
    r.bridge.receive([0x90, 48, 100]); // the port's own note stays
    r.bridge.receiveFrom('Keys', [0x90, 60, 100, 0x90, 62, 100], undefined, 'page-a');
    r.bridge.receiveFrom('Keys', [0x90, 64, 100], undefined, 'page-b'); // same name, another page
    r.bridge.receiveFrom('Keys', [0xb0, 64, 127, 0x80, 62, 0], undefined, 'page-a'); // pedal down, 62 let up: still sounding
    expect(e.heldNotes).toBe(4);
    expect(r.bridge.remoteHeld('page-a')).toBe(1);
    expect(r.bridge.releaseRemote('page-a')).toBe(1);
    // 60 released, and 62 with the pedal let up
    expect(e.heldNotes).toBe(2);
    expect(r.bridge.remoteHeld()).toBe(1);
    expect(r.bridge.releaseRemote('page-a')).toBe(0); // twice: nothing more
    expect(r.bridge.releaseRemote('page-b', 'Other')).toBe(0); // another port name of page-b: not this one
    expect(e.heldNotes).toBe(2);
    expect(r.bridge.releaseRemote('page-b', 'Keys')).toBe(1);
    expect(e.heldNotes).toBe(1);
    r.bridge.receive([0x80, 48, 0]);
    expect(e.heldNotes).toBe(0);
  });

  it('routes channels to voices', async () => {
    const r = await rig({ play: { keys: 2, beat: 3 } });
    const e = r.player.engine;
    const held = () => [e.runtime!.voices.get('keys')!.heldCount, e.runtime!.voices.get('beat')!.heldCount];
    r.send([0x90, 60, 100]); // channel 1: nobody listens
    expect(held()).toStrictEqual([0, 0]);
    r.send([0x91, 60, 100, 0x92, 62, 100]);
    expect(held()).toStrictEqual([1, 1]);
  });
});

describe('MIDI in: bytes that go wrong', () => {
  it('real-time bytes inside SysEx, aborted and oversized SysEx, garbage: counted, and playing goes on', async () => {
    const r = await rig({ clock: { in: true } });
    const e = r.player.engine;
    r.send([0xf0, 0x7d, 0x01, 0xf8, 0x02, 0xf7]);
    expect(r.bridge.stats.in.clock).toBe(1);
    expect(r.bridge.stats.in.ignored).toBe(1); // the SysEx itself
    r.send([0xf0, 0x7d, 0x01]);
    r.send([0x90, 67, 90]); // aborts the SysEx, and plays
    expect(r.bridge.parserStats.sysexAborted).toBe(1);
    expect(e.heldNotes).toBe(1);
    r.send([0xf0, ...new Array(10_000).fill(0x11), 0xf7]);
    expect(r.bridge.parserStats.sysexOversized).toBe(1);
    let seed = 1;
    const garbage = Array.from({ length: 20_000 }, () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) & 0xff);
    // JZZ's own send refuses arrays with bytes it calls bad (F4, F5, F9, FD):
    // those go in where the port handler hands bytes to the bridge
    let refusedByJzz = 0;
    for (let i = 0; i < garbage.length; i += 100) {
      const chunk = garbage.slice(i, i + 100);
      try {
        r.send(chunk);
      } catch {
        refusedByJzz++;
        r.bridge.receive(chunk);
      }
    }
    expect(refusedByJzz).toBeGreaterThan(0);
    expect(r.bridge.parserStats.undefinedStatus).toBeGreaterThan(0);
    r.send([0xf7, 0xb0, 123, 0]);
    expect(e.heldNotes).toBe(0);
    const notesBefore = e.stats.notes;
    await sleep(500);
    expect(e.stats.notes).toBeGreaterThan(notesBefore); // the beat voice still plays
    expect(r.bridge.stats.errors).toBe(0);
    expect(e.stats.errors).toBe(0);
  });
});

describe('MIDI in: controls', () => {
  it('a controller feeds a stream (0…1), a 14-bit pair at full resolution, pitch bend as −1…1', async () => {
    const r = await rig({
      controls: [
        { cc: 74, stream: 'knob' },
        { cc: 1, bits: 14, stream: 'fine' },
        { bend: true, channel: 1, stream: 'bend' },
      ],
    });
    const streams = () => r.player.engine.values().streams;
    r.send([0xb0, 74, 127]);
    expect(streams().knob).toBe(1);
    r.send([0xb0, 74, 0]);
    expect(streams().knob).toBe(0);
    r.send([0xb0, 1, 0x40]); // MSB: waits for its LSB
    expect(streams().fine).toBe(0);
    r.send([0xb0, 0x21, 0x05]);
    expect(streams().fine).toBe(((0x40 << 7) | 5) / 16383);
    r.send([0xb0, 0x21, 0x06]); // fine adjustment
    expect(streams().fine).toBe(((0x40 << 7) | 6) / 16383);
    r.send([0xb0, 1, 0x7f]); // an MSB alone: LSB 0 after the pair window
    await until(() => streams().fine === (0x7f << 7) / 16383, 'the lone MSB', 2000);
    r.send([0xe0, 0x7f, 0x7f]);
    expect(streams().bend).toBe(1);
    r.send([0xe1, 0x00, 0x00]); // channel 2: not bound
    expect(streams().bend).toBe(1);
    r.send([0xe0, 0x00, 0x40]);
    expect(streams().bend).toBe(0);
  });

  it('a controller drives a target through its range; a scene control steps through scenes', async () => {
    const r = await rig({ controls: [{ cc: 20, to: 'beat.density', range: [0.2, 0.6] }, { cc: 21, to: 'scene' }] });
    const mod = () => r.player.engine.runtime!.sequencer.voices.get('beat')!.mod;
    r.send([0xb0, 20, 127]);
    expect(mod().density).toBeCloseTo(0.6, 12);
    r.send([0xb0, 20, 0]);
    expect(mod().density).toBeCloseTo(0.2, 12);
    r.send([0xb0, 21, 127]);
    expect(r.player.engine.values().scene).toBe('storm');
    r.send([0xb0, 21, 10]);
    expect(r.player.engine.values().scene).toBe('calm');
  });

  it('program change selects a scene (by the map, or the n-th scene)', async () => {
    const mapped = await rig({ programs: { 5: 'storm', 6: 'calm' } });
    mapped.send([0xc0, 4]);
    expect(mapped.player.engine.values().scene).toBe('storm');
    mapped.send([0xc3, 5]);
    expect(mapped.player.engine.values().scene).toBe('calm');
    mapped.send([0xc0, 0]); // not in the map
    expect(mapped.player.engine.values().scene).toBe('calm');
    expect(mapped.bridge.stats.in.ignored).toBe(1);
    const byOrder = await rig();
    byOrder.send([0xc0, 1]);
    expect(byOrder.player.engine.values().scene).toBe('storm');
  });
});

describe('MIDI learn', () => {
  it('binds the control moved, saves it beside the patch, and a new bridge loads it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ecosym-learn-'));
    const sidecar = sidecarPath(join(dir, 'live.yaml'));
    expect(sidecar).toBe(join(dir, 'live.midi.json'));
    const r = await rig({}, { sidecar });
    const learning = r.bridge.learn({ to: 'beat.density' });
    r.send([0xb2, 7, 64]); // one message: not a move
    r.send([0xb0, 30, 10, 0xb0, 30, 40]); // CC 30 on channel 1 moves
    const b = await learning;
    expect(b).toStrictEqual({ cc: 30, channel: 1, bits: 7, to: 'beat.density' });
    expect(r.logs).toContain('MIDI learn: CC 30 on channel 1 → beat.density (saved to live.midi.json)');
    // saved atomically: the file, and no temporary left beside it
    expect(parseSidecar(readFileSync(sidecar, 'utf8'))).toStrictEqual([b]);
    expect(readdirSync(dir)).toStrictEqual(['live.midi.json']);
    // it is live at once
    const mod = () => r.player.engine.runtime!.sequencer.voices.get('beat')!.mod;
    r.send([0xb0, 30, 127]);
    expect(mod().density).toBe(1);
    // a 14-bit pair learned for a stream replaces nothing else
    const fine = r.bridge.learn({ stream: 'fine' });
    r.send([0xb0, 2, 10, 34, 0, 2, 11, 34, 3]);
    expect(await fine).toStrictEqual({ cc: 2, channel: 1, bits: 14, stream: 'fine' });
    expect(parseSidecar(readFileSync(sidecar, 'utf8'))).toHaveLength(2);

    // another session on the same patch reloads both
    const again = await rig({}, { sidecar });
    expect(again.bridge.learnedBindings).toHaveLength(2);
    again.send([0xb0, 30, 0]);
    expect(again.player.engine.runtime!.sequencer.voices.get('beat')!.mod.density).toBe(0);
    again.send([0xb0, 2, 100, 34, 1]);
    expect(again.player.engine.values().streams.fine).toBe(((100 << 7) | 1) / 16383);
  });

  it('refuses a destination the patch lacks, times out, and survives a broken sidecar', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ecosym-learn-'));
    const sidecar = join(dir, 'x.midi.json');
    writeFileSync(sidecar, '{ not json');
    const r = await rig({}, { sidecar });
    expect(r.logs.some((l) => l.startsWith(`MIDI: ignoring learned bindings in ${sidecar}: not JSON`))).toBe(true);
    await expect(r.bridge.learn({ to: 'nope.volume' })).rejects.toThrow('names no voice');
    await expect(r.bridge.learn({ stream: 'nope' })).rejects.toThrow('the patch has no stream "nope"');
    expect(await r.bridge.learn({ to: 'tempo' }, 100)).toBeUndefined();
    const p = r.bridge.learn({ to: 'tempo' });
    r.send([0xb0, 9, 1, 0xb0, 9, 2]);
    expect(await p).toMatchObject({ cc: 9, to: 'tempo' });
    // the broken file was kept aside, not overwritten
    expect(readFileSync(`${sidecar}.bad`, 'utf8')).toBe('{ not json');
    expect(parseSidecar(readFileSync(sidecar, 'utf8'))).toHaveLength(1);
  });
});

describe('MIDI out', () => {
  it('sends the generated notes on the voice channel, at their times, ended by note-offs', async () => {
    const r = await rig({ channels: { beat: 3 } });
    await sleep(1500);
    const sent = r.events.filter((e): e is Extract<EngineEvent, { type: 'note' }> => e.type === 'note' && e.voice === 'beat');
    const ons = r.received.filter((m) => m.bytes[0] === 0x92);
    const offs = r.received.filter((m) => m.bytes[0] === 0x82);
    expect(r.received.every((m) => (m.bytes[0]! & 0x0f) === 2)).toBe(true); // keys (density 0) and nothing else
    expect(ons.length).toBeGreaterThan(8);
    // the same notes and velocities as the engine's, in order
    for (let i = 0; i < ons.length; i++) {
      expect(ons[i]!.bytes[1]).toBe(sent[i]!.notes[0]);
      expect(ons[i]!.bytes[2]).toBe(Math.round(sent[i]!.velocity * 127));
    }
    // 16ths at 120 BPM: 125 ms apart, as the engine scheduled them
    const gaps = ons.slice(1).map((m, i) => m.at - ons[i]!.at);
    const median = quantile(gaps, 0.5);
    expect(median).toBeGreaterThan(120);
    expect(median).toBeLessThan(130);
    // every note is ended, each after its own start
    expect(offs.length).toBeGreaterThanOrEqual(ons.length - 2);
    await r.bridge.stop();
    const onsAll = r.received.filter((m) => m.bytes[0] === 0x92).length;
    const offsAll = r.received.filter((m) => m.bytes[0] === 0x82).length;
    expect(offsAll).toBe(onsAll);
    expect(r.received.at(-1)!.bytes).toStrictEqual([0xb2, 123, 0]);
  });

  it('a repeated note ends the sounding one first, and the older note-off does not cut the new note', async () => {
    // one long note per step: each lasts 2 steps, so every note-on finds the last one sounding
    const r = await rig({ channels: { beat: 1 } }, { patch: { voices: { ...BASE.voices, beat: { ...BASE.voices!.beat!, notes: { mode: 'root', octave: 5, length: 2 } } } } });
    await sleep(1000);
    // the same pitch every step: on, off, on, off… strictly alternating. A note-on
    // with the last still sounding, or a stale note-off cutting the new note, breaks it.
    const kinds = r.received.filter((m) => m.bytes[0] === 0x90 || m.bytes[0] === 0x80).map((m) => (m.bytes[0] === 0x90 ? 'on' : 'off'));
    expect(new Set(r.received.filter((m) => m.bytes[0] === 0x90).map((m) => m.bytes[1])).size).toBe(1);
    expect(kinds.filter((k) => k === 'on').length).toBeGreaterThan(5);
    kinds.forEach((k, i) => expect(k).toBe(i % 2 === 0 ? 'on' : 'off'));
  });

  it('sends signals as 7-bit and 14-bit controllers, only when they change', async () => {
    const r = await rig({ channels: {}, send: [{ from: 'sig7', cc: 20, channel: 2 }, { from: 'sig14', cc: 1, bits: 14, channel: 2 }] });
    const e = r.player.engine;
    e.update('level', 0.5);
    await until(() => r.received.some((m) => m.bytes[1] === 20 && m.bytes[2] === 64), 'CC 20 = 64', 3000);
    e.update('level', 0.3);
    await until(() => r.received.some((m) => m.bytes[1] === 20 && m.bytes[2] === 38), 'CC 20 = 38', 3000);
    await sleep(200);
    const cc = r.received;
    expect(cc.every((m) => m.bytes[0] === 0xb1)).toBe(true); // no notes go out (channels: {})
    // decode the 14-bit stream: the last value is sig14 = 0.3 / 2 at full resolution
    const pairs = new ControlPairs((ch, msb) => ch === 1 && msb === 1);
    const values = cc.flatMap((m) => pairs.push(m.bytes[0]! & 15, m.bytes[1]!, m.bytes[2]!, 0)).filter((v) => v.controller === 1);
    expect(values.at(-1)!.raw).toBe(Math.round((0.3 / 2) * 16383));
    expect(values.every((v) => v.bits === 14)).toBe(true);
    // nothing is sent while nothing changes
    const count = r.received.length;
    await sleep(300);
    expect(r.received.length).toBe(count);
  });

  it('a panic sends note-offs and All Notes Off, and no notes while muted', async () => {
    const r = await rig({ channels: { beat: 1 } });
    await sleep(400);
    r.player.engine.panic();
    const at = r.received.length;
    expect(r.received.slice(at - 1)[0]!.bytes).toStrictEqual([0xb0, 123, 0]);
    await sleep(400);
    expect(r.received.slice(at).filter((m) => m.bytes[0] === 0x90)).toStrictEqual([]);
  });
});

describe('MIDI clock out', () => {
  it('24 ticks a beat on the engine grid; Stop, then Song Position and Continue', async () => {
    const r = await rig({ channels: {}, clock: { out: true } });
    await sleep(2500);
    // the player had started before the bridge listened: it joins at the first beat it
    // sees, with that beat's song position, and Start only if it is the top
    const [spp, go, tick] = r.received.slice(0, 3).map((m) => m.bytes);
    expect(spp![0]).toBe(0xf2);
    const position = spp![1]! | (spp![2]! << 7);
    expect(position % 4).toBe(0);
    expect(go).toStrictEqual([position === 0 ? 0xfa : 0xfb]);
    expect(tick).toStrictEqual([0xf8]);
    const ticks = r.received.filter((m) => m.bytes[0] === 0xf8).map((m) => m.at);
    const window = ticks.filter((t) => t >= ticks[0]! && t < ticks[0]! + 2000);
    expect(window.length).toBeGreaterThanOrEqual(94); // 2 s at 120 BPM = 96
    expect(window.length).toBeLessThanOrEqual(98);
    const intervals = ticks.slice(1).map((t, i) => t - ticks[i]!);
    const mean = intervals.reduce((a, b) => a + b, 0) / intervals.length;
    expect(mean).toBeGreaterThan(20.833 * 0.99);
    expect(mean).toBeLessThan(20.833 * 1.01);
    expect(quantile(intervals.map((x) => Math.abs(x - 20.833)), 0.5)).toBeLessThan(3); // median deviation

    const e = r.player.engine;
    const mark = r.received.length;
    e.transport('stop', e.context.currentTime);
    await until(() => r.received.slice(mark).some((m) => m.bytes[0] === 0xfc), 'Stop', 2000);
    await sleep(300);
    const stoppedAt = r.received.length;
    await sleep(300);
    expect(r.received.slice(stoppedAt).filter((m) => m.bytes[0] === 0xf8)).toStrictEqual([]); // no ticks while stopped
    e.transport('continue', e.context.currentTime + 0.1, 32);
    await until(() => r.received.slice(stoppedAt).filter((m) => m.bytes[0] === 0xf8).length > 24, 'ticks again', 3000);
    const resumed = r.received.slice(stoppedAt).map((m) => m.bytes);
    expect(resumed.slice(0, 3)).toStrictEqual([[0xf2, 32, 0], [0xfb], [0xf8]]);
  });
});

/**
 * An external 24 ppqn clock: Start, then ticks per `plan`, each handed to the
 * bridge once it is due, stamped with its ideal time (as a driver's timestamp
 * would be) however late the timer that hands it over fires on a busy machine.
 * So the tempo the bridge follows is the plan's: what is tested is what the
 * bridge makes of a clock, not the event loop's punctuality.
 */
function externalClock(bridge: MidiBridge, plan: Array<{ bpm: number; beats: number }>, start = true): { done: Promise<void>; times: number[] } {
  const times: number[] = [];
  let t = performance.now() + 50;
  for (const p of plan)
    for (let i = 0; i < p.beats * 24; i++) {
      times.push(t);
      t += 60_000 / (24 * p.bpm);
    }
  if (start) bridge.receive([0xfa]);
  const done = new Promise<void>((resolve) => {
    let k = 0;
    const step = () => {
      while (k < times.length && times[k]! <= performance.now()) bridge.receive([0xf8], times[k++]!);
      if (k >= times.length) return resolve();
      setTimeout(step, Math.max(1, times[k]! - performance.now()));
    };
    step();
  });
  return { done, times };
}

describe('MIDI clock in', () => {
  it('follows 120 then 128 BPM within 1 BPM, smoothly; starts from the top and stops with the clock', async () => {
    const r = await rig({ clock: { in: true } });
    const e = r.player.engine;
    const samples: Array<{ at: number; followed?: number; engine?: number; phase?: number }> = [];
    const sampler = setInterval(() => samples.push({ at: performance.now(), followed: r.bridge.follower!.bpm, engine: e.tempo, phase: r.bridge.phaseError }), 50);
    let phaseAt120: number | undefined;
    const ext = externalClock(r.bridge, [
      { bpm: 120, beats: 10 },
      { bpm: 128, beats: 16 },
    ]);
    setTimeout(() => (phaseAt120 = r.bridge.phaseError), 4900);
    await ext.done;
    clearInterval(sampler);
    const t0 = ext.times[0]!;
    if (process.env.MIDI_TRACE) for (const s of samples) if (Math.round(s.at - t0) % 250 < 50) console.log(Math.round(s.at - t0), s.followed?.toFixed(2), s.engine?.toFixed(2), s.phase === undefined ? '-' : (s.phase * 1000).toFixed(1));
    const change = ext.times[240]!;
    const end = ext.times.at(-1)!;
    const late120 = samples.filter((s) => s.at > t0 + 2500 && s.at < change);
    const late128 = samples.filter((s) => s.at > change + 2500 && s.at < end);
    expect(late120.length).toBeGreaterThan(20);
    expect(late128.length).toBeGreaterThan(20);
    for (const s of late120) {
      expect(Math.abs(s.followed! - 120)).toBeLessThan(1);
      expect(Math.abs(s.engine! - 120)).toBeLessThan(1);
    }
    for (const s of late128) {
      expect(Math.abs(s.followed! - 128)).toBeLessThan(1);
      expect(Math.abs(s.engine! - 128)).toBeLessThan(1);
    }
    // smoothly: after the first second no 50 ms sample jumps by 2 BPM, and none leaves the band
    const settled = samples.filter((s) => s.at > t0 + 1000 && s.followed !== undefined);
    for (let i = 1; i < settled.length; i++) expect(Math.abs(settled[i]!.followed! - settled[i - 1]!.followed!)).toBeLessThan(2);
    for (const s of settled) {
      expect(s.followed!).toBeGreaterThan(119);
      expect(s.followed!).toBeLessThan(129);
    }
    // the music started from the top at the clock's first tick
    const starts = r.events.filter((x) => x.type === 'transport');
    expect(starts[0]).toMatchObject({ action: 'start', step: 0 });
    const firstBeat = r.events.find((x) => x.type === 'beat' && x.beat === 0 && x.time >= (starts[0] as { time: number }).time);
    expect(firstBeat).toBeDefined();
    // and its beats lock to the clock's: the gap the start left (a Start handed over
    // late starts the engine late) closes at 120, and the one the change opened
    // closes at 128. How close it gets on a quiet machine is a bench figure
    // (midi-clock-in-phase-error): here a busy one may stall the audio thread.
    const phases = samples.filter((x) => x.phase !== undefined).map((x) => ({ at: x.at, phase: Math.abs(x.phase!) }));
    expect(phaseAt120).toBeDefined();
    expect(Math.abs(phaseAt120!)).toBeLessThan(Math.max(0.005, phases[0]!.phase));
    const widest = Math.max(...phases.filter((x) => x.at > change).map((x) => x.phase));
    expect(Math.abs(r.bridge.phaseError!)).toBeLessThan(Math.max(0.01, widest));

    // Stop: no notes after it (beyond what was already scheduled); Start: from the top again
    r.send([0xfc]);
    const stopped = e.context.currentTime;
    await sleep(600);
    const after = r.events.filter((x) => x.type === 'note' && x.time > stopped + 0.15);
    expect(after).toStrictEqual([]);
    const restart = externalClock(r.bridge, [{ bpm: 128, beats: 2 }]);
    await restart.done;
    const transports = r.events.filter((x) => x.type === 'transport').map((x) => (x as { action: string }).action);
    expect(transports).toStrictEqual(['start', 'stop', 'start']);
    const notesAfter = r.events.filter((x) => x.type === 'note' && x.time > stopped + 0.15);
    expect(notesAfter.length).toBeGreaterThan(4);
    expect((notesAfter[0] as { step: number }).step).toBe(0);
  }, 30_000);

  it('clock without Start: follows the tempo and keeps playing; its ticks are counted', async () => {
    const r = await rig({ clock: { in: true } });
    const ext = externalClock(r.bridge, [{ bpm: 100, beats: 8 }], false);
    await ext.done;
    expect(Math.abs(r.player.engine.tempo! - 100)).toBeLessThan(1);
    expect(r.bridge.follower!.running).toBe(false);
    expect(r.bridge.follower!.stats.ticksWithoutStart).toBe(8 * 24);
    expect(r.events.filter((x) => x.type === 'transport')).toStrictEqual([]);
    const n = r.player.engine.stats.notes;
    await sleep(300);
    expect(r.player.engine.stats.notes).toBeGreaterThan(n);
  }, 20_000);
});

describe('ports that come and go', () => {
  it('waits for a missing input, opens it when it appears, releases its notes when it goes, reopens it', async () => {
    const patch = PatchSchema.parse(BASE);
    const player = await startPlayer({ patch, sink: 'none' });
    const logs: string[] = [];
    const name = unique('Late In');
    const bridge = new MidiBridge({ engine: player.engine, patch, system, input: name, pollMs: 50, log: (m) => logs.push(m) });
    cleanup.push(async () => {
      await bridge.stop();
      await player.stop();
    });
    await bridge.start();
    expect(bridge.ports.input).toBeUndefined();
    expect(logs.filter((l) => l.startsWith(`MIDI input "${name}" not found`))).toHaveLength(1);
    await sleep(200);
    expect(logs.filter((l) => l.includes('not found'))).toHaveLength(1); // said once
    const send = ports.addInput(name);
    await until(() => bridge.ports.input === name, 'the input to open', 3000);
    send([0x90, 60, 100]);
    expect(player.engine.heldNotes).toBe(1);
    ports.remove(name);
    await until(() => bridge.stats.ports.lost === 1, 'the input to be lost', 3000);
    expect(player.engine.heldNotes).toBe(0);
    expect(logs).toContain(`MIDI input "${name}" disappeared; waiting for it to come back`);
    const again = ports.addInput(name);
    await until(() => bridge.stats.ports.opened === 2, 'the input to reopen', 3000);
    again([0x90, 62, 100]);
    expect(player.engine.heldNotes).toBe(1);
    expect(existsSync('nothing')).toBe(false);
  });
});
