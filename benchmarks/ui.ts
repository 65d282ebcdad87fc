/**
 * UI benchmark (`npm run bench -- --ui`), in Debian's headless Chromium
 * against a real session (`sink: 'none'`, carbon-pulse) and server:
 * - ui-frame-time-p95 / -p50: ms of canvas work per animation frame on Live
 *   (meters, spectrum, scope, sparklines redrawn from telemetry), goal p95 < 8 ms;
 * - ui-main-thread-per-frame: the page's whole main-thread task time (Svelte
 *   updates, style, layout, paint, scripts; Chromium's TaskDuration) per frame, mean;
 * - ui-telemetry-cpu: the audio host's CPU (this process: session and server)
 *   with the Live screen open ÷ with no page open, over the same time
 *   (ratio); ui-host-cpu-open / -closed the two figures in % of one core.
 */
import { startShow } from '../tests/ui/support.ts';

type Row = (name: string, value: number, unit: string) => void;

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

/** The host's CPU (user + system) over `ms` of wall time, % of one core. */
async function hostCpu(ms: number): Promise<number> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, ms));
  const c = process.cpuUsage(c0);
  return ((c.user + c.system) / 1000 / (performance.now() - t0)) * 100;
}

export async function benchUi(quick: boolean, row: Row): Promise<void> {
  const seconds = quick ? 3 : 10;
  const show = await startShow('carbon-pulse');
  try {
    // Settle (first sources, caches), then the host with no page open.
    await new Promise((r) => setTimeout(r, 2000));
    const closed = await hostCpu(seconds * 1000);

    const { page } = await show.page({ width: 1280, height: 800 });
    await page.goto(`${show.server.baseUrl}?token=${show.server.token}#/Live`);
    await page.getByRole('status', { name: 'Connection' }).getByText('connected').waitFor();
    await new Promise((r) => setTimeout(r, 2000));
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Performance.enable');
    const metric = async (name: string) => ((await cdp.send('Performance.getMetrics')) as { metrics: { name: string; value: number }[] }).metrics.find((m) => m.name === name)?.value ?? NaN;
    // A string, not a function: tsx's named-function helper does not exist in the page.
    await page.evaluate(`(() => {
      globalThis.ecosymFrameWork?.splice(0);
      globalThis.benchFrames = 0;
      const tick = () => { globalThis.benchFrames++; requestAnimationFrame(tick); };
      requestAnimationFrame(tick);
    })()`);
    const task0 = await metric('TaskDuration');
    const open = await hostCpu(seconds * 1000);
    const task1 = await metric('TaskDuration');
    const { work, frames } = await page.evaluate(() => {
      const w = globalThis as { ecosymFrameWork?: number[]; benchFrames?: number };
      return { work: [...(w.ecosymFrameWork ?? [])], frames: w.benchFrames ?? 0 };
    });
    const sorted = work.sort((a, b) => a - b);
    row('ui-frame-time-p50', pct(sorted, 50), 'ms');
    row('ui-frame-time-p95', pct(sorted, 95), 'ms (goal < 8)');
    row('ui-frames-per-second', frames / seconds, 'fps');
    row('ui-main-thread-per-frame', ((task1 - task0) * 1000) / Math.max(1, frames), 'ms');
    row('ui-host-cpu-closed', closed, '% of a core');
    row('ui-host-cpu-open', open, '% of a core');
    row('ui-telemetry-cpu', open / closed, 'ratio (Live open ÷ closed)');
    await page.context().close();
  } finally {
    await show.close();
  }
}
