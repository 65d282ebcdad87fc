/**
 * The session protocol: what every host (the CLI, a WebSocket, an Electron
 * `MessagePort`, a supervisor over Node IPC) sends to a running session and
 * what it gets back, as zod schemas. One version number for the whole protocol
 * ({@link PROTOCOL_VERSION}); a message may say which version it speaks (`v`).
 *
 * Everything incoming passes {@link parseCommand}: a message that is not one of
 * the commands below, exactly, gets an error reply saying what was wrong and
 * where (`param.value: expected number`), and never reaches the engine.
 *
 * No Node, no engine here (a lint rule): the renderer imports this file too.
 */
import { z } from 'zod';

/** The protocol's version. A message with another `v` is refused. */
export const PROTOCOL_VERSION = 1;

/** Largest message {@link parseCommand} reads as text (bytes of UTF-16, close enough). */
export const MAX_MESSAGE_CHARS = 256 * 1024;

const name = z.string().min(1).max(200);
/** A caller's id, echoed in the reply so a client can match them. */
const requestId = z.union([z.string().max(100), z.number().int()]);
const base = { v: z.literal(PROTOCOL_VERSION).optional(), id: requestId.optional() };

/** Which patch to load: a built-in id (`carbon-pulse`), a file path, or the YAML/JSON text itself. */
export const PatchRef = z.union([
  z.strictObject({ id: name }),
  z.strictObject({ path: z.string().min(1).max(4096) }),
  z.strictObject({ text: z.string().min(1).max(MAX_MESSAGE_CHARS) }),
]);
export type PatchRef = z.infer<typeof PatchRef>;

/** Most messages one `midiIn` command carries (a page batches a controller's messages). */
export const MAX_MIDI_IN_MESSAGES = 128;

/**
 * What is wrong with one MIDI message of `midiIn`, or undefined when it is a
 * whole channel or real-time message: a status byte (0x80…0xFF, not SysEx),
 * then as many data bytes (0…127) as that status takes.
 */
export function midiMessageProblem(bytes: readonly number[]): string | undefined {
  const status = bytes[0];
  if (status === undefined) return 'an empty message';
  if (!Number.isInteger(status) || status < 0x80 || status > 0xff) return `the first byte must be a status byte (0x80…0xFF), not ${status}`;
  if (status === 0xf0 || status === 0xf7) return 'SysEx is not forwarded';
  const want = status < 0xc0 || (status >= 0xe0 && status < 0xf0) ? 3 : status < 0xe0 ? 2 : status === 0xf2 ? 3 : status === 0xf1 || status === 0xf3 ? 2 : 1;
  if (bytes.length !== want) return `status 0x${status.toString(16)} takes ${want} byte${want === 1 ? '' : 's'}, got ${bytes.length}`;
  for (let i = 1; i < bytes.length; i++) if (!Number.isInteger(bytes[i]) || bytes[i]! < 0 || bytes[i]! > 127) return `data byte ${i} must be 0…127, not ${bytes[i]}`;
  return undefined;
}

/**
 * The connection a command came through, set by the transport (the server, the
 * app's session port): a client's own value is replaced ({@link stampClient}).
 */
const client = z.string().min(1).max(100).optional();

const midiMessage = z
  .array(z.number().int().min(0).max(255))
  .min(1)
  .max(3)
  .superRefine((m, ctx) => {
    const problem = midiMessageProblem(m);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });

