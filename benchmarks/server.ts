/**
 * `ecosym serve` benchmarks, with a real session playing carbon-pulse in real
 * time with no device, behind the real server on loopback:
 * - command-to-param-p50/-p99: a WebSocket `param` command sent → the engine
 *   scheduling the parameter ramp (ms); command-to-param-vs-direct-p50: that ÷
 *   the same command handed to the session in-process (ratio: the transport's cost).
 * - telemetry-cost: CPU of this process (the audio thread included) while 3
 *   clients in another process receive telemetry at 30 frames/s, ÷ its CPU with
 *   no client (ratio, goal ≤ 1.10); median over alternating pairs of 2 s windows.
 *   telemetry-fps: frames a second each client got.
 */
import '../src/engine/node/platform/installGlobals.ts';
import { spawn } from 'node:child_process';
import WebSocket from 'ws';
import { loadPatchFile, PROJECT_ROOT, resolvePatchPath } from '../src/engine/node/files.ts';
import { Session } from '../src/engine/node/session/Session.ts';
import { startServer } from '../src/engine/node/server/server.ts';
import { medianOfSorted, quantile } from '../src/engine/core/filters.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** CPU time of this process over `ms` of wall time, as a fraction of one core. */
async function cpuOver(ms: number): Promise<number> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await sleep(ms);
  const d = process.cpuUsage(c0);
  return (d.user + d.system) / 1000 / (performance.now() - t0);
}

/**
 * Clients in a child process (their parsing is not this process's CPU): on
 * `connect` N WebSockets that parse every message, on `close` none.
 */
function clientsProcess(url: string, n: number): { connect(): void; close(): void; stop(): Promise<void> } {
  const script = `const W=require('ws');const u=process.argv[1];const n=Number(process.argv[2]);let ws=[];
    require('node:readline').createInterface({input:process.stdin}).on('line',(l)=>{
      if(l==='connect')for(let i=0;i<n;i++){const w=new W(u);w.on('message',(d)=>{JSON.parse(d.toString())});w.on('error',()=>{});ws.push(w);}
      else{for(const w of ws)w.close();ws=[];}});
    process.stdin.on('end',()=>process.exit(0));`;
  const child = spawn(process.execPath, ['-e', script, url, String(n)], { cwd: PROJECT_ROOT, stdio: ['pipe', 'ignore', 'ignore'] });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return {
    connect: () => child.stdin.write('connect\n'),
    close: () => child.stdin.write('close\n'),
    async stop() {
      child.stdin.end();
      await exited;
    },
  };
}

export async function benchServer(quick: boolean, row: (name: string, value: number, unit: string) => void): Promise<void> {
  const pf = loadPatchFile(resolvePatchPath('carbon-pulse'));
  const voice = Object.keys(pf.patch.voices)[0]!;
  const session = await Session.open({ patch: pf, sink: 'none', cacheDir: false, midi: false });
  await session.start();
  const server = await startServer({ link: session, port: 0 });
  try {
    // Command to parameter: each command waits for the previous one's ramp.
    const engine = session.engine;
    const set = engine.setParameter.bind(engine);
    let applied: ((t: number) => void) | undefined;
    engine.setParameter = (t, v, time) => {
      applied?.(performance.now());
      return set(t, v, time);
    };
    const count = quick ? 200 : 500;
    const target = `${voice}.volume`;
    const timed = async (send: (i: number) => void): Promise<number[]> => {
      const lat: number[] = [];
      for (let i = 0; i < count; i++) {
        const t0 = performance.now();
        const at = new Promise<number>((r) => (applied = r));
        send(i);
        lat.push((await at) - t0);
        await sleep(2);
      }
      applied = undefined;
      return lat;
    };
    const ws = new WebSocket(`${server.baseUrl.replace('http', 'ws')}api/ws?token=${server.token}`);
    await new Promise((r, j) => (ws.once('open', r), ws.once('error', j)));
    const viaWs = await timed((i) => ws.send(JSON.stringify({ type: 'param', target, value: -12 - (i % 10), id: i })));
    ws.close();
    const direct = await timed((i) => void session.handle({ type: 'param', target, value: -12 - (i % 10) }));
    engine.setParameter = set;
    row('command-to-param-p50', quantile(viaWs, 0.5), `ms (WebSocket command → ramp scheduled, ${count} commands)`);
    row('command-to-param-p99', quantile(viaWs, 0.99), 'ms');
    row('command-to-param-vs-direct-p50', quantile(viaWs, 0.5) / quantile(direct, 0.5), `ratio (in-process p50 ${quantile(direct, 0.5).toFixed(3)} ms)`);

    // Telemetry cost: many short windows, alternating no client and 3 (a busy machine's noise spreads over both).
    await sleep(1000);
    const pairs = quick ? 4 : 10;
    const windowMs = quick ? 1000 : 2000;
    const ratios: number[] = [];
    let fps = 0;
    const clients = clientsProcess(`${server.baseUrl.replace('http', 'ws')}api/ws?token=${server.token}`, 3);
    try {
      for (let p = 0; p < pairs; p++) {
        clients.close();
        while (server.clients() > 0) await sleep(20);
        await sleep(200);
        const idle = await cpuOver(windowMs);
        clients.connect();
        while (server.clients() < 3) await sleep(20);
        await sleep(200);
        const sent0 = server.stats.telemetrySent;
        const busy = await cpuOver(windowMs);
        fps = (server.stats.telemetrySent - sent0) / 3 / (windowMs / 1000);
        ratios.push(busy / idle);
      }
    } finally {
      await clients.stop();
    }
    ratios.sort((a, b) => a - b);
    row('telemetry-cost', medianOfSorted(ratios), `ratio (CPU with 3 clients at 30 fps ÷ none; ${pairs} pairs, quartiles ${quantile(ratios, 0.25).toFixed(3)}…${quantile(ratios, 0.75).toFixed(3)}; goal ≤ 1.10)`);
    row('telemetry-fps', fps, 'frames/s per client');
    row('telemetry-dropped', server.stats.telemetryDropped, 'frames');
  } finally {
    await server.close();
    await session.stop();
  }
}
