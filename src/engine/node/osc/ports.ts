/**
 * Shared OSC UDP ports: several streams (and the control bridge) may listen
 * on one port; the socket opens with the first user and closes with the last.
 */
import { OscUdpPort } from './udp.ts';

interface Entry {
  port: OscUdpPort;
  users: number;
  ready: Promise<{ address: string; port: number }>;
}

const open = new Map<string, Entry>();

export interface OscPortLease {
  port: OscUdpPort;
  /** Resolves when bound (rejects if the port cannot be bound). */
  ready: Promise<{ address: string; port: number }>;
  release(): Promise<void>;
}

/** Opens (or shares) a UDP OSC port on host:port. */
export function acquireOscPort(host: string, portNumber: number): OscPortLease {
  const key = `${host}:${portNumber}`;
  let entry = open.get(key);
  if (!entry) {
    const port = new OscUdpPort();
    const ready = port.open({ host, port: portNumber });
    entry = { port, users: 0, ready };
    open.set(key, entry);
    // A port that fails to bind is forgotten, so the next attempt tries again.
    ready.catch(() => open.get(key) === entry && open.delete(key));
  }
  entry.users++;
  const e = entry;
  let released = false;
  return {
    port: e.port,
    ready: e.ready,
    async release() {
      if (released) return;
      released = true;
      if (--e.users > 0) return;
      if (open.get(key) === e) open.delete(key);
      await e.port.close().catch(() => undefined);
    },
  };
}