/** Every command a session takes. */
export const Command = z.discriminatedUnion('type', [
  /**
   * Loads a patch, crossfading from the one playing (seconds; default 2).
   * `data` (stream → source URI, the `--data` grammar's URI part) gives the
   * session's bindings from this load on: they replace the bindings it started
   * with and every `rebind` (`{}`: the patch's own sources). Without `data`
   * the bindings carry over.
   */
  z.strictObject({ ...base, type: z.literal('load'), patch: PatchRef, crossfade: z.number().min(0).max(30).optional(), data: z.record(name, z.string().min(1).max(4096)).optional() }),
  /** Sets a parameter (`pad.filter.frequency`, `hall.wet`, `master.volume`, `tempo`…) in its own units, clamped to its range. */
  z.strictObject({ ...base, type: z.literal('param'), target: name, value: z.number() }),
  z.strictObject({ ...base, type: z.literal('scene'), name }),
  /** A fixed tempo (BPM, 20…300), or null to give the tempo back to the patch. */
  z.strictObject({ ...base, type: z.literal('tempo'), bpm: z.number().min(20).max(300).nullable() }),
  z.strictObject({ ...base, type: z.literal('mute'), on: z.boolean() }),
  /**
   * Caps the output's sample peak (dBFS; null: the ceiling only), below the
   * session's ceiling (an installation's quiet hours): a cap above the ceiling
   * is the ceiling, so no level cap can make the output louder.
   */
  z.strictObject({ ...base, type: z.literal('levelCap'), db: z.number().min(-120).max(0).nullable() }),
  /** Silence now (and all notes off, lights black); `mute` with on: false brings the sound back. */
  z.strictObject({ ...base, type: z.literal('panic') }),
  /** A value for a stream, as if its source had sent it (it passes the stream's gate). */
  z.strictObject({ ...base, type: z.literal('inject'), stream: name, value: z.union([z.number(), z.string().max(200)]) }),
  /** Holds a stream at a value (default: its last) and ignores its source until unfrozen. */
  z.strictObject({ ...base, type: z.literal('freeze'), stream: name, on: z.boolean(), value: z.number().optional() }),
  /** Gives a stream another source, in the `--data STREAM=URI` grammar's URI part. */
  z.strictObject({ ...base, type: z.literal('rebind'), stream: name, uri: z.string().min(1).max(4096) }),
  /**
   * MIDI messages from a controller elsewhere (a page's Web MIDI input, named
   * `port`), handled by the session's MIDI bridge as if they came from one of
   * its own ports: learn, bindings, notes. Each message is whole (no running
   * status, no SysEx).
   */
  z.strictObject({ ...base, type: z.literal('midiIn'), port: z.string().min(1).max(100), messages: z.array(midiMessage).min(1).max(MAX_MIDI_IN_MESSAGES), client }),
  /**
   * A controller elsewhere went away: the session lets go of every note its
   * page ports hold (all of `client`'s, or only `port`'s). The server and the
   * app's session port send it when a client's connection closes.
   */
  z.strictObject({ ...base, type: z.literal('midiRelease'), port: z.string().min(1).max(100).optional(), client }),
  /** Binds the next MIDI control moved to a target, or to a stream (`stream:NAME`). */
  z.strictObject({ ...base, type: z.literal('midiLearn'), target: name, timeoutSeconds: z.number().min(1).max(3600).optional() }),
  /**
   * Records the output to a WAV file (written as `.part`, renamed when stopped):
   * `path` names it inside the session's output folder (`out` in the user's patch
   * folder), as for `bounce`; absolute paths and `..` are refused.
   */
  z
    .strictObject({ ...base, type: z.literal('record'), action: z.enum(['start', 'stop']), path: z.string().min(1).max(4096).optional() })
    .refine((c) => c.action === 'stop' || c.path !== undefined, { message: 'record start needs a path (a .wav file)', path: ['path'] }),
  /**
   * Renders a patch (default: the one playing) offline to a WAV file in a child
   * process, as `ecosym render` does, with `bounce` events for its progress;
   * `action: 'cancel'` stops it and leaves no file. One bounce at a time.
   */
  z
    .strictObject({
      ...base,
      type: z.literal('bounce'),
      action: z.enum(['start', 'cancel']).default('start'),
      patch: PatchRef.optional(),
      /** Seconds of audio, at most an hour. */
      duration: z.number().positive().max(3600).optional(),
      /** The WAV's name inside the session's output folder (`out` in the user's patch folder), e.g. "take-1.wav"; absolute paths and `..` are refused. */
      path: z.string().min(1).max(4096).optional(),
      seed: z.number().int().min(0).optional(),
      sampleRate: z.number().int().min(8000).max(192000).optional(),
    })
    .refine((c) => c.action === 'cancel' || (c.path !== undefined && /\.wav$/i.test(c.path)), { message: 'bounce needs a path to a .wav file', path: ['path'] })
    .refine((c) => c.action === 'cancel' || c.duration !== undefined, { message: 'bounce needs a duration (seconds)', path: ['duration'] }),
  z.strictObject({ ...base, type: z.literal('list'), what: z.enum(['patches', 'devices', 'midiPorts']) }),
  /**
   * Re-opens the audio output on another device (an id or a part of a name from
   * `list devices`; `default`; `none` for no device) and/or at another sample
   * rate. The patch, scene, tempo, mute, stream values and parameters set with
   * `param` carry over.
   */
  z
    .strictObject({ ...base, type: z.literal('output'), device: z.string().min(1).max(500).optional(), sampleRate: z.number().int().min(8000).max(192000).optional() })
    .refine((c) => c.device !== undefined || c.sampleRate !== undefined, { message: 'output needs a device or a sampleRate', path: ['device'] }),
  /**
   * The transport of file-backed streams (the Live screen's timeline), all of
   * them or one (`stream`). Data time is the shared axis: `seek` moves every
   * play head to `time` (epoch seconds; clamped to each file) or to a
   * `fraction` (0…1) of each file; the value there plays at once.
   */
  z
    .strictObject({ ...base, type: z.literal('seek'), stream: name.optional(), time: z.number().finite().optional(), fraction: z.number().min(0).max(1).optional() })
    .refine((c) => (c.time === undefined) !== (c.fraction === undefined), { message: 'seek needs a time (data time, epoch seconds) or a fraction (0…1), not both', path: ['time'] }),
  /** Loops the data-time region `[from, to]` (epoch seconds) of file streams; null plays the whole file again. */
  z
    .strictObject({ ...base, type: z.literal('loop'), stream: name.optional(), region: z.tuple([z.number().finite(), z.number().finite()]).nullable() })
    .refine((c) => c.region === null || c.region[0] < c.region[1], { message: 'the region\'s start must be before its end', path: ['region'] }),
  /** Plays file streams at `factor` times their documented pace (1/64…64). */
  z.strictObject({ ...base, type: z.literal('speed'), stream: name.optional(), factor: z.number().min(1 / 64).max(64) }),
  /** File streams' series, downsampled for drawing (≤ 2 × `buckets` points each, default 400), with their transport. */
  z.strictObject({ ...base, type: z.literal('fileSeries'), stream: name.optional(), buckets: z.number().int().min(2).max(2000).optional() }),
  /** Asks for a {@link Snapshot} as the reply's data. */
  z.strictObject({ ...base, type: z.literal('snapshot') }),
  /** The patch library: built-in patches and the user's folder, each with its description and streams. */
  z.strictObject({ ...base, type: z.literal('library') }),
  /** Copies a built-in patch (its id, `carbon-pulse`) into the user's folder under a free name, to edit it; replies with its path. */
  z.strictObject({ ...base, type: z.literal('duplicate'), builtin: name }),
  /**
   * Puts a data file (CSV, TSV, JSON, NDJSON, GeoJSON text) into the user's
   * folder under a safe name and, with `stream`, binds the stream to it
   * (`select`: the column or JSONPath, as after `#` in a source URI).
   */
  z.strictObject({ ...base, type: z.literal('upload'), name: z.string().min(1).max(200), text: z.string().max(MAX_MESSAGE_CHARS), stream: name.optional(), select: z.string().max(400).optional() }),
  /** A patch's text and file (default: the playing patch's), and whether `save` may write it. */
  z.strictObject({ ...base, type: z.literal('patchSource'), ref: PatchRef.optional() }),
  /** Checks a patch's text as loading would; replies with its errors (line, column, path, message), none when valid. */
  z.strictObject({ ...base, type: z.literal('validate'), text: z.string().min(1).max(MAX_MESSAGE_CHARS), path: z.string().min(1).max(4096).optional() }),
  /**
   * Validates and writes a patch (atomically; only in the user's folder or the
   * opened patch's file), then hot-swaps to it. Invalid: nothing is written, the
   * playing patch plays on, and the reply's data has `saved: false` and the errors.
   */
  z.strictObject({ ...base, type: z.literal('save'), path: z.string().min(1).max(4096), text: z.string().min(1).max(MAX_MESSAGE_CHARS), crossfade: z.number().min(0).max(30).optional() }),
  /** A file-sourced stream's raw series beside its signals as conditioned by this text of the patch (≤ 2,000 points). */
  z.strictObject({ ...base, type: z.literal('streamPreview'), text: z.string().min(1).max(MAX_MESSAGE_CHARS), stream: name, path: z.string().min(1).max(4096).optional() }),
]);
export type Command = z.infer<typeof Command>;
export type CommandType = Command['type'];

