/**
 * OSC benchmarks with audio running in real time (no device):
 * - osc-to-param p50/p99: from our UDP port sending /eco/voice/<v>/volume to the
 *   engine having scheduled the ramp (decode, pattern dispatch, setParameter), ms.
 * - osc-packets-per-second: control messages handled per second when sent as
 *   fast as the loopback takes them (batches of 100), and how many were lost.
 * - osc-flood-loop-delay-p99/max: event-loop delay while another process sends
 *   bundles of 1,000 /eco/voice/*\/volume at 50 per second (dispatch budget and
 *   per-packet coalescing at work), ms; osc-flood-dropped: matches over budget.
 */
import '../src/engine/node/platform/installGlobals.ts';
import { loadPatchFile, resolvePatchPath } from '../src/engine/node/files.ts';
import { startPlayer } from '../src/engine/node/realtime.ts';
import { OscControl } from '../src/engine/node/bridges/oscControl.ts';
import { OscUdpPort } from '../src/engine/node/osc/udp.ts';
import { encodeMessage, encodePacket, type OscMessage } from '../src/engine/core/osc/codec.ts';
import { execFile } from 'node:child_process';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { quantile } from '../src/engine/core/filters.ts';

export async function benchOsc(quick: boolean, row: (name: string, value: number, unit: string) => void): Promise<void> {
  const pf = loadPatchFile(resolvePatchPath('carbon-pulse'));
  const voice = Object.keys(pf.patch.voices)[0]!;
  const player = await startPlayer({ patch: pf.patch, sink: 'none' });
  const control = new OscControl(player.engine);
  const tx = new OscUdpPort();
  try {
    const port = await control.listen('127.0.0.1', 0);
    await tx.open({ host: '127.0.0.1', port: 0 });
    const applied: number[] = [];
    const set = player.engine.setParameter.bind(player.engine);
    player.engine.setParameter = (t, v, time) => {
      applied.push(performance.now());
      return set(t, v, time);
    };
    const address = `/eco/voice/${voice}/volume`;
    const count = quick ? 200 : 1000;
    const sent: number[] = [];
    for (let i = 0; i < count; i++) {
      sent.push(performance.now());
      await tx.send({ address, args: [{ type: 'f', value: -12 - (i % 10) }] }, '127.0.0.1', port);
      await new Promise((r) => setTimeout(r, 3));
    }
    await new Promise((r) => setTimeout(r, 50));
    const lat = applied.slice(0, count).map((t, i) => t - sent[i]!);
    row('osc-to-param-p50', quantile(lat, 0.5), `ms (${lat.length} of ${count} messages)`);
    row('osc-to-param-p99', quantile(lat, 0.99), 'ms');

    // Throughput: another process sends pre-encoded packets as fast as it can (as a
    // controller or a show computer would), so the sender does not share our event loop.
    const bytes = Buffer.from(encodeMessage({ address, args: [{ type: 'f', value: -15 }] })).toString('base64');
    const total = quick ? 20_000 : 100_000;
    const before = control.stats.applied + control.stats.coalesced + control.stats.dropped;
    const lateBefore = player.engine.stats.lateNotes;
    const script = `const s=require('node:dgram').createSocket('udp4');const b=Buffer.from('${bytes}','base64');let n=0;
      (function go(){for(let i=0;i<50&&n<${total};i++,n++)s.send(b,${port},'127.0.0.1');if(n<${total})setImmediate(go);else setTimeout(()=>s.close(),50)})();`;
    const t0 = performance.now();
    await new Promise<void>((resolve, reject) => execFile(process.execPath, ['-e', script], (e) => (e ? reject(e) : resolve())));
    const sendSeconds = (performance.now() - t0) / 1000;
    await new Promise((r) => setTimeout(r, 200));
    // Controls past the per-second budget are handled too: coalesced, deferred or dropped and counted.
    const handled = control.stats.applied + control.stats.coalesced + control.stats.dropped - before;
    row('osc-packets-per-second', handled / sendSeconds, `packets/s handled from another process (${handled} of ${total}; the rest dropped by the kernel buffer)`);
    row('osc-late-notes', player.engine.stats.lateNotes - lateBefore, 'late notes while the packets came');

    // A wildcard flood from another process: 1,000-message bundles at 50 per second.
    const elements: OscMessage[] = Array.from({ length: 1000 }, (_, i) => ({ address: '/eco/voice/*/volume', args: [{ type: 'f', value: -10 - (i % 20) }] }));
    const flood = Buffer.from(encodePacket({ timetag: { seconds: 0, fraction: 1 }, elements })).toString('base64');
    const bundles = quick ? 50 : 150;
    const droppedBefore = control.stats.dropped;
    const floodScript = `const s=require('node:dgram').createSocket('udp4');const b=Buffer.from('${flood}','base64');let n=0;
      const t=setInterval(()=>{s.send(b,${port},'127.0.0.1');if(++n>=${bundles}){clearInterval(t);setTimeout(()=>s.close(),50)}},20);`;
    const delay = monitorEventLoopDelay({ resolution: 5 });
    delay.enable();
    await new Promise<void>((resolve, reject) => execFile(process.execPath, ['-e', floodScript], (e) => (e ? reject(e) : resolve())));
    await new Promise((r) => setTimeout(r, 100));
    delay.disable();
    row('osc-flood-loop-delay-p99', delay.percentile(99) / 1e6, `ms event-loop delay, ${bundles} bundles of 1,000 /eco/voice/*/volume at 50/s`);
    row('osc-flood-loop-delay-max', delay.max / 1e6, 'ms');
    row('osc-flood-dropped', control.stats.dropped - droppedBefore, 'matches over the dispatch budget, dropped and counted');
  } finally {
    await tx.close();
    await control.close();
    await player.stop();
  }
}
