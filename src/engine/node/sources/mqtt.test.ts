/** MQTT feeds against Debian's mosquitto on loopback, including a broker restart mid-stream. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import mqtt from 'mqtt';
import { MqttSource } from './mqtt.ts';
import { parseSourceUri, type SourceSpec } from '../../core/sources/uri.ts';
import type { FeedRecord } from '../../core/sources/records.ts';
import { Broker, MOSQUITTO, NEEDS_MOSQUITTO } from '../../../../tests/support/mosquitto.ts';
import { until } from '../../../../tests/support/wait.ts';
import { PatchSchema } from '../../core/patchSchema.ts';
import { SourceHub } from './hub.ts';

let broker: Broker;
beforeAll(async () => {
  if (MOSQUITTO) broker = await Broker.start();
});
afterAll(() => broker?.down());

async function publisher() {
  const c = await mqtt.connectAsync(broker.url, { reconnectPeriod: 100 });
  return c;
}

function subscribe(uri: string) {
  const got: FeedRecord[] = [];
  const errors: string[] = [];
  let connecting = 0;
  const src = new MqttSource(parseSourceUri(uri) as Extract<SourceSpec, { kind: 'mqtt' }>, {
    records: (r) => got.push(...r),
    error: (e) => errors.push((e as Error).message),
    connecting: () => connecting++,
  }, { reconnectMs: 100 });
  src.start();
  // The broker's SUBACKs, seen on the source's client: until one comes, a publish is lost
  // (a fixed 100 ms sleep was a guess that a loaded machine can miss).
  let subacks = 0;
  (src as unknown as { client: mqtt.MqttClient }).client.on('packetreceive', (packet) => void (packet.cmd === 'suback' && subacks++));
  return { src, got, errors, connecting: () => connecting, subacks: () => subacks };
}

describe.skipIf(!MOSQUITTO)(`MqttSource${NEEDS_MOSQUITTO}`, () => {
  it('receives numeric, JSON and text payloads on a wildcard topic, with the topic in data', async () => {
    const s = subscribe(`${broker.url}/sensors/+/temp#$.v&qos=1`);
    await until(() => s.subacks() >= 1, 'the subscription acknowledged');
    const pub = await publisher();
    await pub.publishAsync('sensors/roof/temp', '12.5', { qos: 1 });
    await pub.publishAsync('sensors/yard/temp', JSON.stringify({ v: 13.25, time: 1764139500 }), { qos: 1 });
    await pub.publishAsync('sensors/yard/humidity', '80', { qos: 1 }); // not subscribed
    await pub.publishAsync('sensors/roof/temp', 'offline', { qos: 1 });
    await until(() => s.got.length === 3, 'three messages');
    expect(s.got.map((r) => [r.value, r.data?.topic])).toEqual([
      ['12.5', 'sensors/roof/temp'],
      [13.25, 'sensors/yard/temp'],
      ['offline', 'sensors/roof/temp'],
    ]);
    expect(s.got[1]!.dataTime).toBe(1764139500);
    await pub.endAsync();
    await s.src.stop();
  });

  it('reports a malformed JSON payload as an error and keeps receiving', async () => {
    const s = subscribe(`${broker.url}/bad/json#$.v&payload=json`);
    await until(() => s.subacks() >= 1, 'the subscription acknowledged');
    const pub = await publisher();
    await pub.publishAsync('bad/json', '{"v":', { qos: 1 });
    await pub.publishAsync('bad/json', '{"v": 3}', { qos: 1 });
    await until(() => s.got.length === 1, 'the good message');
    expect(s.errors[0]).toMatch(/^bad\/json: invalid JSON message/);
    await pub.endAsync();
    await s.src.stop();
  });

  it('reconnects and resubscribes after the broker restarts mid-stream', async () => {
    const s = subscribe(`${broker.url}/river/level`);
    await until(() => s.subacks() >= 1, 'the subscription acknowledged');
    const pub = await publisher();
    await pub.publishAsync('river/level', '1.5', { qos: 1 });
    await until(() => s.got.length === 1, 'a value before the restart');
    const subscribed = s.subacks();
    await broker.down();
    await until(() => s.errors.length >= 1, 'the outage noticed');
    await broker.up();
    await until(() => s.src.stats.connects === 2, 'reconnected');
    await until(() => s.subacks() > subscribed, 'resubscribed');
    await until(() => pub.connected, 'publisher reconnected');
    await pub.publishAsync('river/level', '1.75', { qos: 1 });
    await until(() => s.got.length === 2, 'a value after the restart');
    expect(s.got.map((r) => r.value)).toEqual(['1.5', '1.75']);
    expect(s.connecting()).toBeGreaterThanOrEqual(2);
    await pub.endAsync();
    await s.src.stop();
  });

  it('takes credentials from the environment only', async () => {
    const seen: Array<string | undefined> = [];
    const spec = parseSourceUri(`${broker.url}/x`) as Extract<SourceSpec, { kind: 'mqtt' }>;
    const src = new MqttSource(spec, { records: () => {}, error: () => {}, connecting: () => {} }, {
      env: { ECOSYM_MQTT_USERNAME: 'alice', ECOSYM_MQTT_PASSWORD: 's3cret' },
    });
    src.start();
    const client = (src as unknown as { client: mqtt.MqttClient }).client;
    seen.push(client.options.username, client.options.password as string | undefined);
    await src.stop();
    expect(seen).toEqual(['alice', 's3cret']);
  });

  it('shows the link down the moment the broker dies, while the stale limit still governs the value', async () => {
    const patch = PatchSchema.parse({
      name: 'link',
      streams: { level: { source: `${broker.url}/link/level`, stale: { after: 600, then: 'hold' } } },
      voices: { pad: { synth: 'fm', rhythm: { hold: true } } },
    });
    let now = 1000;
    const delivered: Array<number | string> = [];
    const links: string[] = [];
    const hub = new SourceHub({
      patch,
      baseDir: '.',
      cacheDir: false,
      now: () => now,
      deliver: (_s, v) => delivered.push(v),
      onConnection: (_s, c) => links.push(`${c.from ?? '-'}>${c.to}`),
    });
    hub.start();
    try {
      const status = () => hub.statuses()[0]!;
      await until(() => status().connection === 'connected', 'connected');
      await new Promise((r) => setTimeout(r, 100)); // the subscription is acknowledged
      const pub = await publisher();
      await pub.publishAsync('link/level', '4.5', { qos: 1 });
      await pub.endAsync();
      await until(() => status().state === 'live', 'a live value');
      const down = now;
      await broker.down();
      // At once: no stale limit to wait for (the hub's clock has not moved).
      await until(() => status().connection === 'disconnected', 'the link down', 5_000);
      expect(status()).toMatchObject({ state: 'live', lastValue: 4.5, connection: 'disconnected', connectionSince: down });
      expect(delivered).toEqual([4.5]); // the value held; nothing glided or replayed
      now += 601; // the data's age passes the stale limit
      hub.tick();
      expect(status()).toMatchObject({ state: 'stale', connection: 'disconnected' });
      expect(links[0]).toBe('->connected');
      expect(links).toContain('connected>disconnected');
    } finally {
      await hub.stop();
      await broker.up();
    }
  });
});
