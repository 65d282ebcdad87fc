/**
 * The bridge's two ports: opened by name (or part of one) when they appear,
 * closed when they vanish, opened again when they come back. Ports that appear
 * and disappear are noticed by polling (JZZ has no hot-plug events on every
 * platform, webmidi#271); "not found" is said once per name.
 */
import { countError, type MidiStats } from './stats.ts';
import { matchPort, type MidiInputPort, type MidiOutputPort, type MidiPortInfo, type MidiSystem } from './system.ts';

export interface PortHandlers {
  /** Bytes from the input, with their arrival (wall ms). */
  receive(bytes: number[], wallMs: number): void;
  opened(which: 'input' | 'output'): void;
  lost(which: 'input' | 'output'): void;
}

export class MidiPorts {
  input?: MidiInputPort;
  output?: MidiOutputPort;
  private waiting = { input: '', output: '' };
  private polling = false;
  private closed = false;

  constructor(
    private readonly system: MidiSystem,
    /** The port names wanted now (the setup can change when a binding is learned). */
    private readonly wanted: () => { input?: string; output?: string },
    private readonly handlers: PortHandlers,
    private readonly stats: MidiStats,
    private readonly log: (message: string) => void,
  ) {}

  /** Looks at the ports present: opens the wanted ones that came, drops those that went. */
  async poll(): Promise<void> {
    if (this.polling || this.closed) return;
    this.polling = true;
    try {
      const { inputs, outputs } = await this.system.ports();
      if (this.closed) return;
      const want = this.wanted();
      await this.watch('input', want.input, inputs);
      await this.watch('output', want.output, outputs);
    } catch (e) {
      countError(this.stats, e);
    } finally {
      this.polling = false;
    }
  }

  /** One port: dropped if it went, opened if it came, "not found" said once while it is missing. */
  private async watch(which: 'input' | 'output', wanted: string | undefined, present: readonly MidiPortInfo[]): Promise<void> {
    if (wanted === undefined || this.closed) return;
    const now = this[which];
    if (now && !present.some((p) => p.name === now.name)) this.lose(which);
    if (this[which]) return;
    const name = matchPort(present, wanted);
    if (!name) return this.missing(which, wanted, present);
    if (which === 'input') {
      const port = await this.system.openInput(name, (bytes, wall) => this.handlers.receive(bytes, wall));
      if (this.closed) return port.close();
      this.input = port;
    } else {
      const port = await this.system.openOutput(name);
      if (this.closed) return port.close();
      this.output = port;
    }
    this.opened(which, name);
  }

  private opened(which: 'input' | 'output', name: string): void {
    this.stats.ports.opened++;
    this.waiting[which] = '';
    this.log(`MIDI ${which}: ${name}`);
    this.handlers.opened(which);
  }

  private missing(which: 'input' | 'output', wanted: string, present: readonly MidiPortInfo[]): void {
    if (this.waiting[which] === wanted) return;
    this.waiting[which] = wanted;
    this.log(`MIDI ${which} "${wanted}" not found (${which}s: ${present.map((p) => p.name).join(', ') || 'none'}); waiting for it`);
  }

  private lose(which: 'input' | 'output'): void {
    const port = this[which];
    if (!port) return;
    port.close();
    this[which] = undefined;
    this.stats.ports.lost++;
    this.log(`MIDI ${which} "${port.name}" disappeared; waiting for it to come back`);
    this.handlers.lost(which);
  }

  /** Closes both ports; polling stops for good. */
  close(): void {
    this.closed = true;
    this.input?.close();
    this.output?.close();
    this.input = this.output = undefined;
  }
}
