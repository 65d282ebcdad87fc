/**
 * The show file (`show.yaml`) of an installation: what `ecosym run` plays, when,
 * how loud at most, and with which feeds and bridges. One zod schema gives the
 * types, the validation (errors with file, line and path, read through the same
 * machinery as patches) and the JSON Schema for editors (`ecosym schema --show`).
 *
 * The smallest show file is a playlist of one:
 * ```yaml
 * playlist:
 *   - { patch: carbon-pulse, for: 30m }
 * ```
 */
import { z } from 'zod';
import { Cron } from 'croner';
import { parseDuration } from './units.ts';
import { collectKeys, parseSchemaText, type PatchError, type PatchLimits } from './patchLoader.ts';

const NAME_RE = /^[A-Za-z][A-Za-z0-9_-]*$/;
const Name = z.string().regex(NAME_RE, 'a name starts with a letter and holds only letters, digits, _ or -');

const Duration = z
  .union([z.number().nonnegative(), z.string()])
  .refine((v) => Number.isFinite(parseDuration(v)) && parseDuration(v) >= 0, {
    message: 'expected a duration: seconds as a number, or a string like "250ms", "30s", "2m", "1h"',
  })
  .transform((v) => parseDuration(v))
  .describe('Duration: seconds, or "250ms", "30s", "2m", "1h"');

const TIME_RE = /^([01]?\d|2[0-3]):([0-5]\d)$/;
/** Minutes after local midnight of "HH:MM", or undefined. */
export function parseTimeOfDay(s: string): number | undefined {
  const m = TIME_RE.exec(s.trim());
  return m ? Number(m[1]) * 60 + Number(m[2]) : undefined;
}
const TimeOfDay = z
  .string()
  .refine((s) => parseTimeOfDay(s) !== undefined, { message: 'expected a local time of day "HH:MM" (24 h), e.g. "09:30"' })
  .describe('A local time of day, "HH:MM" (24 h), in the show\'s time zone');

/** A cron expression croner accepts (5 or 6 fields, or @daily…), or "HH:MM" (every day at that time). */
const When = z
  .string()
  .refine((s) => parseTimeOfDay(s) !== undefined || cronProblem(s) === undefined, {
    message: 'expected "HH:MM" or a cron expression like "0 9 * * 1-5" (minute hour day month weekday)',
  })
  .describe('"HH:MM" (every day), or a cron expression "minute hour day month weekday", e.g. "0 9 * * 1-5"');

