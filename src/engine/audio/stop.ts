/** Stops each source node now, ignoring those already stopped (or never started): one that throws does not keep the others running. */
export function stopQuietly(...sources: Array<{ stop(when?: number): void }>): void {
  for (const s of sources) {
    try {
      s.stop();
    } catch {
      // already stopped
    }
  }
}
