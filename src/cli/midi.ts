/**
 * `ecosym midi [ports]`: the MIDI ports here, or why there is no MIDI; and the
 * MIDI side of `ecosym play` (--midi-in, --midi-out, --midi-learn).
 */
import { parseTarget } from '../engine/core/targets.ts';
import type { Engine } from '../engine/audio/Engine.ts';
import type { LearnDestination } from '../engine/core/midi/config.ts';
import type { PatchFile } from '../engine/node/files.ts';
import { MidiBridge, sidecarPath } from '../engine/node/midi/bridge.ts';
import { midiAvailability, openMidiSystem, type MidiAvailability, type MidiSystem } from '../engine/node/midi/system.ts';
import { UsageError } from './common.ts';

/** Exit code when MIDI is unavailable here. */
export const NO_MIDI = 4;

/** Lists the ports; returns the exit code (0, or 4 when there is no MIDI). */
export async function midiCommand(
  sub: string | undefined,
  opts: { json?: boolean; availability?: MidiAvailability; system?: MidiSystem } = {},
  out: (s: string) => void = console.log,
): Promise<number> {
  if (sub !== undefined && sub !== 'ports') throw new UsageError(`ecosym midi: unknown subcommand "${sub}" (expected: ecosym midi [ports])`);
  const system = opts.system ?? (await openMidiSystem({ availability: opts.availability ?? midiAvailability() }));
  if ('unavailable' in system) {
    if (opts.json) out(JSON.stringify({ available: false, reason: system.unavailable }));
    else out(`MIDI is unavailable: ${system.unavailable}.`);
    return NO_MIDI;
  }
  try {
    const { inputs, outputs } = await system.ports();
    if (opts.json) out(JSON.stringify({ available: true, kind: system.kind, inputs, outputs }, null, 2));
    else {
      const list = (ps: typeof inputs) => (ps.length ? ps.map((p) => `  ${p.name}${p.manufacturer ? `  (${p.manufacturer})` : ''}`) : ['  (none)']);
      out(`MIDI inputs${system.kind === 'virtual' ? ' (virtual ports only)' : ''}:`);
      for (const l of list(inputs)) out(l);
      out('MIDI outputs:');
      for (const l of list(outputs)) out(l);
    }
    return 0;
  } finally {
    if (!opts.system) system.close();
  }
}

/** `--midi-learn TARGET` or `--midi-learn stream:NAME`, checked against the patch. */
export function learnArg(pf: PatchFile, text: string): LearnDestination {
  const p = pf.patch;
  if (text.startsWith('stream:')) {
    const stream = text.slice(7);
    if (!Object.hasOwn(p.streams, stream)) throw new UsageError(`--midi-learn ${text}: the patch has no stream "${stream}" (streams: ${Object.keys(p.streams).join(', ')})`);
    return { stream };
  }
  const t = parseTarget(text, Object.keys(p.voices), Object.keys(p.buses));
  if (typeof t === 'string') throw new UsageError(`--midi-learn: ${t} (or stream:NAME)`);
  return { to: text };
}

export interface PlayMidiArgs {
  midiIn?: string;
  midiOut?: string;
  midiLearn?: string;
}

/**
 * Starts the MIDI bridge for `ecosym play` when the patch has a midi section
 * or a --midi-* flag asks for it. No MIDI here: one line saying why, and the
 * music plays on without it.
 */
export async function startMidi(pf: PatchFile, engine: Engine, a: PlayMidiArgs, log: (s: string) => void): Promise<{ bridge: MidiBridge; system: MidiSystem } | undefined> {
  if (pf.patch.midi === undefined && a.midiIn === undefined && a.midiOut === undefined && a.midiLearn === undefined) return undefined;
  const learn = a.midiLearn === undefined ? undefined : learnArg(pf, a.midiLearn);
  const system = await openMidiSystem();
  if ('unavailable' in system) {
    log(`MIDI disabled: ${system.unavailable}.`);
    return undefined;
  }
  const bridge = new MidiBridge({ engine, patch: pf.patch, system, input: a.midiIn, output: a.midiOut, sidecar: sidecarPath(pf.file), log: (m) => log(`  ${m}`) });
  await bridge.start();
  if (learn) {
    log(`  MIDI learn: move a control to bind it to ${'to' in learn ? learn.to : `stream ${learn.stream}`}`);
    void bridge.learn(learn, 10 * 60_000).then((b) => b === undefined && log('  MIDI learn: nothing moved; no binding made'));
  }
  return { bridge, system };
}