/** The answer to one command. */
export const Reply = z.discriminatedUnion('ok', [
  z.strictObject({ v: z.literal(PROTOCOL_VERSION), type: z.literal('reply'), id: requestId.optional(), ok: z.literal(true), data: z.unknown().optional() }),
  z.strictObject({ v: z.literal(PROTOCOL_VERSION), type: z.literal('reply'), id: requestId.optional(), ok: z.literal(false), error: z.string() }),
]);
export type Reply = z.infer<typeof Reply>;

/** One problem in a patch file, as `ecosym validate` prints it: file, line (when known), path in the patch, message. */
export const PatchProblem = z.object({ file: z.string(), line: z.number().optional(), path: z.string(), message: z.string() });
export type PatchProblem = z.infer<typeof PatchProblem>;

/** What a session tells its clients as it happens. `time` is wall time, epoch seconds. */
export const SessionEvent = z.discriminatedUnion('type', [
  z.object({ type: z.literal('source'), time: z.number(), stream: z.string(), from: z.string().optional(), to: z.string(), link: z.boolean(), reason: z.string().optional() }),
  /** What a file source read: rows kept and rejected by reason (`741 rows: 741 kept`). */
  z.object({ type: z.literal('sourceRead'), time: z.number(), stream: z.string(), summary: z.string() }),
  z.object({ type: z.literal('scene'), time: z.number(), scene: z.string() }),
  z.object({ type: z.literal('threshold'), time: z.number(), signal: z.string(), state: z.enum(['on', 'off']) }),
  z.object({ type: z.literal('note'), time: z.number(), voice: z.string(), notes: z.array(z.number()), velocity: z.number() }),
  z.object({ type: z.literal('mute'), time: z.number(), muted: z.boolean(), panic: z.boolean() }),
  z.object({ type: z.literal('load'), time: z.number(), patch: z.string(), crossfade: z.number() }),
  z.object({ type: z.literal('record'), time: z.number(), state: z.enum(['started', 'stopped', 'failed']), path: z.string(), seconds: z.number().optional(), error: z.string().optional() }),
  z.object({ type: z.literal('error'), time: z.number(), where: z.string(), message: z.string() }),
  /** The audio output was re-opened (the `output` command). */
  z.object({ type: z.literal('output'), time: z.number(), sink: z.string(), sampleRate: z.number() }),
  /** An offline bounce: `progress` 0…1 while running; the level of the file written when done. */
  z.object({
    type: z.literal('bounce'),
    time: z.number(),
    state: z.enum(['running', 'done', 'cancelled', 'failed']),
    progress: z.number(),
    path: z.string(),
    peakDb: z.number().optional(),
    rmsDb: z.number().optional(),
    error: z.string().optional(),
  }),
  /**
   * A watched patch or data file changed (hot reload): `ok` when the patch was
   * swapped in; otherwise every problem found, and the old patch plays on.
   */
  z.object({ type: z.literal('reload'), time: z.number(), ok: z.boolean(), file: z.string(), changed: z.array(z.string()), errors: z.array(PatchProblem).optional() }),
]);
export type SessionEvent = z.infer<typeof SessionEvent>;

