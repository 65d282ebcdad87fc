/**
 * The process-level error policy of a long-running host: an uncaught exception
 * or unhandled rejection is logged and counted, and the show goes on
 * (docs/ARCHITECTURE.md: a stray Tone error once in 500 swaps must not be fatal).
 */
export interface ErrorPolicy {
  readonly count: number;
  dispose(): void;
}

export function installErrorPolicy(log: (message: string) => void): ErrorPolicy {
  let count = 0;
  const onError = (e: unknown) => {
    count++;
    log(`survived an uncaught error (#${count}): ${(e as Error)?.stack ?? String(e)}`);
  };
  process.on('uncaughtException', onError);
  process.on('unhandledRejection', onError);
  return {
    get count() {
      return count;
    },
    dispose() {
      process.off('uncaughtException', onError);
      process.off('unhandledRejection', onError);
    },
  };
}
