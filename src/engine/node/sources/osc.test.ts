/** OSC in as data over real UDP: from liblo's oscsend and from our own port, with bundles, patterns and junk. */
import { afterEach, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { OscSource } from './osc.ts';
import { OscUdpPort } from '../osc/udp.ts';
import { epochSecondsToTimetag } from '../../core/osc/codec.ts';
import { parseSourceUri, type SourceSpec } from '../../core/sources/uri.ts';
import type { FeedRecord } from '../../core/sources/records.ts';
import { freePort } from '../../../../tests/support/mosquitto.ts';
import { until } from '../../../../tests/support/wait.ts';
import { HAVE_LIBLO, NEEDS_LIBLO } from '../../../../tests/support/liblo.ts';

const stops: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const s of stops.splice(0)) await s();
});

function listen(uri: string) {
  const got: FeedRecord[] = [];
  const errors: string[] = [];
  const src = new OscSource(parseSourceUri(uri) as Extract<SourceSpec, { kind: 'osc' }>, {
    records: (r) => got.push(...r),
    error: (e) => errors.push((e as Error).message),
    connecting: () => {},
  });
  src.start();
  stops.push(() => src.stop());
  return { src, got, errors };
}

/** Resolves when the sources' shared port is bound (a datagram sent before is lost). A fixed 50 ms sleep was a guess. */
async function bound(...sources: Array<{ src: OscSource }>): Promise<void> {
  await Promise.all(sources.map(({ src }) => (src as unknown as { lease: { ready: Promise<unknown> } }).lease.ready));
}

async function sender() {
  const p = new OscUdpPort();
  await p.open({ host: '127.0.0.1', port: 0 });
  stops.push(() => p.close());
  return p;
}

describe('OscSource', () => {
  it.skipIf(!HAVE_LIBLO)(`takes a value from liblo oscsend (a real peer), by argument index${NEEDS_LIBLO}`, async () => {
    const port = await freePort();
    const s = listen(`osc://127.0.0.1:${port}/sensor/temp#1`);
    await bound(s);
    await new Promise<void>((resolve, reject) =>
      execFile('oscsend', ['127.0.0.1', String(port), '/sensor/temp', 'sfi', 'roof', '21.5', '3'], (e) => (e ? reject(e) : resolve())),
    );
    await until(() => s.got.length === 1, 'the message');
    expect(s.got[0]!.value).toBe(21.5);
    expect(s.got[0]!.data).toEqual({ address: '/sensor/temp' });
  });

  it('two streams share a port; a wildcard source hears several addresses; bundles carry their time', async () => {
    const port = await freePort();
    const a = listen(`osc://127.0.0.1:${port}/river/*/level`);
    const b = listen(`osc://127.0.0.1:${port}/air/pm25`);
    await bound(a, b);
    const tx = await sender();
    const at = Math.floor(Date.now() / 1000) - 5;
    await tx.send({ address: '/river/north/level', args: [{ type: 'f', value: 1.5 }] }, '127.0.0.1', port);
    await tx.send({ timetag: epochSecondsToTimetag(at), elements: [{ address: '/river/south/level', args: [{ type: 'd', value: 2.25 }] }] }, '127.0.0.1', port);
    await tx.send({ address: '/air/pm25', args: [{ type: 'i', value: 12 }] }, '127.0.0.1', port);
    await tx.send({ address: '/air/*', args: [{ type: 'i', value: 13 }] }, '127.0.0.1', port); // an incoming pattern
    await tx.send({ address: '/other', args: [{ type: 'i', value: 99 }] }, '127.0.0.1', port);
    await until(() => a.got.length === 2 && b.got.length === 2, 'four values');
    expect(a.got.map((r) => r.value)).toEqual([1.5, 2.25]);
    expect(a.got[1]!.dataTime).toBe(at);
    expect(b.got.map((r) => r.value)).toEqual([12, 13]);
  });

  it('junk on the port is dropped by the OSC layer and the next message still arrives', async () => {
    const port = await freePort();
    const s = listen(`osc://127.0.0.1:${port}/x`);
    await bound(s);
    const raw = createSocket('udp4');
    for (const junk of ['/x\0\0,f', '#bundle\0garbage', '\0\0\0\0', '/x\0\0,q\0\0\0\0\0\0']) await new Promise((r) => raw.send(Buffer.from(junk, 'latin1'), port, '127.0.0.1', r));
    raw.close();
    const tx = await sender();
    await tx.send({ address: '/x', args: [{ type: 's', value: 'rain' }] }, '127.0.0.1', port);
    await tx.send({ address: '/x', args: [{ type: 'b', value: new Uint8Array(4) }] }, '127.0.0.1', port);
    await until(() => s.got.length === 2, 'two messages');
    expect(s.got.map((r) => r.value)).toEqual(['rain', null]); // a blob is no value: the gate will reject it
    expect(s.errors).toEqual([]);
  });

  it('a port already taken by another program is a clear error', async () => {
    const blocker = createSocket('udp4');
    await new Promise<void>((r) => blocker.bind(0, '127.0.0.1', () => r()));
    const port = blocker.address().port;
    const s = listen(`osc://127.0.0.1:${port}/x`);
    await until(() => s.errors.length === 1, 'the error');
    expect(s.errors[0]).toMatch(new RegExp(`cannot listen for OSC on 127.0.0.1:${port}: .*EADDRINUSE`));
    blocker.close();
  });
});
