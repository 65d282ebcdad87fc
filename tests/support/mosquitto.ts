/**
 * A real MQTT broker for tests: Debian's mosquitto, started on a free loopback
 * port with its own config, and restartable on the same port (to test
 * reconnection). .ci/run installs the package.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const MOSQUITTO = ['/usr/sbin/mosquitto', '/usr/bin/mosquitto'].find((p) => spawnSync(p, ['-h']).error === undefined);

/** Appended to the names of tests that need the broker, so a skip says why (CI installs it). */
export const NEEDS_MOSQUITTO = MOSQUITTO ? '' : ' — skipped: mosquitto is not installed (apt-get install mosquitto)';

/** A free TCP port on loopback. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

export class Broker {
  private proc: ChildProcess | undefined;
  readonly config: string;

  private constructor(readonly port: number) {
    const dir = mkdtempSync(join(tmpdir(), 'ecosym-mqtt-'));
    this.config = join(dir, 'mosquitto.conf');
    writeFileSync(this.config, `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\nlog_dest none\n`);
  }

  static async start(): Promise<Broker> {
    if (!MOSQUITTO) throw new Error('mosquitto is not installed (apt-get install mosquitto; .ci/run does this)');
    const b = new Broker(await freePort());
    await b.up();
    return b;
  }

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  /** Starts the broker and waits until it accepts connections. */
  async up(): Promise<void> {
    this.proc = spawn(MOSQUITTO!, ['-c', this.config], { stdio: 'ignore' });
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      const ok = await new Promise<boolean>((resolve) => {
        import('node:net').then(({ connect }) => {
          const s = connect(this.port, '127.0.0.1');
          s.once('connect', () => (s.destroy(), resolve(true)));
          s.once('error', () => resolve(false));
        });
      });
      if (ok) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`mosquitto did not start on port ${this.port}`);
  }

  /** Stops the broker and waits for it to exit. */
  async down(): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      p.once('exit', () => resolve());
      p.kill('SIGTERM');
    });
  }
}
