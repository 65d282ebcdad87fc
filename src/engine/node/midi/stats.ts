/**
 * The MIDI bridge's counters, shared by its parts (ports, input, output,
 * clock): one object the host reads, each part counting in its own section.
 */

/** Counters since the bridge was made. */
export interface MidiStats {
  in: { messages: number; notes: number; controls: number; programs: number; clock: number; ignored: number; refused: number };
  out: { messages: number; notes: number; controls: number; clock: number; dropped: number };
  ports: { opened: number; lost: number };
  errors: number;
  lastError: string;
}

export function midiStats(): MidiStats {
  return {
    in: { messages: 0, notes: 0, controls: 0, programs: 0, clock: 0, ignored: 0, refused: 0 },
    out: { messages: 0, notes: 0, controls: 0, clock: 0, dropped: 0 },
    ports: { opened: 0, lost: 0 },
    errors: 0,
    lastError: '',
  };
}

/** Counts an error caught in a handler (nothing from MIDI may throw into the engine). */
export function countError(stats: MidiStats, e: unknown): void {
  stats.errors++;
  stats.lastError = (e as Error)?.message ?? String(e);
}
