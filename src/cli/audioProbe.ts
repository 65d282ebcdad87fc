/**
 * Is there an audio output device? Asked in a child process: on Linux the
 * native audio library (ALSA, under node-web-audio-api) prints a screenful of
 * `ALSA lib confmisc.c:…: cannot find card '0'` lines straight to fd 2 when
 * there is no sound card, which JavaScript can neither redirect nor silence in
 * its own process. The child's stderr is captured, so the user sees the CLI's
 * one-line explanation first, and the driver's lines only with --verbose.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { NoAudioDeviceError } from '../engine/node/realtime.ts';

const CHILD = fileURLToPath(new URL('./audioProbe.child.mjs', import.meta.url));

/** What the probe found. `unknown`: the probe itself failed (then open the device in process as before). */
export type AudioProbe =
  | { device: 'present' }
  | { device: 'absent'; error: NoAudioDeviceError; driverOutput: string }
  | { device: 'unknown'; reason: string };

/**
 * Opens and closes the default output device in a child process.
 * `timeoutMs` bounds a probe that hangs (a sound server that never answers).
 */
export function probeAudioDevice(timeoutMs = 20_000): Promise<AudioProbe> {
  return new Promise((done) => {
    execFile(process.execPath, [CHILD], { timeout: timeoutMs, maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      const line = stdout.trim().split('\n').pop() ?? '';
      let answer: { ok?: unknown; message?: unknown } | undefined;
      try {
        answer = JSON.parse(line) as { ok?: unknown; message?: unknown };
      } catch {
        answer = undefined;
      }
      if (answer?.ok === true) return done({ device: 'present' });
      if (answer?.ok === false)
        return done({ device: 'absent', error: new NoAudioDeviceError(new Error(String(answer.message))), driverOutput: stderr.trim() });
      done({ device: 'unknown', reason: err ? err.message : `unexpected probe output ${JSON.stringify(line)}` });
    });
  });
}

/** The driver's captured lines, shown after the explanation with --verbose; else a hint that they exist. */
export function driverNote(probe: { driverOutput: string }, verbose: boolean): string {
  if (!probe.driverOutput) return '';
  return verbose ? `\nThe audio driver said:\n${probe.driverOutput}` : '\n(--verbose shows what the audio driver said)';
}