/** A file stream's transport: play head (data time, record index), loop region and speed. */
export const FileTransport = z.object({
  time: z.number(),
  index: z.number(),
  count: z.number(),
  first: z.number(),
  last: z.number(),
  loop: z.tuple([z.number(), z.number()]).nullable(),
  /** Factor of the documented pace. */
  speed: z.number(),
  /** Data seconds per second of playing now. */
  dataSpeed: z.number(),
  /** False once a file played once has ended. */
  playing: z.boolean(),
});
export type FileTransport = z.infer<typeof FileTransport>;

/** One file stream of the `fileSeries` reply: its points `[time, value]` and transport. */
export interface FileSeriesEntry {
  first: number;
  last: number;
  count: number;
  points: Array<[number, number]>;
  transport: FileTransport;
}

/** One stream in a {@link Snapshot}. */
export const StreamState = z.object({
  /** Where its values come from (a source URI), if anywhere. */
  uri: z.string().optional(),
  /** connecting, live, stale, failed, fallback; `manual` for a stream with no source. */
  state: z.string(),
  link: z.string().optional(),
  /** The last value that reached the engine, as it arrived. */
  raw: z.union([z.number(), z.string()]).optional(),
  /** Seconds since its source last gave a value (since the source started when it never has); streams with a source only. */
  ageSeconds: z.number().optional(),
  /** Its signals' conditioned values (0…1), by signal name. */
  conditioned: z.record(z.string(), z.number()),
  frozen: z.boolean(),
  accepted: z.number(),
  /** Values the gate refused, by reason (non-finite, out-of-range, spike…), whatever their origin. */
  rejected: z.record(z.string(), z.number()),
  /** What the stream is and what it does to the sound (the patch's words), for the UI. */
  description: z.string().optional(),
  /** A file-backed stream's transport, once its file has been read. */
  file: FileTransport.optional(),
});
export type StreamState = z.infer<typeof StreamState>;

