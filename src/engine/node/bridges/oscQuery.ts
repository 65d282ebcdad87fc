/**
 * OSCQuery (the Vidvox proposal): an HTTP server describing the OSC control
 * address space as JSON, so tools that speak it (Chataigne, ossia score,
 * TouchOSC and others) discover every parameter with its type, range, access
 * and current value; and a WebSocket on the same port where a client may
 * LISTEN to paths and receive their values as binary OSC when they change.
 *
 *   GET /                → the whole tree        GET /eco/tempo       → one node
 *   GET /eco/tempo?VALUE → { "VALUE": [ … ] }    GET /?HOST_INFO      → name, OSC port, extensions
 *   ws: {"COMMAND":"LISTEN","DATA":"/eco/signal/warmth"} / "IGNORE"
 *
 * Every leaf with a value reports it (parameters read from the engine, so a
 * LISTEN on /eco/master/volume pushes when anything moves it). What a client
 * can make the server hold is bounded: at most `maxClients` WebSockets and
 * `maxListens` paths each (only paths that are leaves); the rest is refused
 * and counted in `stats`.
 *
 * Not done: mDNS/DNS-SD advertisement (_oscjson._tcp); give tools the URL.
 */
import { createServer, type Server } from 'node:http';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Engine } from '../../audio/Engine.ts';
import { encodeMessage, type OscArg } from '../../core/osc/codec.ts';
import type { OscControl, ControlAddress } from './oscControl.ts';

interface Leaf {
  address: string;
  type: string;
  access: 0 | 1 | 2 | 3;
  description: string;
  range?: readonly [number, number];
  value?: () => number | string | undefined;
}

interface Node {
  FULL_PATH: string;
  CONTENTS?: Record<string, Node>;
  TYPE?: string;
  ACCESS?: number;
  RANGE?: Array<{ MIN?: number; MAX?: number; VALS?: string[] }>;
  DESCRIPTION?: string;
  VALUE?: Array<number | string>;
}

export interface OscQueryOptions {
  /** WebSocket clients at once; more are closed (1013, try again later) and counted. Default 16. */
  maxClients?: number;
  /** Paths one client may LISTEN to; more are refused and counted. Default 256. */
  maxListens?: number;
}

/** Five significant digits: enough for a fader, and a ramp's last tiny steps are not pushed forever. */
function rounded(v: number | undefined): number | undefined {
  return v === undefined || !Number.isFinite(v) ? undefined : Number(v.toPrecision(5));
}

export class OscQueryServer {
  private server: Server | undefined;
  private wss: WebSocketServer | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly listening = new Map<WebSocket, Map<string, string>>();
  private readonly maxClients: number;
  private readonly maxListens: number;
  /**
   * requests: HTTP requests; pushes: values sent; refusedClients: WebSockets
   * closed over maxClients; refusedListens: LISTENs over maxListens or to a path
   * that is not a leaf.
   */
  readonly stats = { requests: 0, pushes: 0, refusedClients: 0, refusedListens: 0 };
  private leafPaths: { patch: unknown; paths: Set<string> } | undefined;
  /** Where the server is bound, once listening. */
  bound: { address: string; port: number } | undefined;

  constructor(
    private readonly engine: Engine,
    private readonly control: OscControl,
    private readonly info: { name: string; oscPort: number; oscHost?: string },
    options: OscQueryOptions = {},
  ) {
    this.maxClients = options.maxClients ?? 16;
    this.maxListens = options.maxListens ?? 256;
  }

  /** The leaves: the control addresses (write, with their values) and read-only signals. */
  leaves(): Leaf[] {
    const values = () => this.engine.values();
    const leaves: Leaf[] = this.control.addresses().map((a: ControlAddress) => ({
      address: a.address,
      type: a.types,
      access: a.access ?? (a.action === 'stream' || a.address === '/eco/scene' || a.address === '/eco/mute' ? 3 : 2),
      description: a.description,
      range: a.range,
      value:
        a.action === 'stream'
          ? () => values().streams[a.name!]
          : a.address === '/eco/scene'
            ? () => values().scene
            : a.address === '/eco/mute'
              ? () => (this.engine.muted ? 1 : 0)
              : a.target !== undefined && !a.target.endsWith('.trigger')
                ? () => rounded(this.engine.parameterValue(a.target!))
                : undefined,
    }));
    for (const name of Object.keys(this.engine.patch?.signals ?? {}))
      leaves.push({ address: `/eco/signal/${name}`, type: 'f', access: 1, description: `Signal ${name} (0…1, read only)`, range: [0, 1], value: () => values().signals[name] });
    return leaves;
  }

