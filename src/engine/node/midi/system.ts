/**
 * MIDI ports in Node, through JZZ (the Web MIDI layer webmidi uses in Node),
 * behind a small interface the bridge and the CLI use.
 *
 * MIDI is optional and must never take the process down (docs/RELIABILITY.md):
 * - On Linux, JZZ's native engine (jazz-midi) opens the ALSA sequencer; without
 *   /dev/snd/seq it can abort the process (jazz-soft/JZZ#43). So the device is
 *   checked first, and without it the native engine is never loaded: MIDI is
 *   "unavailable", with the reason, once.
 * - jazz-midi ships binaries for some platforms only; elsewhere, unavailable.
 * - `ECOSYM_MIDI=off` turns MIDI off; `ECOSYM_MIDI=virtual` uses JZZ's
 *   JavaScript ports only (what the tests use: no hardware, no native code).
 *
 * Why not the webmidi package itself: `WebMidi.enable()` decides it is in a
 * browser when `window` exists, and the Node audio globals define `window`, so
 * it never loads jzz and fails with "navigator is not defined" (measured);
 * it would also start the native engine without the check above.
 *
 * JZZ is one engine per process: the first open decides native or virtual.
 */
import { existsSync } from 'node:fs';

export interface MidiPortInfo {
  name: string;
  manufacturer?: string;
}

export interface MidiInputPort {
  readonly name: string;
  close(): void;
}

export interface MidiOutputPort {
  readonly name: string;
  /** Sends one message now; throws if the port is gone. */
  send(bytes: readonly number[]): void;
  close(): void;
}

/** Open MIDI: list ports, open them. */
export interface MidiSystem {
  /** 'native' (the platform's MIDI through jazz-midi) or 'virtual' (JavaScript ports only). */
  readonly kind: 'native' | 'virtual';
  /** The ports now present (asks the platform again each time: this is the poll). */
  ports(): Promise<{ inputs: MidiPortInfo[]; outputs: MidiPortInfo[] }>;
  /** Opens an input; `onMessage` gets each message's bytes and its arrival (performance.now(), ms). */
  openInput(name: string, onMessage: (bytes: number[], wallMs: number) => void): Promise<MidiInputPort>;
  openOutput(name: string): Promise<MidiOutputPort>;
  /** Lets go of the platform's MIDI (at exit: JZZ's native engine keeps Node alive otherwise). */
  close(): void;
}

/** A MIDI system with no ports, for a bridge on a machine without MIDI: it only takes bytes given to it (`MidiBridge.receiveFrom`). */
export function portlessMidi(): MidiSystem {
  const none = (name: string) => Promise.reject(new Error(`no MIDI ports on this machine ("${name}")`));
  return { kind: 'virtual', ports: () => Promise.resolve({ inputs: [], outputs: [] }), openInput: none, openOutput: none, close: () => undefined };
}

export type MidiAvailability = { ok: true; kind: 'native' | 'virtual' } | { ok: false; reason: string };

/** Platforms jazz-midi has a binary for (node_modules/jazz-midi/index.js). */
const NATIVE = new Set(['win32/ia32', 'win32/x64', 'darwin/x64', 'darwin/arm64', 'linux/x64', 'linux/arm']);

/** The ALSA sequencer device JZZ needs on Linux. */
export const ALSA_SEQ = '/dev/snd/seq';

/** Whether MIDI can be used here, and if not, why. Touches no native code. */
export function midiAvailability(
  env: { platform?: string; arch?: string; exists?: (path: string) => boolean; setting?: string } = {},
): MidiAvailability {
  const platform = env.platform ?? process.platform;
  const arch = env.arch ?? process.arch;
  const exists = env.exists ?? existsSync;
  const setting = (env.setting ?? process.env.ECOSYM_MIDI ?? '').trim().toLowerCase();
  if (setting === 'off' || setting === '0' || setting === 'false') return { ok: false, reason: 'MIDI is turned off (ECOSYM_MIDI=off)' };
  if (setting === 'virtual') return { ok: true, kind: 'virtual' };
  if (!NATIVE.has(`${platform}/${arch}`)) return { ok: false, reason: `no MIDI driver for ${platform} on ${arch} (jazz-midi has none)` };
  if (platform === 'linux' && !exists(ALSA_SEQ))
    return {
      ok: false,
      reason: `no ALSA sequencer on this machine (${ALSA_SEQ} is missing: load the snd-seq kernel module, or pass the device into the container)`,
    };
  return { ok: true, kind: 'native' };
}

/** The subset of JZZ used here. */
interface JzzPort {
  connect(fn: (msg: ArrayLike<number>) => void): unknown;
  send(bytes: number[]): unknown;
  close(): unknown;
  name(): string;
}
interface Jzz {
  (opt?: unknown): PromiseLike<JzzEngine> & JzzEngine;
  close(): void;
  Widget(arg?: object): JzzWidget;
  addMidiIn(name: string, widget: JzzWidget): boolean;
  addMidiOut(name: string, widget: JzzWidget): boolean;
  removeMidiIn(name: string): boolean;
  removeMidiOut(name: string): boolean;
}
interface JzzEngine {
  refresh(): PromiseLike<JzzEngine>;
  info(): { engine: string; inputs: MidiPortInfo[]; outputs: MidiPortInfo[] };
  openMidiIn(name: string): PromiseLike<JzzPort>;
  openMidiOut(name: string): PromiseLike<JzzPort>;
}
/** A JZZ widget: a JavaScript MIDI node (a virtual port's far end). */
export interface JzzWidget {
  send(bytes: number[]): unknown;
  connect(fn: unknown): unknown;
  _receive?: (msg: ArrayLike<number>) => void;
}

