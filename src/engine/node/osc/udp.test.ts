import { afterEach, describe, expect, it } from 'vitest';
import dgram from 'node:dgram';
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { OscUdpPort, type OscReceived, type OscUdpPortOptions } from './udp.ts';
import {
  encodePacket,
  epochSecondsToTimetag,
  OscEncodeError,
  tryDecodePacket,
  type OscBundle,
  type OscMessage,
  type OscPacket,
} from '../../core/osc/codec.ts';
import {
  FUZZ_LIMITS,
  malformedPacket,
  mutatedPacket,
  oversizePacket,
  pathologicalPatternPacket,
  validMessage,
  type Rng,
} from '../../../../tests/support/fuzzPackets.ts';
import { mulberry32 } from '../../core/random.ts';
import { OscAddressSpace } from '../../core/osc/pattern.ts';
import { garbageCollector } from '../platform/gc.ts';
import { until, UNTIL_MS } from '../../../../tests/support/wait.ts';

const execFileAsync = promisify(execFile);

/** Ports opened by a test, closed after it even when it fails. */
const opened: OscUdpPort[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((p) => p.close()));
});

async function openPort(options: OscUdpPortOptions = {}): Promise<OscUdpPort> {
  const port = new OscUdpPort(options);
  opened.push(port);
  await port.open({ host: '127.0.0.1', port: 0 });
  return port;
}

/** Counts of the resource kinds that would leak: sockets and timers. */
function handles(): { udp: number; timeouts: number } {
  const info = process.getActiveResourcesInfo();
  return { udp: info.filter((n) => n === 'UDPWrap').length, timeouts: info.filter((n) => n === 'Timeout').length };
}

/** No more sockets than before, and no more timers (vitest's own timers come and go, so not equality). */
function expectNoGrowth(before: { udp: number; timeouts: number }): void {
  const now = handles();
  expect(now.udp).toBe(before.udp);
  expect(now.timeouts).toBeLessThanOrEqual(before.timeouts);
}

const msg = (address: string, ...args: OscMessage['args']): OscMessage => ({ address, args });