  /** The JSON tree of the address space. */
  tree(): Node {
    const root: Node = { FULL_PATH: '/', CONTENTS: {}, DESCRIPTION: `Eco-Symphony: ${this.engine.patch?.name ?? 'no patch'}` };
    for (const leaf of this.leaves()) {
      const parts = leaf.address.split('/').filter(Boolean);
      let node = root;
      parts.forEach((part, i) => {
        node.CONTENTS ??= {};
        const path = '/' + parts.slice(0, i + 1).join('/');
        node = node.CONTENTS[part] ??= { FULL_PATH: path };
      });
      if (leaf.type) node.TYPE = leaf.type;
      node.ACCESS = leaf.access;
      node.DESCRIPTION = leaf.description;
      if (leaf.address === '/eco/scene') node.RANGE = [{ VALS: Object.keys(this.engine.patch?.scenes ?? {}) }];
      else if (leaf.range) node.RANGE = [{ MIN: leaf.range[0], MAX: leaf.range[1] }];
      const v = leaf.value?.();
      if (v !== undefined && (typeof v === 'string' || Number.isFinite(v))) node.VALUE = [v];
    }
    return root;
  }

  private find(path: string): Node | undefined {
    let node: Node | undefined = this.tree();
    for (const part of path.split('/').filter(Boolean)) node = node?.CONTENTS?.[part];
    return node;
  }

  /** Starts HTTP and WebSocket on host:port (0 = any free port); resolves with the port ({@link bound} has the address). */
  async listen(host: string, port: number): Promise<number> {
    const server = createServer((req, res) => {
      this.stats.requests++;
      try {
        const url = new URL(req.url ?? '/', 'http://x');
        const attr = url.search.slice(1);
        const send = (status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
        if (req.method !== 'GET') return send(405, { error: 'GET only' });
        if (attr === 'HOST_INFO')
          return send(200, {
            NAME: `Eco-Symphony (${this.info.name})`,
            OSC_PORT: this.info.oscPort,
            ...(this.info.oscHost ? { OSC_IP: this.info.oscHost } : {}),
            OSC_TRANSPORT: 'UDP',
            EXTENSIONS: { ACCESS: true, VALUE: true, RANGE: true, DESCRIPTION: true, LISTEN: true, PATH_CHANGED: false },
          });
        const node = this.find(decodeURIComponent(url.pathname));
        if (!node) return send(404, { error: `no node ${url.pathname}` });
        if (attr) {
          const v = (node as unknown as Record<string, unknown>)[attr];
          return v === undefined ? res.writeHead(204).end() : send(200, { [attr]: v });
        }
        send(200, node);
      } catch (e) {
        res.writeHead(500).end(String((e as Error)?.message ?? e));
      }
    });
    this.server = server;
    this.wss = new WebSocketServer({ server, maxPayload: 64 * 1024 });
    this.wss.on('connection', (ws) => {
      if (this.listening.size >= this.maxClients) {
        this.stats.refusedClients++;
        ws.close(1013, `at most ${this.maxClients} clients`);
        return;
      }
      this.listening.set(ws, new Map());
      ws.on('message', (data, binary) => {
        if (binary) return; // OSC over the WebSocket is not taken as control (use UDP)
        try {
          const cmd = JSON.parse(data.toString()) as { COMMAND?: string; DATA?: string };
          const paths = this.listening.get(ws);
          if (!paths || typeof cmd.DATA !== 'string') return;
          if (cmd.COMMAND === 'LISTEN') {
            if (paths.has(cmd.DATA)) return;
            if (paths.size >= this.maxListens || !this.isLeaf(cmd.DATA)) {
              this.stats.refusedListens++;
              return;
            }
            paths.set(cmd.DATA, '');
          } else if (cmd.COMMAND === 'IGNORE') paths.delete(cmd.DATA);
        } catch {
          /* not JSON: ignored */
        }
      });
      ws.on('close', () => this.listening.delete(ws));
      ws.on('error', () => this.listening.delete(ws));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    this.timer = setInterval(() => this.push(), 50);
    const a = server.address() as { address: string; port: number };
    this.bound = { address: a.address, port: a.port };
    return a.port;
  }

  /** True for a path that is a leaf of the tree now (cheap: no tree is built). */
  private isLeaf(path: string): boolean {
    if (!this.leafPaths || this.leafPaths.patch !== this.engine.patch)
      this.leafPaths = { patch: this.engine.patch, paths: new Set(this.leaves().map((l) => l.address)) };
    return this.leafPaths.paths.has(path);
  }

  /** Sends changed values of listened paths as binary OSC. */
  private push(): void {
    if (this.listening.size === 0) return;
    const leaves = new Map(this.leaves().map((l) => [l.address, l]));
    for (const [ws, paths] of this.listening) {
      for (const [path, last] of paths) {
        const v = leaves.get(path)?.value?.();
        if (v === undefined || (typeof v === 'number' && !Number.isFinite(v))) continue;
        const key = String(v);
        if (key === last) continue;
        paths.set(path, key);
        const arg: OscArg = typeof v === 'string' ? { type: 's', value: v } : { type: 'f', value: v };
        try {
          ws.send(encodeMessage({ address: path, args: [arg] }));
          this.stats.pushes++;
        } catch {
          /* a closing socket */
        }
      }
    }
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    for (const ws of this.listening.keys()) ws.terminate();
    this.wss?.close();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}