/** The state of a session at one moment. */
export const Snapshot = z.object({
  v: z.literal(PROTOCOL_VERSION),
  patch: z
    .object({
      name: z.string(),
      id: z.string().optional(),
      file: z.string().optional(),
      description: z.string().optional(),
      /** The patch's scenes in order, with their crossfade time (seconds). */
      scenes: z.array(z.object({ name: z.string(), fade: z.number() })).optional(),
    })
    .nullable(),
  scene: z.string().nullable(),
  tempo: z.number().nullable(),
  /** The tempo a `tempo` command fixed, or null when the patch sets it. */
  tempoFixed: z.number().nullable(),
  muted: z.boolean(),
  /** The level cap in force (dBFS sample peak), when one is below the ceiling. */
  levelCapDb: z.number().optional(),
  /** Output level over the last second, dBFS (−Infinity is sent as null). */
  rmsDb: z.number().nullable(),
  peakDb: z.number().nullable(),
  streams: z.record(z.string(), StreamState),
  signals: z.record(z.string(), z.number()),
  bridges: z.record(z.string(), z.record(z.string(), z.unknown())),
  recording: z.object({ path: z.string(), seconds: z.number() }).nullable(),
  /** The offline bounce running, if any. */
  bounce: z.object({ path: z.string(), progress: z.number() }).nullable().optional(),
  /** Hot reload, when the session watches its patch: the files watched and the last reload's problems (none: it loaded). */
  watch: z.object({ files: z.array(z.string()), ok: z.boolean(), errors: z.array(PatchProblem) }).nullable().optional(),
  /** The patch's mappings: which signal (of which stream) drives which target, and the target's value now. */
  mappings: z.array(z.object({ from: z.string(), stream: z.string().optional(), to: z.string(), value: z.number().optional() })).optional(),
  /** Values now of the parameters a performer sets (`master.volume`, dB) and of every mapped target, by target name. */
  params: z.record(z.string(), z.number()).optional(),
  engine: z.object({
    sink: z.string(),
    sampleRate: z.number(),
    time: z.number(),
    notes: z.number(),
    errors: z.number(),
    lateNotes: z.number(),
    /** Audio faults (non-finite or runaway output) found and repaired. */
    faults: z.number(),
    loads: z.number(),
    rearms: z.number(),
  }),
});
export type Snapshot = z.infer<typeof Snapshot>;

