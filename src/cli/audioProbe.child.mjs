// Opens and closes the default audio output device, the way
// openRealtimeContext('default') in src/engine/node/realtime.ts does, and prints
// one JSON line: {"ok":true} or {"ok":false,"message":"…"}. Run by audioProbe.ts
// in a child process so that what the native audio library writes to fd 2 while
// probing (ALSA's "cannot find card '0'" lines on a machine without a sound
// card) is captured instead of landing in the user's terminal.
import { AudioContext } from 'node-web-audio-api';

let result;
try {
  const ctx = new AudioContext({ latencyHint: 'interactive' });
  await ctx.close();
  result = { ok: true };
} catch (e) {
  result = { ok: false, message: e instanceof Error ? e.message : String(e) };
}
process.stdout.write(JSON.stringify(result) + '\n');
