/**
 * `ecosym midi [ports]`: the MIDI ports here, or why there is no MIDI; and the
 * check of `ecosym play --midi-learn` (the bridge itself runs in the Session).
 */
import { parseTarget } from '../engine/core/targets.ts';
import type { LearnDestination } from '../engine/core/midi/config.ts';
import type { PatchFile } from '../engine/node/files.ts';
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
