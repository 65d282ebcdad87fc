/**
 * Pure-core speed rows, moved here from tests that asserted wall time:
 * - rolling-percentiles-push: cost of one push plus two percentile reads on a
 *   RollingPercentiles at its 10,000-sample cap (50,000 pushes), µs (was a
 *   "< 5 s for all of them" check in filters.test.ts).
 */
import { RollingPercentiles } from '../src/engine/core/filters.ts';

export function benchCore(quick: boolean, row: (name: string, value: number, unit: string) => void): void {
  const n = quick ? 20_000 : 50_000;
  const big = new RollingPercentiles(Infinity);
  const start = performance.now();
  for (let i = 0; i < n; i++) {
    big.push(i, Math.sin(i) * 1000);
    big.percentile(5);
    big.percentile(95);
  }
  const us = ((performance.now() - start) * 1000) / n;
  row('rolling-percentiles-push', us, `µs per push + 2 percentiles at a ${big.size}-sample window (${n} pushes)`);
}
