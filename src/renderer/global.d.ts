import type { Bridge } from '../shared/ipc.ts';

declare global {
  interface Window {
    /** The typed bridge exposed by src/preload/preload.ts. */
    readonly ecosym: Bridge;
  }
}

export {};
