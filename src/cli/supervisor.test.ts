import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { build } from 'esbuild';
import { PROJECT_ROOT } from '../engine/node/files.ts';
import { logsCommand } from './installLog.ts';

describe('the supervisor program', () => {
  it('loads no audio code: neither Tone nor node-web-audio-api is in what src/cli/runMain.ts imports', async () => {
    const r = await build({ entryPoints: [resolve(PROJECT_ROOT, 'src/cli/runMain.ts')], bundle: true, platform: 'node', format: 'esm', write: false, metafile: true, logLevel: 'silent', external: ['pino', 'pino-roll', 'pino-pretty', 'prom-client'] });
    const inputs = Object.keys(r.metafile.inputs);
    expect(inputs.some((f) => f.includes('src/engine/node/session/supervised.ts'))).toBe(true);
    expect(inputs.filter((f) => /node_modules\/(tone|node-web-audio-api|standardized-audio-context)\//.test(f) || f.includes('src/engine/audio/'))).toStrictEqual([]);
  });
});

describe('ecosym logs', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ecosym-logs-'));
  const line = (level: number, msg: string) => JSON.stringify({ level, time: 1_780_000_000_000, pid: 1, msg });
  writeFileSync(join(dir, 'ecosym.1.log'), [line(30, 'first day'), line(50, 'a crash')].join('\n') + '\n');
  writeFileSync(join(dir, 'ecosym.2.log'), [line(40, 'silent too long'), line(30, 'sound back')].join('\n') + '\n');
  const read = async (o: Parameters<typeof logsCommand>[1]) => {
    const out = new PassThrough();
    let text = '';
    out.on('data', (b: Buffer) => (text += b.toString()));
    await logsCommand(dir, o, out);
    await new Promise((r) => setImmediate(r));
    return text;
  };

  it('--json --level warn: the lines at warn and above, oldest file first', async () => {
    const text = await read({ json: true, level: 'warn' });
    expect(text.trim().split('\n').map((l) => (JSON.parse(l) as { msg: string }).msg)).toStrictEqual(['a crash', 'silent too long']);
  });

  it('pretty by default: level names and messages, every file in order', async () => {
    const text = await read({});
    const order = ['first day', 'a crash', 'silent too long', 'sound back'].map((m) => text.indexOf(m));
    expect(order.every((i) => i >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toStrictEqual(order);
    expect(text).toMatch(/ERROR.*a crash/);
    expect(text).not.toContain('{"level"');
  });

  it('an unknown level or an empty folder says so', async () => {
    await expect(read({ level: 'loud' })).rejects.toThrow(/--level "loud": expected one of trace, debug, info, warn, error, fatal/);
    await expect(logsCommand(mkdtempSync(join(tmpdir(), 'ecosym-nologs-')), {})).rejects.toThrow(/no logs in/);
  });
});