/** A telemetry frame: cheap, sent up to 30 times a second, dropped rather than queued. */
export const TelemetryFrame = z.object({
  v: z.literal(PROTOCOL_VERSION),
  type: z.literal('telemetry'),
  /** Engine seconds. */
  time: z.number(),
  /** Per output channel, linear 0…1, over the frame's analysis window. */
  peak: z.array(z.number()),
  rms: z.array(z.number()),
  /** Log-spaced bands from 20 Hz to 20 kHz, dBFS (floored at −140). */
  spectrum: z.array(z.number()),
  /** A short trace of the mixed output, −1…1. */
  scope: z.array(z.number()),
  streams: z.record(z.string(), z.number()),
  signals: z.record(z.string(), z.number()),
  /** File streams' play heads: `[data time, record index]`, by stream. */
  playheads: z.record(z.string(), z.tuple([z.number(), z.number()])).optional(),
  /**
   * A patch with positions: its layout as played (speaker angles in degrees, or
   * places 0…1 on a line; null for 5.1's LFE; `folded` to stereo on a smaller
   * output) and where each voice and bus is on it now.
   */
  space: z
    .object({
      layout: z.string(),
      kind: z.enum(['circle', 'line']),
      speakers: z.array(z.number().nullable()),
      folded: z.boolean(),
      places: z.record(z.string(), z.number()),
    })
    .optional(),
});
export type TelemetryFrame = z.infer<typeof TelemetryFrame>;

/** An ok reply. */
export function okReply(id: string | number | undefined, data?: unknown): Reply {
  return { v: PROTOCOL_VERSION, type: 'reply', ...(id === undefined ? {} : { id }), ok: true, ...(data === undefined ? {} : { data }) };
}

/** An error reply. */
export function errorReply(id: string | number | undefined, error: string): Reply {
  return { v: PROTOCOL_VERSION, type: 'reply', ...(id === undefined ? {} : { id }), ok: false, error };
}

/** A request id found on a message that failed validation, so even that error reply can be matched. */
function idOf(x: unknown): string | number | undefined {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) return undefined;
  const id = (x as Record<string, unknown>).id;
  const ok = requestId.safeParse(id);
  return ok.success ? ok.data : undefined;
}

/** Describes a value's kind in an error (never echoes a huge or hostile value). */
function kind(x: unknown): string {
  if (x === null) return 'null';
  if (Array.isArray(x)) return 'an array';
  return typeof x === 'object' ? 'an object' : typeof x;
}

/**
 * Validates one incoming message: an object, or its JSON text. Returns the
 * command, or the error reply to send (what was wrong, and where: the
 * command's type and the field's path). Never throws, whatever it is given.
 */
