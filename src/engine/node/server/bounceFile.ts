/**
 * `GET /api/bounce.wav?path=…`: a bounced or recorded WAV, for the Author screen's
 * player and waveform and the Perform screen's last recording. Only files in the
 * session's output folder (`<user's patch folder>/out`)
 * are served: the path is resolved through symlinks and must stay inside that
 * folder's real path, end in `.wav` and be a regular file. Byte ranges are
 * honoured (a media element seeks with them).
 */
import { createReadStream, realpathSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isAbsolute, join, relative, sep } from 'node:path';

/** Where bounces from the UI go, inside the user's patch folder. */
export { BOUNCE_SUBDIR } from '../session/outputPath.ts';

/** A file the route may serve, or why not (an HTTP status and a message). */
export function confineBounce(dir: string, path: string | null): { file: string; bytes: number } | { status: number; error: string } {
  if (!path) return { status: 400, error: 'bounce.wav: name the file with ?path=…' };
  if (!/\.wav$/i.test(path)) return { status: 400, error: `bounce.wav: ${path}: only .wav files` };
  let root: string;
  let file: string;
  try {
    root = realpathSync(dir);
  } catch {
    return { status: 404, error: `bounce.wav: no output folder ${dir} yet (bounces and recordings go there)` };
  }
  try {
    file = realpathSync(isAbsolute(path) ? path : join(root, path));
  } catch {
    return { status: 404, error: `bounce.wav: no file ${path}` };
  }
  const rel = relative(root, file);
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel) || rel.split(sep).includes('..')) return { status: 403, error: `bounce.wav: ${path} is outside the output folder ${dir}` };
  const st = statSync(file);
  if (!st.isFile()) return { status: 404, error: `bounce.wav: ${path} is not a file` };
  return { file, bytes: st.size };
}

/** Sends the file (whole, or the one byte range asked for). */
export function sendWav(req: IncomingMessage, res: ServerResponse, file: string, bytes: number, headers: Record<string, string>): void {
  const base = { ...headers, 'Content-Type': 'audio/wav', 'Accept-Ranges': 'bytes' };
  const range = /^bytes=(\d*)-(\d*)$/.exec(req.headers.range ?? '');
  let start = 0;
  let end = bytes - 1;
  if (range && (range[1] || range[2])) {
    if (range[1]) {
      start = Number(range[1]);
      if (range[2]) end = Math.min(Number(range[2]), bytes - 1);
    } else start = Math.max(0, bytes - Number(range[2]));
    if (start > end || start >= bytes) {
      res.writeHead(416, { ...base, 'Content-Range': `bytes */${bytes}`, 'Content-Length': 0 });
      return void res.end();
    }
    res.writeHead(206, { ...base, 'Content-Range': `bytes ${start}-${end}/${bytes}`, 'Content-Length': end - start + 1 });
  } else res.writeHead(200, { ...base, 'Content-Length': bytes });
  if (req.method === 'HEAD' || bytes === 0) return void res.end();
  const s = createReadStream(file, { start, end });
  s.on('error', () => res.destroy());
  s.pipe(res);
}
