/**
 * The desktop app's audio host: the session runs in its own process (an
 * Electron `utilityProcess`, where node-web-audio-api loads), watched and
 * restarted by a {@link SupervisedSession}, so a busy or reloading window never
 * interrupts the sound and a crashed or hung audio process comes back with the
 * same patch, scene and bindings. Renderers reach it through `MessagePort`s
 * carrying the session protocol ({@link connectSessionPort}).
 *
 * Electron is injected (`spawn` starts the process; main.ts adapts
 * `utilityProcess.fork`), so all of this runs and is tested in Node with
 * `child_process.fork`.
 */
import type { HostStatus, PatchRef, Reply } from '../shared/protocol.ts';
import type { ChildStartOptions, SpawnChild } from '../engine/node/session/hostChannel.ts';
import type { LaunchRender } from '../engine/node/session/renderProcess.ts';
import { SupervisedSession, type SupervisedOptions } from '../engine/node/session/supervised.ts';
import { connectSessionPort, type PortLike } from './sessionPort.ts';
import type { RecentFiles } from './recentFiles.ts';

export interface AudioHostOptions {
  /** The patch to start with (the last one opened, or the demo). */
  patch: PatchRef;
  /** A built-in patch played when the one asked for keeps failing (default seattle-drift). */
  fallback?: PatchRef;
  spawn: SpawnChild;
  /** The session child's entry (dist/cli/session-child.js in the app). */
  entry?: string;
  /** Options of the session beside the patch (sink…). */
  session?: Omit<ChildStartOptions, 'patch'>;
  recent?: RecentFiles;
  /** Supervision settings (tests shorten them). */
  supervise?: Pick<SupervisedOptions, 'hangAfter' | 'policy' | 'startTimeout' | 'env' | 'snapshotEvery'>;
  log?: (line: string) => void;
  /** Starts a bounce's render process for the session child (main.ts: an Electron utility process running the CLI bundle). */
  launchRender?: LaunchRender;
}

export class AudioHost {
  readonly session: SupervisedSession;
  private readonly ports = new Set<{ close(): void }>();

  constructor(private readonly o: AudioHostOptions) {
    this.session = new SupervisedSession({
      session: { sink: 'default', ...(o.session ?? {}), patch: o.patch, ...(o.launchRender ? { renderViaParent: true } : {}) },
      launchRender: o.launchRender,
      spawn: o.spawn,
      entry: o.entry,
      fallback: o.fallback ?? { id: 'seattle-drift' },
      // The app never gives up on its audio: a bad first patch gives way to the fallback.
      retryFirstStart: true,
      // With no audio device the app still opens, plays silently and says so (status `silent`).
      silentWithoutDevice: true,
      log: o.log,
      ...(o.supervise ?? {}),
    });
  }

  /** Starts the audio process; resolves when it first plays. */
  start(): Promise<void> {
    return this.session.start();
  }

  get status(): HostStatus {
    return this.session.status;
  }

  onStatus(fn: (s: HostStatus) => void): () => void {
    return this.session.onStatus(fn);
  }

  /** Hands a renderer's port the session. Returns its closer. */
  connect(port: PortLike): () => void {
    const c = connectSessionPort(this.session, port);
    this.ports.add(c);
    port.onClose(() => this.ports.delete(c));
    return () => {
      c.close();
      this.ports.delete(c);
    };
  }

  /** Ports connected now. */
  get connections(): number {
    return this.ports.size;
  }

  /** Loads a patch file (crossfaded) and, when it plays, puts it first in the recent files. */
  async openPatch(path: string): Promise<Reply> {
    const r = await this.session.handle({ type: 'load', patch: { path } });
    if (r.ok) this.o.recent?.add(path);
    return r;
  }

  async stop(): Promise<void> {
    for (const c of [...this.ports]) c.close();
    this.ports.clear();
    await this.session.stop();
  }
}