export function parseCommand(input: unknown): { ok: true; command: Command } | { ok: false; reply: Reply } {
  let x = input;
  if (typeof input === 'string') {
    if (input.length > MAX_MESSAGE_CHARS) return { ok: false, reply: errorReply(undefined, `message too large: ${input.length} characters (at most ${MAX_MESSAGE_CHARS})`) };
    try {
      x = JSON.parse(input);
    } catch (e) {
      // A RangeError here is JSON nested too deep for the stack: still just a bad message.
      return { ok: false, reply: errorReply(undefined, `not JSON: ${(e as Error)?.message ?? String(e)}`.slice(0, 300)) };
    }
  }
  const id = idOf(x);
  if (typeof x !== 'object' || x === null || Array.isArray(x)) return { ok: false, reply: errorReply(id, `expected a command object like {"type":"panic"}, got ${kind(x)}`) };
  const o = x as Record<string, unknown>;
  if (o.v !== undefined && o.v !== PROTOCOL_VERSION) return { ok: false, reply: errorReply(id, `protocol version ${JSON.stringify(o.v).slice(0, 40)} is not supported (this session speaks ${PROTOCOL_VERSION})`) };
  let r: ReturnType<typeof Command.safeParse>;
  try {
    r = Command.safeParse(x);
  } catch (e) {
    return { ok: false, reply: errorReply(id, `invalid command: ${(e as Error)?.message ?? String(e)}`.slice(0, 300)) };
  }
  if (r.success) return { ok: true, command: r.data };
  const type = typeof o.type === 'string' ? o.type.slice(0, 40) : undefined;
  const known = Command.options.map((c) => c.shape.type.value);
  if (type === undefined || !known.includes(type as CommandType))
    return { ok: false, reply: errorReply(id, `${type === undefined ? 'no command type' : `unknown command "${type}"`} (expected "type" to be one of ${[...new Set(known)].join(', ')})`) };
  const where = r.error.issues
    .slice(0, 5)
    .map((i) => `${[type, ...i.path.map(String)].join('.')}: ${i.message}`.slice(0, 200))
    .join('; ');
  return { ok: false, reply: errorReply(id, where) };
}

/**
 * What a transport hands the session for one message from a client: a
 * `midiIn` or `midiRelease` gets the client's name (replacing any the client
 * set, so one client can never let go of another's notes); anything else, and
 * anything invalid, passes unchanged (the session says what is wrong).
 */
export function stampClient(message: unknown, client: string): unknown {
  const p = parseCommand(message);
  if (!p.ok || (p.command.type !== 'midiIn' && p.command.type !== 'midiRelease')) return message;
  return { ...p.command, client };
}

/**
 * What a session's host says about itself, beside replies, events and
 * telemetry: `playing`; `restarting` while a supervisor or the app brings a
 * dead or hung audio host back (the UI shows it and waits); `stopped`.
 * `silent` is true when no audio device was found and the session plays to
 * no output (the UI still works).
 */
export const HostStatus = z.object({
  type: z.literal('status'),
  state: z.enum(['starting', 'playing', 'restarting', 'stopped']),
  silent: z.boolean().optional(),
  restarts: z.number().optional(),
  reason: z.string().optional(),
});
export type HostStatus = z.infer<typeof HostStatus>;

/**
 * Every message a client (a WebSocket, the app's `MessagePort`) receives, one
 * JSON object per message: `hello` once on connecting (with the snapshot and
 * whether this client may only read), then replies (matched by `id`), events,
 * telemetry frames and host status as they come.
 */
export const ServerMessage = z.union([
  z.object({ v: z.literal(PROTOCOL_VERSION), type: z.literal('hello'), readOnly: z.boolean(), snapshot: Snapshot }),
  Reply,
  z.object({ type: z.literal('event'), event: SessionEvent }),
  TelemetryFrame,
  HostStatus,
]);
export type ServerMessage = z.infer<typeof ServerMessage>;

/** Commands a read-only client (the audience view) may send. */
export const READ_ONLY_COMMANDS: readonly CommandType[] = ['snapshot', 'list', 'fileSeries'];

/** One stream of a {@link LibraryEntry}. */
export interface LibraryStream {
  name: string;
  description?: string;
  unit?: string;
  /** The patch's default source URI, if any. */
  source?: string;
  /** For a file source: the file, where it resolves, and whether it is there. */
  file?: { path: string; exists: boolean; bytes?: number };
}

/** One patch of the `library` command's reply. */
export interface LibraryEntry {
  /** `builtin:carbon-pulse` or `user:my-drift.yaml`: unique in a listing. */
  key: string;
  builtin: boolean;
  /** What `load` takes for it. */
  ref: { id: string } | { path: string };
  path: string;
  name: string;
  description?: string;
  streams: LibraryStream[];
  /** The first problem, when the patch does not validate. */
  error?: string;
}

/** A problem of a patch's text, where an editor marks it (the `validate` and `save` replies). */
export interface TextError {
  line?: number;
  column?: number;
  path: string;
  message: string;
}