let jzzModule: Jzz | undefined;
let opened: { kind: 'native' | 'virtual'; system: MidiSystem } | undefined;

async function loadJzz(): Promise<Jzz> {
  jzzModule ??= ((await import('jzz')) as unknown as { default: Jzz }).default;
  return jzzModule;
}

/**
 * Opens MIDI (once per process; later calls get the same system), or says
 * why it cannot. `virtual` asks for JavaScript ports only. Never throws.
 */
export async function openMidiSystem(opts: { virtual?: boolean; availability?: MidiAvailability } = {}): Promise<MidiSystem | { unavailable: string }> {
  if (opened) return opened.system;
  const avail: MidiAvailability = opts.virtual ? { ok: true, kind: 'virtual' } : (opts.availability ?? midiAvailability());
  if (!avail.ok) return { unavailable: avail.reason };
  try {
    const JZZ = await loadJzz();
    const engine = await JZZ({ engine: avail.kind === 'virtual' ? 'none' : 'node' });
    // When the native engine cannot start, JZZ quietly falls back to no engine.
    const kind: 'native' | 'virtual' = engine.info().engine === 'none' ? 'virtual' : 'native';
    if (avail.kind === 'native' && kind === 'virtual') return { unavailable: 'the native MIDI engine (jazz-midi) did not start' };
    const system = jzzSystem(JZZ, kind);
    opened = { kind, system };
    return system;
  } catch (e) {
    return { unavailable: `MIDI failed to start (${(e as Error)?.message ?? String(e)})` };
  }
}

/** Closes a JZZ port that may be gone already (unplugged, or JZZ closed). */
function closeQuietly(port: JzzPort): void {
  try {
    port.close();
  } catch {
    // already gone
  }
}

function jzzSystem(JZZ: Jzz, kind: 'native' | 'virtual'): MidiSystem {
  const strip = (ps: MidiPortInfo[]) => ps.map((p) => ({ name: p.name, ...(p.manufacturer ? { manufacturer: p.manufacturer } : {}) }));
  return {
    kind,
    close() {
      try {
        JZZ.close();
      } catch {
        // nothing left to close
      }
    },
    async ports() {
      const info = (await JZZ().refresh()).info();
      return { inputs: strip(info.inputs), outputs: strip(info.outputs) };
    },
    async openInput(name, onMessage) {
      const port = await JZZ().openMidiIn(name);
      let open = true;
      port.connect((msg: ArrayLike<number>) => {
        if (!open) return;
        const wall = performance.now();
        try {
          onMessage(Array.from(msg), wall);
        } catch {
          // the handler counts its own errors; nothing reaches JZZ
        }
      });
      return {
        name,
        close() {
          open = false;
          closeQuietly(port);
        },
      };
    },
    async openOutput(name) {
      const port = await JZZ().openMidiOut(name);
      let open = true;
      return {
        name,
        send(bytes) {
          if (!open) throw new Error(`MIDI output "${name}" is closed`);
          port.send([...bytes]);
        },
        close() {
          open = false;
          closeQuietly(port);
        },
      };
    },
  };
}

/**
 * JavaScript MIDI ports (tests, benchmarks, and software that talks to us in
 * process): `addInput` makes a port we can open as an input, returning a
 * function that sends into it; `addOutput` makes a port we can open as an
 * output, whose messages go to `onMessage`. Needs a system opened with
 * `virtual: true` (or a native one: virtual ports sit beside real ones).
 */
export async function virtualPorts(): Promise<{
  addInput(name: string): (bytes: number[]) => void;
  addOutput(name: string, onMessage: (bytes: number[], wallMs: number) => void): void;
  remove(name: string): void;
}> {
  const JZZ = await loadJzz();
  const kinds = new Map<string, 'in' | 'out'>();
  return {
    addInput(name) {
      const widget = JZZ.Widget();
      if (!JZZ.addMidiIn(name, widget)) throw new Error(`a MIDI input "${name}" exists already`);
      kinds.set(name, 'in');
      return (bytes) => void widget.send(bytes);
    },
    addOutput(name, onMessage) {
      const widget = JZZ.Widget({ _receive: (msg: ArrayLike<number>) => onMessage(Array.from(msg), performance.now()) });
      if (!JZZ.addMidiOut(name, widget)) throw new Error(`a MIDI output "${name}" exists already`);
      kinds.set(name, 'out');
    },
    /**
     * Unplugs a port. (JZZ 1.9.6 removes ports with splice(i, i + 1): taking out
     * the port at index i also drops the i ports after it, so tests remove the
     * last one they added first.)
     */
    remove(name) {
      if (kinds.get(name) === 'in') JZZ.removeMidiIn(name);
      else JZZ.removeMidiOut(name);
      kinds.delete(name);
    },
  };
}

/** Picks a port by name: exact, then case-insensitive, then the first whose name contains it (case ignored). */
export function matchPort(ports: readonly MidiPortInfo[], wanted: string): string | undefined {
  const w = wanted.trim().toLowerCase();
  return (
    ports.find((p) => p.name === wanted)?.name ??
    ports.find((p) => p.name.toLowerCase() === w)?.name ??
    (w ? ports.find((p) => p.name.toLowerCase().includes(w))?.name : undefined)
  );
}
