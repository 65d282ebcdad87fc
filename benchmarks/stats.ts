/**
 * Statistics for the installation soak (benchmarks/install.ts): is memory
 * growing, or only moving within noise?
 *
 * The soak kills its session process every few minutes, and each new process
 * settles at a level of its own. One least-squares line through every sample
 * would read the step from one process's level to the next as growth, yet a new
 * process cannot inherit a leak from the one killed. {@link pooledSlope} fits
 * one slope common to all groups (a group = one process life) with an
 * intercept of each group's own: the pooled within-group least squares
 * (analysis of covariance with a common slope). Only how values move inside a
 * life counts.
 */

/** Samples of one group (one process life): xs in hours, ys in MB. */
export interface Group {
  xs: number[];
  ys: number[];
}

export interface SlopeFit {
  /** The common within-group slope, y units per x unit (MB/h). */
  slope: number;
  /** Its standard error. */
  se: number;
  /** Standard deviation of the residuals around each group's own line (MB), on N − groups − 1 degrees of freedom. */
  residualSd: number;
  /** Samples used. */
  n: number;
  /** Groups used (those with at least two samples at different x). */
  groups: number;
  /**
   * 'flat within noise' when |slope| ≤ 2·SE (not told apart from 0) or when
   * |slope| × horizon ≤ residualSd (over the horizon the growth stays within
   * the samples' own scatter); else 'GROWING'.
   */
  verdict: 'flat within noise' | 'GROWING';
}

/**
 * Pooled within-group least squares: slope = Σ (x − x̄g)(y − ȳg) / Σ (x − x̄g)²
 * over all samples, each centred on its own group's means. Groups with fewer
 * than two distinct xs carry nothing about a slope and are left out. Throws when
 * there is no degree of freedom left for the residuals.
 * `horizon` (in x units; 1 = 1 h for xs in hours) is how far the verdict
 * extrapolates the slope.
 */
export function pooledSlope(data: readonly Group[], horizon = 1): SlopeFit {
  const used = data.filter((g) => g.xs.length >= 2 && new Set(g.xs).size >= 2);
  const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
  let sxx = 0;
  let sxy = 0;
  let n = 0;
  const centred = used.map((g) => {
    const mx = mean(g.xs);
    const my = mean(g.ys);
    const dx = g.xs.map((x) => x - mx);
    const dy = g.ys.map((y) => y - my);
    for (let i = 0; i < dx.length; i++) {
      sxx += dx[i]! ** 2;
      sxy += dx[i]! * dy[i]!;
    }
    n += dx.length;
    return { dx, dy };
  });
  const df = n - used.length - 1;
  if (!(sxx > 0) || df < 1) throw new Error(`pooledSlope: ${n} samples in ${used.length} groups leave no degree of freedom`);
  const slope = sxy / sxx;
  let sse = 0;
  for (const { dx, dy } of centred) for (let i = 0; i < dx.length; i++) sse += (dy[i]! - slope * dx[i]!) ** 2;
  const residualSd = Math.sqrt(sse / df);
  const se = residualSd / Math.sqrt(sxx);
  const flat = Math.abs(slope) <= 2 * se || Math.abs(slope) * horizon <= residualSd;
  return { slope, se, residualSd, n, groups: used.length, verdict: flat ? 'flat within noise' : 'GROWING' };
}