describe('OscUdpPort basics', () => {
  it('opens on port 0, exposes the bound port, round-trips a message with sender and no time', async () => {
    const got: OscReceived[] = [];
    const rx = await openPort({ onMessage: (r) => got.push(r) });
    const tx = await openPort();
    expect(rx.port).toBeGreaterThan(0);
    expect(rx.isOpen).toBe(true);
    const m = msg('/a/b', { type: 'i', value: 1 }, { type: 'f', value: 2.5 }, { type: 's', value: 'hello' });
    expect(await tx.send(m, '127.0.0.1', rx.port!)).toBe(true);
    await until(() => got.length === 1, 'the message');
    expect(got[0]).toStrictEqual({
      message: m,
      sender: { address: '127.0.0.1', port: tx.port, family: 'IPv4' },
      time: undefined,
      timetag: undefined,
      late: false,
    });
    expect(rx.stats()).toMatchObject({ received: 1, delivered: 1, malformed: 0 });
  });

  it('bundle times: immediate → undefined, past → late, near future → its time, far future → dropped', async () => {
    const now = 2_000_000_000; // a fixed clock makes the times exact
    const got: OscReceived[] = [];
    const rx = await openPort({ now: () => now, onMessage: (r) => got.push(r) });
    const nearRx = await openPort({ now: () => now, maxFutureSeconds: 10, onMessage: (r) => got.push(r) });
    const tx = await openPort();
    const at = (epoch: number, ...elements: OscPacket[]): OscBundle => ({ timetag: epochSecondsToTimetag(epoch), elements });
    const packets: OscPacket[] = [
      { timetag: { seconds: 0, fraction: 1 }, elements: [msg('/immediate')] },
      at(now - 3600, msg('/past')),
      at(now + 5.5, msg('/soon')),
      at(now + 61, msg('/far')),
      // a nested bundle is never due before its parent; an immediate child inherits the parent's time
      at(now + 2, at(now + 1, msg('/nested-earlier')), { timetag: { seconds: 0, fraction: 1 }, elements: [msg('/nested-immediate')] }),
    ];
    for (const p of packets) await tx.send(p, '127.0.0.1', rx.port!);
    // a port that takes at most 10 s ahead: 9 s passes, 11 s is dropped
    await tx.send(at(now + 11, msg('/beyond')), '127.0.0.1', nearRx.port!);
    await tx.send(at(now + 9, msg('/within')), '127.0.0.1', nearRx.port!);
    await until(() => got.length === 6 && nearRx.stats().received === 2, 'six messages');
    const by = Object.fromEntries(got.map((r) => [r.message.address, { time: r.time, late: r.late }]));
    expect(by).toStrictEqual({
      '/immediate': { time: undefined, late: false },
      '/past': { time: now - 3600, late: true },
      '/soon': { time: now + 5.5, late: false },
      '/nested-earlier': { time: now + 2, late: false },
      '/nested-immediate': { time: now + 2, late: false },
      '/within': { time: now + 9, late: false },
    });
    expect(rx.stats()).toMatchObject({ received: 5, delivered: 5, dropped: 1, farFuture: 1, late: 1 });
    expect(nearRx.stats()).toMatchObject({ received: 2, delivered: 1, dropped: 1, farFuture: 1 });
  });

  it('a throwing listener goes to onError; the next message is still delivered, to every listener', async () => {
    const errors: [string, string][] = [];
    const delivered: string[] = [];
    const rx = await openPort({
      onError: (e, src) => errors.push([(e as Error).message, src.kind]),
      onMessage: (r) => {
        if (r.message.address === '/bad') throw new Error('listener bug');
        delivered.push(r.message.address);
      },
    });
    rx.onMessage((r) => {
      if (r.message.address === '/bad') throw new Error('second listener bug');
      delivered.push(`second:${r.message.address}`);
    });
    const tx = await openPort();
    await tx.send(msg('/bad'), '127.0.0.1', rx.port!);
    await tx.send(msg('/good'), '127.0.0.1', rx.port!);
    await until(() => rx.stats().delivered === 2, 'two deliveries');
    expect(errors).toStrictEqual([
      ['listener bug', 'handler'],
      ['second listener bug', 'handler'],
    ]);
    expect(delivered).toStrictEqual(['/good', 'second:/good']);
    expect(rx.stats().handlerErrors).toBe(2);
  });

  it('socket errors and failed sends are counted, never thrown; onError that throws is contained', async () => {
    const kinds: string[] = [];
    const rx = await openPort({
      onError: (_e, src) => {
        kinds.push(src.kind);
        throw new Error('the reporter itself fails');
      },
    });
    // A socket error after open (as the OS would report asynchronously).
    (rx as unknown as { socket: dgram.Socket }).socket.emit('error', new Error('ECONNRESET (simulated)'));
    expect(await rx.send(new Uint8Array(70_000), '127.0.0.1', rx.port!)).toBe(false); // EMSGSIZE
    expect(await rx.send(msg('/x'), '127.0.0.1', 0)).toBe(false); // port 0: refused by dgram
    expect(kinds).toStrictEqual(['socket', 'send', 'send']);
    expect(rx.stats()).toMatchObject({ socketErrors: 1, sendErrors: 2 });
    expect(rx.stats().lastError).toContain('ECONNRESET');
    // still receiving
    const tx = await openPort();
    await tx.send(msg('/alive'), '127.0.0.1', rx.port!);
    await until(() => rx.stats().delivered === 1, 'the message');
  });

  it('send: an invalid packet throws OscEncodeError at once; a closed port throws; open twice rejects; bind failure rejects', async () => {
    const before = handles();
    const a = await openPort();
    expect(() => a.send(msg('no-slash'), '127.0.0.1', 9)).toThrow(OscEncodeError);
    await expect(a.open()).rejects.toThrow(/already open/);
    const b = new OscUdpPort();
    await expect(b.open({ host: '127.0.0.1', port: a.port! })).rejects.toThrow(/EADDRINUSE/);
    expect(handles().udp).toBe(before.udp + 1); // the socket of the failed open is already released
    await expect(new OscUdpPort().open({ port: 70_000 })).rejects.toThrow(/0\.\.65535/); // dgram itself would bind 4464
    await a.close();
    expect(a.port).toBeUndefined();
    expect(() => a.send(msg('/x'), '127.0.0.1', 9)).toThrow(/not open/);
    await a.close(); // twice is fine
    await b.close();
    expectNoGrowth(before);
  });

  it('close() leaves no socket or timer behind', async () => {
    const before = handles();
    const p = new OscUdpPort();
    await p.open();
    const tx = new OscUdpPort();
    await tx.open();
    await tx.send({ timetag: epochSecondsToTimetag(Date.now() / 1000 + 20), elements: [msg('/later')] }, '127.0.0.1', p.port!);
    await until(() => p.stats().delivered === 1, 'the message');
    expect(handles().udp).toBe(before.udp + 2);
    await Promise.all([p.close(), tx.close()]);
    expectNoGrowth(before);
  });
});

