/**
 * MIDI learn and the bindings it keeps: the next controller (or pitch bend)
 * moved is bound to a target or a stream, and the patch's learned bindings are
 * saved in a sidecar beside it (`x.yaml` → `x.midi.json`), written atomically
 * (a temporary file, then rename), so a crash never leaves half a file. A
 * sidecar that cannot be read or parsed is reported, set aside as `.bad` on
 * the next save, never overwritten.
 */
import { existsSync, readFileSync, renameSync } from 'node:fs';
import { basename } from 'node:path';
import {
  describeDestination,
  describeSource,
  LearnSession,
  mergeBindings,
  parseSidecar,
  sidecarText,
  type ControlBinding,
  type LearnDestination,
} from '../../core/midi/config.ts';
import type { MidiMessage } from '../../core/midi/parser.ts';
import type { Patch } from '../../core/patchSchema.ts';
import { parseTarget } from '../../core/targets.ts';
import { writeFileAtomic } from '../files.ts';

/** The sidecar of a patch file: `x.yaml` → `x.midi.json`, beside it. */
export function sidecarPath(patchFile: string): string {
  return patchFile.replace(/\.(ya?ml|json)$/i, '') + '.midi.json';
}

export class MidiLearn {
  /** Bindings learned for this patch (as saved in its sidecar). */
  bindings: ControlBinding[] = [];
  private broken = false;
  private session?: { session: LearnSession; resolve: (b: ControlBinding | undefined) => void; timer: NodeJS.Timeout };

  /**
   * Loads the sidecar, if there is one.
   * @param sidecar where learned bindings live; none = learn in memory only.
   * @param changed called with the bindings after each one learned (before it is saved).
   * @param fail counts an error that was caught.
   */
  constructor(
    private readonly patch: Patch,
    private readonly sidecar: string | undefined,
    private readonly changed: (bindings: readonly ControlBinding[]) => void,
    private readonly log: (message: string) => void,
    private readonly fail: (e: unknown) => void,
  ) {
    if (!sidecar || !existsSync(sidecar)) return;
    let text = '';
    try {
      text = readFileSync(sidecar, 'utf8');
    } catch (e) {
      this.broken = true;
      this.log(`MIDI: cannot read learned bindings ${sidecar} (${(e as Error).message}); starting without them`);
    }
    const parsed = text ? parseSidecar(text) : [];
    if (typeof parsed === 'string') {
      this.broken = true;
      this.log(`MIDI: ignoring learned bindings in ${sidecar}: ${parsed}`);
    } else this.bindings = parsed;
  }

  /** Whether a learn is waiting for a control to move. */
  get active(): boolean {
    return this.session !== undefined;
  }

  /**
   * Binds the next control moved to `destination` (a target such as
   * "pad.filter.frequency", or a stream), replacing what that control or
   * destination was bound to, and saves it. Resolves with the binding, or
   * undefined after `timeoutMs` or when another learn or cancel() ends it.
   * Rejects a destination the patch lacks.
   */
  learn(destination: LearnDestination, timeoutMs: number): Promise<ControlBinding | undefined> {
    const patch = this.patch;
    if ('stream' in destination) {
      if (!Object.hasOwn(patch.streams, destination.stream))
        return Promise.reject(new Error(`learn: the patch has no stream "${destination.stream}" (streams: ${Object.keys(patch.streams).join(', ')})`));
    } else {
      const t = parseTarget(destination.to, Object.keys(patch.voices), Object.keys(patch.buses));
      if (typeof t === 'string') return Promise.reject(new Error(`learn: ${t}`));
    }
    this.cancel();
    return new Promise((resolve) => {
      // a user's timeout, in wall time: it has nothing to do with the audio clock
      this.session = { session: new LearnSession(destination), resolve, timer: setTimeout(() => this.cancel(), timeoutMs) };
    });
  }

  /** Feeds a message in while learning (controllers and pitch bend make a binding). */
  push(m: MidiMessage): void {
    if (!this.session || (m.type !== 'cc' && m.type !== 'pitchBend')) return;
    const b = this.session.session.push(m);
    if (b) this.learnt(b);
  }

  /** Ends a learn waiting for a control; it resolves with undefined. */
  cancel(): void {
    const l = this.session;
    if (!l) return;
    this.session = undefined;
    clearTimeout(l.timer);
    l.resolve(undefined);
  }

  private learnt(b: ControlBinding): void {
    const l = this.session!;
    this.session = undefined;
    clearTimeout(l.timer);
    this.bindings = mergeBindings(this.bindings, [b]);
    this.changed(this.bindings);
    this.log(`MIDI learn: ${describeSource(b)} → ${describeDestination(b)}${this.save()}`);
    l.resolve(b);
  }

  /** Writes the sidecar; says where it went, for the log line. */
  private save(): string {
    const file = this.sidecar;
    if (!file) return ' (not saved: no patch file)';
    try {
      if (this.broken && existsSync(file)) renameSync(file, `${file}.bad`);
      this.broken = false;
      writeFileAtomic(file, sidecarText(this.bindings));
      return ` (saved to ${basename(file)})`;
    } catch (e) {
      this.fail(e);
      return ` (NOT saved: ${(e as Error)?.message ?? String(e)})`;
    }
  }
}