/** Why croner refuses a pattern, or undefined. */
export function cronProblem(pattern: string): string | undefined {
  try {
    new Cron(pattern, { paused: true });
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

/** A time zone Intl knows (IANA name, e.g. "Europe/Berlin"), or undefined. */
export function timeZoneProblem(tz: string): string | undefined {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return undefined;
  } catch {
    return `unknown time zone "${tz}": expected an IANA name like "Europe/Berlin" or "UTC"`;
  }
}

export const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
export const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'] as const;
export const SEASONS = ['spring', 'summer', 'autumn', 'winter'] as const;
const Weekday = z.enum(WEEKDAYS);
const Month = z.enum(MONTHS);

/** The maximum output level: a master ceiling in dBFS (sample peak). */
const Level = z.number().min(-60).max(-0.1).describe('dBFS (sample peak), -60…-0.1');

const Threshold = z
  .strictObject({
    stream: Name.describe('A stream of the patch'),
    above: z.number().optional().describe('Move on once the stream\'s value is above this'),
    below: z.number().optional().describe('Move on once the stream\'s value is below this'),
  })
  .refine((t) => (t.above === undefined) !== (t.below === undefined), { message: 'give one of above or below' })
  .describe('Move on when a stream crosses a value');

const Entry = z
  .strictObject({
    patch: z.string().min(1).describe('A built-in patch name or a patch file (relative to the show file)'),
    for: Duration.optional().describe('How long it plays before the next entry'),
    until: z
      .union([TimeOfDay, Threshold])
      .optional()
      .describe('Play until a local time of day ("18:00"), or until a stream crosses a value ({ stream: co2, above: 420 })'),
    crossfade: Duration.default(5).describe('Crossfade into this entry (default 5s)'),
    scene: Name.optional().describe('The scene to start in'),
    data: z.record(Name, z.string().min(1)).default({}).describe('stream → source URI for this patch (like `--data`)'),
    silenceAllowed: Duration.default(10).describe('Output quieter than the silence floor for longer than this while it should sound is a fault (default 10s)'),
  })
  .refine((e) => e.for === undefined || e.for > 0, { path: ['for'], message: 'expected a duration above 0' })
  .describe('One patch of a playlist');

const Playlist = z.array(Entry).min(1, 'a playlist needs at least one entry').describe('Patches played in turn, from the first again after the last');

const Quiet = z
  .strictObject({
    from: TimeOfDay,
    to: TimeOfDay,
    maxLevel: Level.describe('The ceiling during these hours, dBFS'),
    days: z.array(Weekday).optional().describe('Weekdays the window starts on (default: every day)'),
  })
  .describe('Quiet hours: a lower ceiling between two local times (may run past midnight)');

const Rule = z
  .strictObject({
    playlist: Name.describe('A playlist of `playlists`'),
    days: z.array(Weekday).min(1).optional().describe('On these weekdays'),
    months: z.array(Month).min(1).optional().describe('In these months'),
    season: z.array(z.enum(SEASONS)).min(1).optional().describe('In these seasons (meteorological, of the show\'s hemisphere)'),
    cron: When.optional().describe('During the minutes this cron expression matches, e.g. "* 12-13 * * 1-5"'),
  })
  .describe('Which playlist plays when: the first rule that matches wins, else `playlist`');

const Schedule = z
  .strictObject({
    on: When.optional().describe('When the show starts: "HH:MM" or cron'),
    off: When.optional().describe('When the show stops (fades out and stays silent): "HH:MM" or cron'),
    quiet: z.array(Quiet).default([]),
    rules: z.array(Rule).default([]),
  })
  .refine((s) => (s.on === undefined) === (s.off === undefined), { message: 'give both on and off, or neither (always on)' })
  .describe('When the show plays, and which playlist');

const HostPort = z.string().regex(/^(\[[^\]]+\]|[^:\s]+)?:?\d{1,5}$/, 'expected [HOST:]PORT, e.g. 127.0.0.1:9000 or 9000');

const Bridges = z
  .strictObject({
    oscIn: HostPort.optional().describe('OSC control in, [HOST:]PORT (127.0.0.1 unless a host is given)'),
    oscAllow: z.array(z.string()).default([]).describe('Senders allowed to control, CIDR'),
    oscOut: z.array(z.string()).default([]).describe('OSC out targets HOST:PORT'),
    oscQuery: HostPort.optional().describe('OSCQuery server [HOST:]PORT'),
    artnet: z.string().optional().describe('Art-Net HOST[:UNIVERSE]'),
    sacn: z.string().optional().describe('sACN [HOST:]UNIVERSE'),
    midiIn: z.string().optional().describe('MIDI in port (name or part)'),
    midiOut: z.string().optional().describe('MIDI out port (name or part)'),
  })
  .describe('Bridges the session opens (like the flags of `ecosym play`)');

