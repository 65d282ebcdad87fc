/**
 * OSC benchmarks with audio running in real time (no device):
 * - osc-to-param p50/p99: from our UDP port sending /eco/voice/<v>/volume to the
 *   engine having scheduled the ramp (decode, pattern dispatch, setParameter), ms.
 * - osc-packets-per-second: control messages handled per second when sent as
 *   fast as the loopback takes them (batches of 100), and how many were lost.
 */
import '../src/engine/node/audioGlobals.ts';
import { loadPatchFile, resolvePatchPath } from '../src/engine/node/files.ts';
import { startPlayer } from '../src/engine/node/realtime.ts';
import { OscControl } from '../src/engine/node/bridges/oscControl.ts';
import { OscUdpPort } from '../src/engine/node/osc/udp.ts';
import { encodeMessage } from '../src/engine/core/osc/codec.ts';
import { execFile } from 'node:child_process';
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
    const before = control.stats.applied;
    const lateBefore = player.engine.stats.lateNotes;
    const script = `const s=require('node:dgram').createSocket('udp4');const b=Buffer.from('${bytes}','base64');let n=0;
      (function go(){for(let i=0;i<50&&n<${total};i++,n++)s.send(b,${port},'127.0.0.1');if(n<${total})setImmediate(go);else setTimeout(()=>s.close(),50)})();`;
    const t0 = performance.now();
    await new Promise<void>((resolve, reject) => execFile(process.execPath, ['-e', script], (e) => (e ? reject(e) : resolve())));
    const sendSeconds = (performance.now() - t0) / 1000;
    await new Promise((r) => setTimeout(r, 200));
    const handled = control.stats.applied - before;
    row('osc-packets-per-second', handled / sendSeconds, `packets/s handled from another process (${handled} of ${total}; the rest dropped by the kernel buffer)`);
    row('osc-late-notes', player.engine.stats.lateNotes - lateBefore, 'late notes while the packets came');
  } finally {
    await tx.close();
    await control.close();
    await player.stop();
  }
}
