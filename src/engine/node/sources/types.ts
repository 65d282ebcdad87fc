/**
 * What every source kind implements, and what it reports to: a source only
 * turns its input into feed records and reports errors and (re)connections;
 * validation, status, outage policy and caching are the hub's, the same for all.
 */
import type { FeedRecord } from '../../core/sources/records.ts';

export interface SourceSink {
  /** Records that arrived (not yet validated). A NaN dataTime is stamped with the arrival time. */
  records(records: FeedRecord[]): void;
  /** A connection, request or parse failed; the source keeps retrying. */
  error(e: unknown): void;
  /** A (re)connection attempt began. */
  connecting(): void;
  /** The link is up: a socket or broker connection opened, or a request was answered. */
  connected?(): void;
  /** The link went down (a broker or socket closed, a request failed), whatever the data's age. */
  disconnected?(reason: unknown): void;
}

export interface Source {
  start(): void;
  /** Stops and releases every socket and timer. */
  stop(): Promise<void>;
}

/** A Source that never throws out of its callbacks: anything thrown is reported as an error. */
export function guarded(sink: SourceSink): SourceSink {
  return {
    records: (r) => {
      try {
        sink.records(r);
      } catch (e) {
        sink.error(e);
      }
    },
    error: (e) => {
      try {
        sink.error(e);
      } catch {
        /* a failing error handler must not take the source down */
      }
    },
    connecting: () => {
      try {
        sink.connecting();
      } catch {
        /* as above */
      }
    },
    connected: () => {
      try {
        sink.connected?.();
      } catch {
        /* as above */
      }
    },
    disconnected: (reason) => {
      try {
        sink.disconnected?.(reason);
      } catch {
        /* as above */
      }
    },
  };
}
