/**
 * MIDI controllers plugged into the machine that shows this page (a laptop at
 * front of house while the session runs elsewhere): read through Web MIDI
 * (`webmidi`; the desktop app's main process grants the permission) and sent
 * to the session as `midiIn` commands, where its MIDI bridge treats them as
 * one of its own ports: the same learn, bindings and played voices.
 *
 * Messages are batched (midiOutbox.ts: in order, split when a batch is full,
 * under the server's rate limit); SysEx and active sensing stay here. Each
 * input can be switched off (remembered in localStorage); switching one off
 * releases the notes it held.
 */
import type { Input, MessageEvent as MidiEvent, WebMidi as WebMidiType } from 'webmidi';
import { midiMessageProblem } from '../../shared/protocol.ts';
import { app } from './app.svelte.ts';
import { MidiOutbox } from './midiOutbox.ts';
const OFF_KEY = 'ecosym.pageMidi.off';
const ENABLED_KEY = 'ecosym.pageMidi.enabled';

export interface PageMidiInput {
  id: string;
  name: string;
  on: boolean;
  /** Messages sent to the session from this input. */
  sent: number;
}

class PageMidi {
  /** off: not asked yet; on: Web MIDI enabled; unavailable: not here or refused (see `reason`). */
  state = $state<'off' | 'enabling' | 'on' | 'unavailable'>('off');
  reason = $state<string | undefined>(undefined);
  inputs = $state<PageMidiInput[]>([]);
  /** The session's last answer to a `midiIn`, when it refused one. */
  lastError = $state<string | undefined>(undefined);

  private readonly switchedOff = new Set<string>(readList(OFF_KEY));
  private readonly outbox = new MidiOutbox((port, messages) => this.send(port, messages));
  /** Notes held, per input name: `status << 8 | note`. */
  private readonly held = new Map<string, Set<number>>();
  private readonly listening = new Map<string, { input: Input; fn: (e: MidiEvent) => void }>();
  /** webmidi, loaded when first enabled (most pages never use it). */
  private midi: typeof WebMidiType | undefined;

  /** Enables Web MIDI when this page enabled it before (no prompt comes unasked). */
  resume(): void {
    if (this.state === 'off' && storage()?.getItem(ENABLED_KEY) === '1') void this.enable();
  }

  async enable(): Promise<void> {
    if (this.state === 'on' || this.state === 'enabling') return;
    if (typeof navigator === 'undefined' || typeof navigator.requestMIDIAccess !== 'function') {
      this.state = 'unavailable';
      this.reason = 'this browser has no Web MIDI (Chromium-based browsers and the desktop app have it)';
      return;
    }
    this.state = 'enabling';
    let WebMidi: typeof WebMidiType;
    try {
      ({ WebMidi } = await import('webmidi'));
      await WebMidi.enable({ sysex: false });
    } catch (e) {
      this.state = 'unavailable';
      this.reason = `Web MIDI refused: ${(e as Error)?.message ?? String(e)}`;
      return;
    }
    storage()?.setItem(ENABLED_KEY, '1');
    this.midi = WebMidi;
    this.state = 'on';
    this.reason = undefined;
    WebMidi.addListener('connected', () => this.update());
    WebMidi.addListener('disconnected', () => this.update());
    this.update();
  }

  /** Switches one input's forwarding on or off (by name: an input keeps its choice when plugged in again). */
  setOn(name: string, on: boolean): void {
    if (on) this.switchedOff.delete(name);
    else this.switchedOff.add(name);
    storage()?.setItem(OFF_KEY, JSON.stringify([...this.switchedOff]));
    if (!on) this.releaseHeld(name);
    this.update();
  }

  /** The inputs present now; listens to those switched on. */
  private update(): void {
    if (!this.midi) return;
    const present = new Map(this.midi.inputs.map((i) => [i.name, i] as const));
    for (const [name, l] of this.listening) {
      if (present.get(name) === l.input && !this.switchedOff.has(name)) continue;
      l.input.removeListener('midimessage', l.fn);
      this.listening.delete(name);
      // unplugged or switched off: nothing it held may keep sounding
      this.releaseHeld(name);
    }
    for (const [name, input] of present) {
      if (this.switchedOff.has(name) || this.listening.has(name)) continue;
      const fn = (e: MidiEvent) => this.message(name, e);
      input.addListener('midimessage', fn);
      this.listening.set(name, { input, fn });
    }
    const sent = new Map(this.inputs.map((i) => [i.name, i.sent]));
    this.inputs = [...present.values()].map((i) => ({ id: i.id, name: i.name, on: !this.switchedOff.has(i.name), sent: sent.get(i.name) ?? 0 }));
  }

  private message(name: string, e: MidiEvent): void {
    const bytes = Array.from(e.message.rawData);
    // whole messages only: SysEx and active sensing stay on this machine
    if (bytes[0] === 0xfe || midiMessageProblem(bytes) !== undefined) return;
    const kind = bytes[0]! & 0xf0;
    let held = this.held.get(name);
    // bookkeeping only, never shown: no reactivity wanted
    // eslint-disable-next-line svelte/prefer-svelte-reactivity
    if (!held) this.held.set(name, (held = new Set()));
    const key = ((0x90 | (bytes[0]! & 0x0f)) << 8) | (bytes[1] ?? 0);
    if (kind === 0x90 && bytes[2]! > 0) held.add(key);
    else if (kind === 0x80 || kind === 0x90) held.delete(key);
    this.queue(name, bytes);
  }

  private queue(name: string, bytes: readonly number[]): void {
    this.outbox.queue(name, bytes);
  }

  private send(port: string, messages: number[][]): void {
    if (app.readOnly) return this.outbox.clear();
    const input = this.inputs.find((i) => i.name === port);
    if (input) input.sent += messages.length;
    void app.send({ type: 'midiIn', port, messages }, { quiet: true }).then((r) => (this.lastError = r.ok ? undefined : r.error));
  }

  private releaseHeld(name: string): void {
    const held = this.held.get(name);
    if (!held?.size) return;
    for (const k of held) this.queue(name, [0x80 | ((k >> 8) & 0x0f), k & 0x7f, 0]);
    held.clear();
  }
}

function storage(): Storage | undefined {
  try {
    return typeof localStorage === 'undefined' ? undefined : localStorage;
  } catch {
    return undefined;
  }
}

function readList(key: string): string[] {
  try {
    const v = JSON.parse(storage()?.getItem(key) ?? '[]') as unknown;
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
  } catch {
    return [];
  }
}

export const pageMidi = new PageMidi();