// ------------------------------------------------------------------ fuzz

type Expectation = { kind: 'valid'; id: number; message: OscMessage; time: 'none' | 'past' | 'soon'; sent: number } | { kind: 'pattern' };

/**
 * One packet of the fuzz mix, and what the port must make of it. Malformed
 * packets are malformed by construction (codec.test.ts checks each kind
 * against the decoder); mutations are kept only when the decoder rejects them.
 */
function fuzzPacket(rng: Rng, id: number, now: number): { bytes: Uint8Array; expect: 'malformed' | 'oversize' | 'dropped' | Expectation } {
  const r = rng();
  if (r < 0.6) return { bytes: malformedPacket(rng).bytes, expect: 'malformed' };
  if (r < 0.68) {
    for (;;) {
      const bytes = mutatedPacket(rng);
      if (!tryDecodePacket(bytes, FUZZ_LIMITS).ok) return { bytes, expect: 'malformed' };
    }
  }
  if (r < 0.69) return { bytes: oversizePacket(rng), expect: 'oversize' };
  if (r < 0.73) return { bytes: pathologicalPatternPacket(rng), expect: { kind: 'pattern' } };
  if (r < 0.76) {
    const far = rng() < 0.5 ? now + 3600 + rng() * 1e6 : now + 61 + rng() * 100; // an hour+ or just past the bound
    return { bytes: encodePacket({ timetag: epochSecondsToTimetag(far), elements: [validMessage(rng, -1)] }), expect: 'dropped' };
  }
  const message = validMessage(rng, id);
  const wrap = rng();
  if (wrap < 0.6) return { bytes: encodePacket(message), expect: { kind: 'valid', id, message, time: 'none', sent: now } };
  if (wrap < 0.8) {
    return {
      bytes: encodePacket({ timetag: epochSecondsToTimetag(now - 1 - rng() * 1e5), elements: [message] }),
      expect: { kind: 'valid', id, message, time: 'past', sent: now },
    };
  }
  return {
    bytes: encodePacket({ timetag: epochSecondsToTimetag(now + 10 + rng() * 40), elements: [{ timetag: { seconds: 0, fraction: 1 }, elements: [message] }] }),
    expect: { kind: 'valid', id, message, time: 'soon', sent: now },
  };
}

