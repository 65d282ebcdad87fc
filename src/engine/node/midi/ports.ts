/**
 * The bridge's two ports: opened by name (or part of one) when they appear,
 * closed when they vanish, opened again when they come back. Ports that appear
 * and disappear are noticed by polling (JZZ has no hot-plug events on every
 * platform, webmidi#271); "not found" is said once per name.
 */
import { countError, type MidiStats } from './stats.ts';
import { matchPort, type MidiInputPort, type MidiOutputPort, type MidiSystem } from './system.ts';

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
      if (want.input !== undefined) {
        const name = matchPort(inputs, want.input);
        if (this.input && !inputs.some((p) => p.name === this.input!.name)) this.lose('input');
        if (!this.input && name) {
          const port = await this.system.openInput(name, (bytes, wall) => this.handlers.receive(bytes, wall));
          if (this.closed) port.close();
          else {
            this.input = port;
            this.opened('input', name);
          }
        } else if (!this.input) this.missing('input', want.input, inputs);
      }
      if (want.output !== undefined) {
        const name = matchPort(outputs, want.output);
        if (this.output && !outputs.some((p) => p.name === this.output!.name)) this.lose('output');
        if (!this.output && name) {
          const port = await this.system.openOutput(name);
          if (this.closed) port.close();
          else {
            this.output = port;
            this.opened('output', name);
          }
        } else if (!this.output) this.missing('output', want.output, outputs);
      }
    } catch (e) {
      countError(this.stats, e);
    } finally {
      this.polling = false;
    }
  }

  private opened(which: 'input' | 'output', name: string): void {
    this.stats.ports.opened++;
    this.waiting[which] = '';
    this.log(`MIDI ${which}: ${name}`);
    this.handlers.opened(which);
  }

  private missing(which: 'input' | 'output', wanted: string, present: ReadonlyArray<{ name: string }>): void {
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
