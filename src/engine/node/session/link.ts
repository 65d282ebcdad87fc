/**
 * What a transport (the HTTP/WebSocket server, the app's `MessagePort`, a
 * supervisor's IPC channel) needs of a running session, whether the session
 * lives in this process ({@link Session} implements it) or in a child process
 * (a client that forwards over IPC implements it too). Servers and UIs depend
 * on this interface only, so the same server can front an in-process session
 * (`ecosym serve`) or a supervised child (`ecosym run`).
 */
import type { HostStatus, Reply, SessionEvent, TelemetryFrame } from '../../../shared/protocol.ts';

export interface SessionLink {
  /** Validates and runs one command (an object or its JSON text); never throws. */
  handle(message: unknown): Promise<Reply>;
  /** Subscribes to events; returns the unsubscribe function. */
  onEvent(fn: (e: SessionEvent) => void): () => void;
  /** Subscribes to telemetry frames (computed only while someone listens). */
  onTelemetry(fn: (f: TelemetryFrame) => void): () => void;
  /** Host status changes (restarting, playing…), for a session in another process. */
  onStatus?(fn: (s: HostStatus) => void): () => void;
}