describe('fuzz over real UDP on 127.0.0.1', () => {
  it('16,000 packets, over 10,000 of them malformed or hostile, interleaved with valid ones: every valid one delivered intact, every bad one counted, nothing leaks', async () => {
    const SEED = 20261126;
    const TOTAL = 16_000;
    const rng = mulberry32(SEED);
    const gc = garbageCollector();
    const before = handles();

    const delivered = new Map<number, OscReceived>();
    let patternDeliveries = 0;
    let methodCalls = 0;
    let unmatched = 0;
    const errors: string[] = [];
    // hostile address patterns meet an address space the way OscControl dispatches them
    const space = new OscAddressSpace<OscReceived>();
    for (let k = 0; k < 50; k++) space.add(`/valid/${k}`, () => methodCalls++);
    const rx = await openPort({
      limits: FUZZ_LIMITS,
      onMessage: (r) => {
        if (space.dispatch(r.message, r) === 0) unmatched++;
        const m = /^\/valid\/(\d+)$/.exec(r.message.address);
        if (m) {
          const id = Number(m[1]);
          expect(delivered.has(id), `delivered twice: ${id}`).toBe(false);
          delivered.set(id, r);
          if (id % 97 === 0) throw new Error(`listener fails on ${id}`); // must not stop anything
        } else patternDeliveries++;
      },
      onError: (e) => errors.push((e as Error).message),
    });
    const tx = await openPort();
    const duringOpen = handles();

    const want = { malformed: 0, oversize: 0, dropped: 0, pattern: 0 };
    const expected = new Map<number, Extract<Expectation, { kind: 'valid' }>>();
    let nextId = 0;
    let sent = 0;
    let batch: Promise<boolean>[] = [];
    let batchBytes = 0;
    let heapAfterWarmup = 0;
    const t0 = performance.now();

    const flush = async (): Promise<void> => {
      expect((await Promise.all(batch)).every(Boolean)).toBe(true);
      batch = [];
      batchBytes = 0;
      // Pace: wait until the port has every datagram sent so far (loopback drops only when its buffer overflows).
      await until(() => rx.stats().received === sent, `datagram ${sent}`, UNTIL_MS, 1);
    };

    for (let n = 0; n < TOTAL; n++) {
      const now = Date.now() / 1000;
      const p = fuzzPacket(rng, nextId, now);
      if (typeof p.expect === 'string') want[p.expect]++;
      else if (p.expect.kind === 'pattern') want.pattern++;
      else {
        expected.set(p.expect.id, p.expect);
        nextId++;
      }
      batch.push(tx.send(p.bytes, '127.0.0.1', rx.port!));
      sent++;
      batchBytes += p.bytes.length;
      if (batch.length >= 64 || batchBytes > 64 * 1024) await flush();
      if (n === 1000) {
        await flush();
        gc?.();
        heapAfterWarmup = process.memoryUsage().heapUsed;
      }
    }
    await flush();
    const elapsedMs = performance.now() - t0;

    const s = rx.stats();
    expect(want.malformed + want.oversize).toBeGreaterThanOrEqual(10_000); // undecodable, not counting hostile-but-valid
    expect(s.received).toBe(TOTAL);
    expect(s.malformed).toBe(want.malformed);
    expect(s.oversize).toBe(want.oversize);
    expect(s.dropped).toBe(want.dropped);
    expect(s.farFuture).toBe(want.dropped);
    expect(patternDeliveries).toBe(want.pattern);
    expect(s.delivered).toBe(expected.size + want.pattern);
    expect(unmatched).toBe(s.delivered - methodCalls);
    expect(methodCalls).toBe([...expected.keys()].filter((id) => id < 50).length);

    // every valid packet arrived once, intact, with the right time
    expect(delivered.size).toBe(expected.size);
    let late = 0;
    for (const [id, e] of expected) {
      const got = delivered.get(id);
      expect(got, `valid packet ${id} missing`).toBeDefined();
      expect(got!.message).toStrictEqual(e.message);
      if (e.time === 'none') expect(got!.time).toBeUndefined();
      if (e.time === 'past') {
        expect(got!.late).toBe(true);
        late++;
      }
      // ahead of when it was sent (comparing with now would depend on how long the run took)
      if (e.time === 'soon') expect(got!.time! - e.sent).toBeGreaterThan(9);
    }
    expect(s.late).toBe(late);
    const listenerFailures = [...expected.keys()].filter((id) => id % 97 === 0).length;
    expect(s.handlerErrors).toBe(listenerFailures);
    expect(errors.length).toBe(listenerFailures);

    // no timer or socket growth while running, none left after close; heap bounded
    expect(handles().timeouts).toBeLessThanOrEqual(duringOpen.timeouts);
    expect(handles().udp).toBe(duringOpen.udp);
    gc?.();
    const heapGrowth = process.memoryUsage().heapUsed - heapAfterWarmup;
    await rx.close();
    await tx.close();
    expectNoGrowth(before);
    if (gc) expect(heapGrowth).toBeLessThan(16 * 1024 * 1024);

    // still alive and well: a fresh port on the same process works
    const again = await openPort();
    const tx2 = await openPort();
    const got: OscReceived[] = [];
    again.onMessage((r) => got.push(r));
    await tx2.send(msg('/after/fuzz', { type: 'i', value: 1 }), '127.0.0.1', again.port!);
    await until(() => got.length === 1, 'the message');

    console.info(
      `OSC UDP fuzz (seed ${SEED}): ${TOTAL} packets in ${elapsedMs.toFixed(0)} ms — malformed ${want.malformed}, oversize ${want.oversize}, ` +
        `far-future ${want.dropped}, pathological patterns ${want.pattern}, valid ${expected.size}; ` +
        `heap growth ${gc ? `${(heapGrowth / 1024 / 1024).toFixed(2)} MiB` : 'n/a (no gc)'}`,
    );
  });
});

// ------------------------------------------------------------------ liblo

const OSCSEND = '/usr/bin/oscsend';
const OSCDUMP = '/usr/bin/oscdump';
const haveLiblo = existsSync(OSCSEND) && existsSync(OSCDUMP);

