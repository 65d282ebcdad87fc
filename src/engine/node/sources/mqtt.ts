/**
 * MQTT feeds (mqtt.js): a topic with wildcards, numeric, JSON or text payloads,
 * a QoS, reconnection. Credentials come from the environment only
 * (ECOSYM_MQTT_USERNAME, ECOSYM_MQTT_PASSWORD), never from a patch or a URI.
 * Each record's data carries the topic it came on. The link is reported apart
 * from the data: disconnected the moment the broker connection closes.
 */
import mqtt from 'mqtt';
import type { SourceSpec } from '../../core/sources/uri.ts';
import { decodePayload } from './payload.ts';
import { guarded, type Source, type SourceSink } from './types.ts';

type MqttSpec = Extract<SourceSpec, { kind: 'mqtt' }>;

export class MqttSource implements Source {
  private client: mqtt.MqttClient | undefined;
  private readonly sink: SourceSink;
  readonly stats = { connects: 0, messages: 0 };

  constructor(
    readonly spec: MqttSpec,
    sink: SourceSink,
    private readonly options: { reconnectMs?: number; env?: NodeJS.ProcessEnv } = {},
  ) {
    this.sink = guarded(sink);
  }

  start(): void {
    const env = this.options.env ?? process.env;
    this.sink.connecting();
    const client = mqtt.connect(this.spec.broker, {
      username: env.ECOSYM_MQTT_USERNAME || undefined,
      password: env.ECOSYM_MQTT_PASSWORD || undefined,
      reconnectPeriod: this.options.reconnectMs ?? 1000,
      connectTimeout: 10_000,
      clean: true,
      clientId: `ecosym-${process.pid}-${Math.random().toString(16).slice(2, 10)}`,
    });
    this.client = client;
    client.on('connect', () => {
      this.stats.connects++;
      this.sink.connected?.();
      client.subscribe(this.spec.topic, { qos: this.spec.qos }, (err, granted) => {
        if (err) this.sink.error(err);
        else if (granted?.some((g) => g.qos === 128)) this.sink.error(new Error(`the broker refused the subscription to "${this.spec.topic}"`));
      });
    });
    client.on('reconnect', () => this.sink.connecting());
    client.on('error', (e) => this.sink.error(e));
    // 'close' comes at once when the broker goes (and after each failed retry: the link stays down).
    client.on('close', () => this.sink.disconnected?.(new Error(`no connection to broker ${this.spec.broker}`)));
    client.on('offline', () => this.sink.error(new Error(`broker ${this.spec.broker} unreachable`)));
    client.on('message', (topic, payload) => {
      this.stats.messages++;
      try {
        const records = decodePayload(payload.toString('utf8'), this.spec, this.spec.payload);
        for (const r of records) r.data = { ...(r.data ?? {}), topic };
        this.sink.records(records);
      } catch (e) {
        this.sink.error(new Error(`${topic}: ${(e as Error).message}`));
      }
    });
  }

  async stop(): Promise<void> {
    const c = this.client;
    if (!c) return;
    c.removeAllListeners('message');
    await c.endAsync(true).catch(() => undefined);
  }
}