const Show = z.strictObject({
  $schema: z.string().optional(),
  name: z.string().optional().describe('The show\'s name, for logs and the UI'),
  timezone: z.string().optional().describe('IANA time zone of the site, e.g. "Europe/Berlin" (default: the machine\'s)'),
  hemisphere: z.enum(['north', 'south']).default('north').describe('For seasons'),
  playlist: Playlist.describe('The playlist that plays unless a schedule rule picks another'),
  playlists: z.record(Name, Playlist).default({}).describe('Named playlists that schedule rules pick'),
  schedule: Schedule.optional(),
  maxLevel: Level.default(-1).describe('The output ceiling no patch, OSC message or UI control can exceed (dBFS, default -1)'),
  fadeIn: Duration.default(3).describe('Fade-in after every start and restart (default 3s)'),
  fadeOut: Duration.default(5).describe('Fade-out when the schedule turns the show off (default 5s)'),
  fallback: z.string().optional().describe('A safe patch played when every entry of the playlist keeps crashing'),
  silenceFloor: z.number().min(-120).max(-20).default(-60).describe('Output below this (dBFS RMS) counts as silence (default -60)'),
  output: z
    .strictObject({
      device: z.string().default('default').describe('"default", "none" (no sound card) or a device id'),
      channels: z.number().int().min(1).max(32).default(2),
    })
    .default({ device: 'default', channels: 2 }),
  bridges: Bridges.default({ oscAllow: [], oscOut: [] }),
  heartbeat: z
    .strictObject({
      to: z.array(z.string()).min(1).describe('OSC targets HOST:PORT of the show controller'),
      every: Duration.default(1),
      address: z.string().regex(/^\/\S+$/).default('/ecosym/heartbeat'),
    })
    .optional()
    .describe('An OSC heartbeat out: address, playing (1/0), uptime s, restarts, rms dBFS, level cap dBFS'),
  ui: z
    .strictObject({
      port: z.number().int().min(0).max(65535).default(8080),
      host: z.string().default('127.0.0.1'),
      token: z.string().min(16, 'a token of at least 16 characters').optional(),
    })
    .optional()
    .describe('The remote UI and REST API (and /health, /metrics)'),
  state: z.string().optional().describe('Where the state file is written (default: beside the show file, .<name>.state.json)'),
});

/** The show schema with cross-references checked (rules name playlists, thresholds need `until`). */
export const ShowSchema = Show.superRefine((s, ctx) => {
  const err = (path: (string | number)[], message: string) => ctx.addIssue({ code: 'custom', path, message });
  if (s.timezone !== undefined) {
    const p = timeZoneProblem(s.timezone);
    if (p) err(['timezone'], p);
  }
  s.schedule?.rules.forEach((r, i) => {
    if (!Object.hasOwn(s.playlists, r.playlist))
      err(['schedule', 'rules', i, 'playlist'], `unknown playlist "${r.playlist}" (playlists: ${Object.keys(s.playlists).join(', ') || 'none'})`);
  });
  const checkList = (list: ShowEntry[], at: (string | number)[]) =>
    list.forEach((e, i) => {
      if (e.for !== undefined && e.until !== undefined) err([...at, i, 'until'], 'give for or until, not both');
      if (list.length > 1 && e.for === undefined && e.until === undefined) err([...at, i], 'an entry of a playlist of several needs for or until');
    });
  checkList(s.playlist, ['playlist']);
  for (const [name, l] of Object.entries(s.playlists)) checkList(l, ['playlists', name]);
});

export type ShowFile = z.output<typeof ShowSchema>;
export type ShowInput = z.input<typeof ShowSchema>;
export type ShowEntry = z.output<typeof Entry>;
export type QuietHours = z.output<typeof Quiet>;
export type ScheduleRule = z.output<typeof Rule>;

/** The JSON Schema (draft 2020-12) of the show file. */
export function showJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(Show, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return {
    $id: 'https://eco-symphony.org/schema/show.schema.json',
    title: 'Eco-Symphony show',
    description: 'An installation\'s show file for `ecosym run` (generated from src/engine/core/showSchema.ts by `ecosym schema --show`).',
    ...schema,
  };
}

let showKeys: string[] | undefined;

export type ShowResult = { ok: true; show: ShowFile } | { ok: false; errors: PatchError[] };

/** Parses and validates show text (YAML or JSON). `file` is used in messages only. */
export function parseShowText(text: string, file: string, limits: PatchLimits = {}): ShowResult {
  const r = parseSchemaText(text, file, ShowSchema, {
    ...limits,
    what: 'show file',
    expected: 'expected a show object (playlist, schedule, ...)',
    knownKeys: () => (showKeys ??= collectKeys(showJsonSchema())),
  });
  return r.ok ? { ok: true, show: r.value } : r;
}