describe.skipIf(!haveLiblo)(`interop with liblo-tools (oscsend, oscdump)${haveLiblo ? '' : ' — skipped: /usr/bin/oscsend or oscdump missing (apt install liblo-tools)'}`, () => {
  it('oscsend /a/b ifs 1 2.5 hello → our port receives exactly that', async () => {
    const got: OscReceived[] = [];
    const rx = await openPort({ onMessage: (r) => got.push(r) });
    await execFileAsync(OSCSEND, ['127.0.0.1', String(rx.port), '/a/b', 'ifs', '1', '2.5', 'hello']);
    await until(() => got.length === 1, 'the message');
    expect(got[0]!.message).toStrictEqual(msg('/a/b', { type: 'i', value: 1 }, { type: 'f', value: 2.5 }, { type: 's', value: 'hello' }));
    expect(got[0]!.sender.address).toBe('127.0.0.1');
    expect(rx.stats()).toMatchObject({ received: 1, delivered: 1, malformed: 0 });
  });

  it('oscsend with the extension types h T F N I c d S m, and with no arguments', async () => {
    const got: OscReceived[] = [];
    const rx = await openPort({ onMessage: (r) => got.push(r) });
    await execFileAsync(OSCSEND, ['127.0.0.1', String(rx.port), '/x', 'hTFNIcdSm', '5', 'c', '1.5', 'sym', '90817263']);
    await execFileAsync(OSCSEND, ['127.0.0.1', String(rx.port), '/empty']);
    await until(() => got.length === 2, 'two messages');
    expect(got[0]!.message).toStrictEqual(
      msg(
        '/x',
        { type: 'h', value: 5n },
        { type: 'T', value: true },
        { type: 'F', value: false },
        { type: 'N', value: null },
        { type: 'I', value: Infinity },
        { type: 'c', value: 'c' },
        { type: 'd', value: 1.5 },
        { type: 'S', value: 'sym' },
        { type: 'm', value: { port: 0x90, status: 0x81, data1: 0x72, data2: 0x63 } },
      ),
    );
    expect(got[1]!.message).toStrictEqual(msg('/empty'));
  });

  it('our port → oscdump: messages of every type liblo knows, and a bundle whose timetag oscdump prints', async () => {
    // A free port for oscdump: bind one, note it, release it.
    const probe = dgram.createSocket('udp4');
    await new Promise<void>((r) => probe.bind(0, '127.0.0.1', r));
    const dumpPort = probe.address().port;
    await new Promise<void>((r) => probe.close(() => r()));

    const dump = spawn(OSCDUMP, ['-L', String(dumpPort)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    dump.stdout.on('data', (d: Buffer) => (out += d.toString()));
    dump.stderr.on('data', (d: Buffer) => (out += `[stderr] ${d.toString()}`));
    const exited = new Promise((r) => dump.once('exit', r));
    try {
      const tx = await openPort();
      const message = msg(
        '/eco/wind',
        { type: 'i', value: 3 },
        { type: 'f', value: 0.5 },
        { type: 's', value: 'gust' },
        { type: 'T', value: true },
        { type: 'F', value: false },
        { type: 'N', value: null },
        { type: 'I', value: Infinity },
        { type: 'd', value: 2.25 },
        { type: 'h', value: -5n },
        { type: 'c', value: 'x' },
        { type: 'S', value: 'sym' },
        { type: 'm', value: { port: 1, status: 0x90, data1: 60, data2: 100 } },
        { type: 'b', value: Uint8Array.of(1, 2, 3) },
        { type: 't', value: { seconds: 1, fraction: 2 } },
      );
      const bundle: OscBundle = {
        timetag: { seconds: 0xdeadbeef, fraction: 0x12345678 }, // 2018: in the past, so liblo delivers it at once
        elements: [msg('/in/bundle', { type: 'i', value: 42 })],
      };
      const line =
        '/eco/wind ifsTFNIdhcSmbt 3 0.500000 "gust" #T #F Nil Infinitum 2.250000 -5 \'x\' \'sym MIDI [0x01 0x90 0x3c 0x64] [3b 0x1 0x2 0x3] 00000001.00000002';
      const bundleLine = 'deadbeef.12345678 /in/bundle i 42';
      // oscdump prints nothing when it is ready: resend every 100 ms until it shows both (at most 5 s).
      const t0 = Date.now();
      while (!(out.includes(line) && out.includes(bundleLine))) {
        if (Date.now() - t0 > 5000) throw new Error(`oscdump did not show the messages; it printed ${JSON.stringify(out)}`);
        expect(await tx.send(message, '127.0.0.1', dumpPort)).toBe(true);
        expect(await tx.send(bundle, '127.0.0.1', dumpPort)).toBe(true);
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(out).not.toContain('error');
    } finally {
      dump.kill();
      await exited;
    }
  });
});
