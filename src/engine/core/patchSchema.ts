/**
 * The patch format: one zod schema is the single source of truth for the
 * TypeScript types, validation (with paths in errors), defaults, ranges and
 * units, and the JSON Schema that editors use (`ecosym schema`).
 *
 * A patch is data, never code. See README.md "Patch format" for a walkthrough.
 */
import { z } from 'zod';
import { parseDuration } from './units.ts';
import { MODE_NAMES, noteToMidi, parseChord, parseKey } from './theory.ts';
import { parseStepPattern, SUBDIVISIONS } from './rhythm.ts';
import { categoryMapProblems } from './filters.ts';
import { parseTarget, RESERVED_NAMES } from './targets.ts';
import { parseFlashTrigger } from './lighting.ts';
import { oscAddressProblem, parseOscOutSource } from './oscOut.ts';
import { allowEntryProblem } from './osc/allow.ts';
import { AGGREGATES, timeZoneProblem, type Aggregate } from './sources/uri.ts';
import { checkPositions, OutputSchema, PositionSchema } from './spatial.ts';

const NAME_RE = /^[A-Za-z][A-Za-z0-9_-]*$/;
const Name = z
  .string()
  .regex(NAME_RE, 'a name starts with a letter and holds only letters, digits, _ or -')
  .describe('An identifier: a letter, then letters, digits, _ or -');

/** Seconds, as a number or a string with a unit: "250ms", "30s", "2m", "1h". */
const Duration = z
  .union([z.number().nonnegative(), z.string()])
  .refine((v) => Number.isFinite(parseDuration(v)) && parseDuration(v) >= 0, {
    message: 'expected a duration: seconds as a number, or a string like "250ms", "30s", "2m", "1h"',
  })
  .transform((v) => parseDuration(v))
  .describe('Duration: seconds, or "250ms", "30s", "2m", "1h"');

const Decibels = (min: number, max: number, def: number, what: string) =>
  z.number().min(min).max(max).default(def).describe(`${what} in dB (${min}…${max}, default ${def})`);

const Unit01 = (def: number, what: string) =>
  z.number().min(0).max(1).default(def).describe(`${what}, 0…1 (default ${def})`);

const Range = z
  .tuple([z.number(), z.number()])
  .describe('[from, to]: the output when the signal is 0 and when it is 1');

// ---------------------------------------------------------------- streams
const StalePolicy = z
  .strictObject({
    after: Duration.default(600).describe('Silence after which the stream is stale (default 10m)'),
    then: z
      .enum(['hold', 'default', 'replay'])
      .default('hold')
      .describe('When stale: hold the last value, glide to the default, or replay the last recorded hours of the feed'),
    glide: Duration.default(30).describe('Glide time to the default, and back to live data when it returns (default 30s)'),
    history: Duration.default(21600).describe('How much recent data is kept (memory and disk cache) for replay (default 6h)'),
  })
  .describe('What the stream does when its feed goes quiet');

const Stream = z
  .strictObject({
    source: z
      .string()
      .optional()
      .describe(
        'Default source URI, overridden by `--data STREAM=URI`: a file relative to the patch ("../samples/data/f.csv#COLUMN@TIME", also .tsv .json .ndjson .geojson and recordings), "http(s)://…#JSONPATH&interval=60s", "ws://…#JSONPATH", "mqtt://host/topic/+#JSONPATH", "osc://:9000/address", or "sim:walk?min=0&max=100"',
      ),
    unit: z.string().optional().describe('Unit of the raw values, for display (e.g. "degC", "ppm", "m/s")'),
    default: z.number().default(0).describe('Raw value used before any data arrives'),
    valid: z
      .tuple([z.number(), z.number()])
      .refine(([lo, hi]) => hi > lo, { message: 'expected [lo, hi] with hi above lo' })
      .optional()
      .describe('Physically possible values [lo, hi]; others (sensor error codes like -9999) are rejected and counted'),
    maxRate: z
      .number()
      .positive()
      .optional()
      .describe('Largest believable change per second of data time; faster jumps are rejected as spikes (a new level is believed after 3 consistent readings)'),
    stale: StalePolicy.default({ after: 600, then: 'hold', glide: 30, history: 21600 }),
    description: z.string().optional().describe('What this stream is, and what it does to the sound'),
    where: z
      .record(z.string().min(1), z.union([z.string(), z.number()]))
      .optional()
      .describe('File sources: keep only rows whose column holds this value, e.g. { source: Renewables } (every one must match); for long-format files, one stream per value. Same as `&where=source=Renewables` in the URI'),
    agg: z
      .enum(AGGREGATES as [Aggregate, ...Aggregate[]])
      .optional()
      .describe('File sources: combine rows of the same time (or resampling step): mean, sum, last, max, min, first or count (how many: events a day with resample) (default: keep the first and report the others; with resample: mean). Same as `&agg=`'),
    resample: Duration.optional().describe('File sources: one value every step of data time ("1d", "1h", "30s"), combined by agg; CSV, JSON, NDJSON and GeoJSON alike. Same as `&resample=`'),
    tz: z
      .string()
      .refine((tz) => timeZoneProblem(tz) === undefined, { message: 'expected an IANA time zone like "Europe/Paris", "UTC", or an offset like "+02:00"' })
      .optional()
      .describe('File sources: time zone of date-times written without one (default UTC). Same as `&tz=`'),
  })
  .describe('A named input stream of timestamped numbers');

// ---------------------------------------------------------------- signals
const Percent = z.number().min(0).max(100);

const SignalRange = z
  .union([
    Range,
    z.literal('auto'),
    z
      .strictObject({
        auto: Duration.describe('Window of the rolling range, on the data\'s own timestamps'),
        percentiles: z
          .tuple([Percent, Percent])
          .optional()
          .describe('[lo, hi] percentiles (0…100) of the window as the range, e.g. [5, 95], so one spike does not squash it (default: min/max)'),
      })
      .superRefine((r, ctx) => {
        if (r.percentiles && !(r.percentiles[0] < r.percentiles[1]))
          ctx.addIssue({ code: 'custom', path: ['percentiles'], message: `expected lo < hi (got [${r.percentiles.join(', ')}])` });
      }),
  ])
  .describe('Input range in the stream units: [lo, hi], "auto" (all-time min/max), { auto: "24h" } (rolling window) or { auto: "24h", percentiles: [5, 95] } (default "auto")');

const Signal = z
  .strictObject({
    from: Name.describe('The stream this signal conditions'),
    range: SignalRange.default('auto'),
    curve: z.enum(['lin', 'exp', 'log']).default('lin').describe('Response curve after normalising to 0…1'),
    smooth: Duration.default(0).describe('Exponential smoothing time constant (default 0: none)'),
    filter: z
      .strictObject({
        oneEuro: z
          .strictObject({
            minCutoff: z.number().positive().max(1000).default(1).describe('Cutoff at rest in Hz: lower = steadier when slow (default 1)'),
            beta: z.number().min(0).max(1000).default(0).describe('Cutoff rise per unit of speed: higher = less lag when fast (default 0)'),
            dCutoff: z.number().positive().max(1000).default(1).describe('Cutoff of the speed estimate in Hz (default 1)'),
          })
          .describe('1€ filter (Casiez et al. 2012) on playing time: smooths slow drift hard, follows fast moves'),
      })
      .optional()
      .describe('Adaptive smoothing instead of `smooth`'),
    slew: z
      .number()
      .positive()
      .max(1000)
      .optional()
      .describe('Maximum change of the signal per second of playing time (e.g. 0.5 = half its range per second)'),
    clamp: z.boolean().default(true).describe('Clamp the normalised value to 0…1'),
    invert: z.boolean().default(false).describe('Use 1 − value'),
    outliers: z
      .strictObject({
        window: z.number().int().min(3).max(1001).default(7).describe('Number of recent samples judged together (default 7)'),
        threshold: z.number().positive().max(100).default(3).describe('Outlier beyond threshold × 1.4826 × MAD from the median (default 3)'),
        action: z.enum(['reject', 'replace']).default('reject').describe('Drop an outlier, or use the window median instead (default reject)'),
      })
      .optional()
      .describe('Hampel filter on the raw values: drops or replaces spikes (counted)'),
    derive: z.enum(['rate']).optional().describe('"rate": condition the rate of change of the stream instead of its value (the first sample gives none)'),
    rateUnit: z
      .enum(['s', 'min', 'h', 'd'])
      .optional()
      .describe('derive "rate": raw units per second, minute, hour or day of data time (default s)'),
    categories: z
      .record(z.string(), z.number())
      .optional()
      .describe('Text values → raw numbers before conditioning, e.g. { rain: 0.8, snow: 1, clear: 0 } (case and spaces ignored; unknown text is refused)'),
    threshold: z
      .strictObject({
        above: z.number().min(0).max(1).optional().describe('Turns on when the signal reaches this (0…1)'),
        below: z.number().min(0).max(1).optional().describe('Turns on when the signal drops to this (0…1)'),
        hysteresis: z.number().min(0).max(1).default(0.05).describe('Turns off only at above − hysteresis (or below + hysteresis)'),
        hold: Duration.default(0).describe('Least playing time on each side: after turning on (or off) the threshold stays so at least this long, so noisy data cannot make it flicker (e.g. "10s"; default 0)'),
      })
      .superRefine((t, ctx) => {
        if ((t.above === undefined) === (t.below === undefined))
          ctx.addIssue({ code: 'custom', path: [], message: `expected exactly one of above or below; got ${t.above === undefined ? 'none' : 'both'}` });
      })
      .meta({ oneOf: [{ required: ['above'] }, { required: ['below'] }] }) // the same rule for JSON Schema editors
      .optional()
      .describe('Emit on/off events when the signal crosses a level (for scenes and one-shots)'),
  })
  .superRefine((s, ctx) => {
    if (s.filter && s.smooth > 0)
      ctx.addIssue({ code: 'custom', path: ['filter'], message: 'use either smooth (EMA) or filter.oneEuro, not both' });
    if (s.rateUnit !== undefined && s.derive !== 'rate')
      ctx.addIssue({ code: 'custom', path: ['rateUnit'], message: 'rateUnit needs derive: rate' });
    if (s.categories)
      for (const problem of categoryMapProblems(s.categories)) ctx.addIssue({ code: 'custom', path: ['categories'], message: problem });
  })
  .describe('Conditioning of one stream into a 0…1 control signal');

// ---------------------------------------------------------------- buses
const BUS_FIELDS = {
  reverb: ['decay', 'preDelay'],
  delay: ['time', 'feedback'],
  chorus: ['frequency', 'depth'],
} as const;

const Bus = z
  .strictObject({
    type: z.enum(['reverb', 'delay', 'chorus']).describe('Effect on this shared bus'),
    wet: Unit01(0.5, 'Return level of the bus into the mix'),
    decay: z.number().min(0.1).max(20).optional().describe('reverb: decay time in seconds (default 3)'),
    preDelay: z.number().min(0).max(0.5).optional().describe('reverb: pre-delay in seconds (default 0.02)'),
    time: z
      .union([z.number().min(0.001).max(4), z.enum(Object.keys(SUBDIVISIONS) as [string, ...string[]]), z.enum(['8n.', '4n.', '16n.'])])
      .optional()
      .describe('delay: seconds, or a note value synced to tempo ("8n", "8n.", "4n") (default "8n."); echoes repeat no faster than every 128 samples (2.7 ms at 48 kHz), Web Audio\'s shortest delay inside a loop'),
    feedback: z.number().min(0).max(0.95).optional().describe('delay: feedback 0…0.95 (default 0.35); the echoes die away at any value (the loop never gains)'),
    frequency: z.number().min(0.01).max(20).optional().describe('chorus: LFO rate in Hz (default 0.6)'),
    depth: z.number().min(0).max(1).optional().describe('chorus: depth 0…1 (default 0.5)'),
    position: PositionSchema.optional(),
  })
  .superRefine((bus, ctx) => {
    const allowed: readonly string[] = BUS_FIELDS[bus.type];
    for (const [type, fields] of Object.entries(BUS_FIELDS)) {
      if (type === bus.type) continue;
      for (const f of fields) {
        if ((bus as Record<string, unknown>)[f] !== undefined && !allowed.includes(f)) {
          ctx.addIssue({ code: 'custom', path: [f], message: `"${f}" applies to ${type} buses, not ${bus.type}` });
        }
      }
    }
  })
  .describe('A shared effect bus; voices send to it');

// ---------------------------------------------------------------- voices
const SYNTHS = ['synth', 'fm', 'am', 'mono', 'pluck', 'membrane', 'metal', 'noise', 'sampler'] as const;

const Envelope = z
  .strictObject({
    attack: z.number().min(0.001).max(30).optional().describe('seconds'),
    decay: z.number().min(0.001).max(30).optional().describe('seconds'),
    sustain: z.number().min(0).max(1).optional().describe('level 0…1'),
    release: z.number().min(0.001).max(60).optional().describe('seconds'),
  })
  .describe('Amplitude envelope');

const Filter = z
  .strictObject({
    type: z.enum(['lowpass', 'highpass', 'bandpass']).default('lowpass'),
    frequency: z.number().min(20).max(20000).default(18000).describe('Cutoff in Hz'),
    q: z.number().min(0.1).max(30).default(0.7).describe('Resonance (Q)'),
  })
  .describe('A filter after the voice (one per voice, shared by its notes)');

const NoteName = z.string().refine((s) => noteToMidi(s) !== undefined, {
  message: 'expected a note name with octave, like "C4", "F#2" or "Bb5"',
});

const Notes = z
  .strictObject({
    mode: z
      .enum(['chord', 'arp-up', 'arp-down', 'random', 'root', 'fixed'])
      .default('random')
      .describe(
        'How notes are chosen: the whole current chord, an arpeggio over it, random scale notes weighted to chord tones, the chord root, or one fixed note',
      ),
    octave: z.number().int().min(0).max(8).default(4).describe('Base octave (register)'),
    spread: z.number().int().min(0).max(3).default(1).describe('Octaves above the base that arpeggios and random notes may use'),
    note: NoteName.optional().describe('The note for mode "fixed"'),
    length: z.number().min(0.1).max(64).default(1).describe('Note length in rhythm steps'),
  })
  .superRefine((n, ctx) => {
    if (n.mode === 'fixed' && n.note === undefined)
      ctx.addIssue({ code: 'custom', path: ['note'], message: 'mode "fixed" needs a note, like "C2"' });
  })
  .describe('Pitch choice');

const Rhythm = z
  .strictObject({
    euclid: z
      .tuple([z.number().int().min(0).max(64), z.number().int().min(1).max(64)])
      .optional()
      .describe('[pulses, steps]: pulses spread as evenly as possible over the steps'),
    pattern: z
      .string()
      .refine((s) => typeof parseStepPattern(s) !== 'string', { message: 'expected a step pattern of x, X, . or -' })
      .optional()
      .describe('Steps: x = hit, X = accent, . = rest, e.g. "x..x..x."'),
    hold: z
      .boolean()
      .optional()
      .describe('Sustain notes from one chord change to the next (drones and pads)'),
    every: z.enum(Object.keys(SUBDIVISIONS) as [string, ...string[]]).default('16n').describe('Length of one step'),
    rotate: z.number().int().default(0).describe('Rotate the pattern left by this many steps'),
  })
  .superRefine((r, ctx) => {
    const kinds = ['euclid', 'pattern', 'hold'].filter((k) => (r as Record<string, unknown>)[k] !== undefined);
    if (kinds.length !== 1)
      ctx.addIssue({
        code: 'custom',
        path: [],
        message: `expected exactly one of euclid, pattern or hold; got ${kinds.length ? kinds.join(' and ') : 'none'}`,
      });
    if (r.euclid && r.euclid[0] > r.euclid[1])
      ctx.addIssue({ code: 'custom', path: ['euclid'], message: `pulses (${r.euclid[0]}) cannot exceed steps (${r.euclid[1]})` });
  })
  .describe('When the voice plays');

const Voice = z
  .strictObject({
    synth: z.enum(SYNTHS).describe('Instrument: Tone.js synths, filtered noise, or a sampler over files in samples/'),
    oscillator: z
      .enum(['sine', 'triangle', 'sawtooth', 'square', 'fatsine', 'fattriangle', 'fatsawtooth', 'fatsquare'])
      .optional()
      .describe('Oscillator type for synth, mono, fm and am'),
    noise: z.enum(['white', 'pink', 'brown']).optional().describe('Noise colour for synth "noise"'),
    samples: z
      .record(z.string(), z.string())
      .optional()
      .describe('For synth "sampler": note name → WAV file relative to the patch, e.g. { C6: "../samples/drops/drop-1.wav" }'),
    poly: z.number().int().min(1).max(16).default(4).describe('Most notes sounding at once: the voice makes instruments as notes need them, up to this many'),
    volume: Decibels(-60, 24, -12, 'Voice level'),
    pan: z.number().min(-1).max(1).default(0).describe('Stereo position −1…1'),
    detune: z.number().min(-1200).max(1200).default(0).describe('Detune in cents'),
    harmonicity: z.number().min(0.1).max(20).optional().describe('fm/am: modulator to carrier frequency ratio'),
    modulationIndex: z.number().min(0).max(100).optional().describe('fm: modulation depth'),
    envelope: Envelope.optional(),
    filter: Filter.optional(),
    notes: Notes.default({ mode: 'random', octave: 4, spread: 1, length: 1 }),
    rhythm: Rhythm,
    density: Unit01(1, 'Probability that each rhythmic hit plays'),
    velocity: Unit01(0.7, 'Note velocity'),
    send: z.record(Name, z.number().min(0).max(1)).default({}).describe('Send levels to buses, 0…1'),
    position: PositionSchema.optional(),
  })
  .superRefine((v, ctx) => {
    if (v.synth === 'sampler' && (!v.samples || Object.keys(v.samples).length === 0))
      ctx.addIssue({ code: 'custom', path: ['samples'], message: 'a sampler needs samples: { C4: "file.wav", ... }' });
    if (v.samples)
      for (const note of Object.keys(v.samples))
        if (noteToMidi(note) === undefined)
          ctx.addIssue({ code: 'custom', path: ['samples', note], message: `"${note}" is not a note name like "C4"` });
  })
  .describe('A voice: an instrument with a fixed pool of notes, a rhythm and a pitch rule');

// ---------------------------------------------------------------- mappings
const Mapping = z
  .strictObject({
    from: Name.describe('Signal name'),
    to: z
      .string()
      .describe(
        'Target: "<voice>.volume|pan|detune|filter.frequency|filter.q|density|octave|velocity|harmonicity|modulationIndex", "<voice>.send.<bus>", "<voice>.trigger", "<bus>.wet|feedback", "master.volume", "tempo", "key.mode", "scene"',
      ),
    range: Range.optional().describe('Output range; defaults depend on the target (e.g. volume −40…0 dB)'),
    curve: z.enum(['lin', 'exp', 'log']).optional().describe('exp on positive ranges is geometric (right for Hz)'),
    glide: Duration.optional().describe('Ramp time constant for parameter changes (default 0.05 s)'),
    steps: z.array(z.string()).min(1).optional().describe('key.mode: modes chosen by value; scene: scenes chosen by value'),
    on: Name.optional().describe('scene: the scene when the signal threshold turns on'),
    off: Name.optional().describe('scene: the scene when it turns off'),
    note: NoteName.optional().describe('trigger: the note to play (default: the chord root)'),
    hold: Duration.optional().describe('scene and key.mode: least playing time between two changes this mapping makes (e.g. "20s"); changes due sooner wait (default 0)'),
  })
  .describe('Drives a target from a signal');

// ---------------------------------------------------------------- scenes
const Scene = z
  .strictObject({
    fade: Duration.default(4).describe('Crossfade time into this scene (default 4s)'),
    tempo: z.number().min(20).max(300).optional().describe('Tempo in this scene (BPM)'),
    voices: z
      .record(
        Name,
        z.strictObject({
          volume: z.number().min(-60).max(12).optional().describe('Level offset in dB in this scene'),
          mute: z.boolean().optional().describe('Silence the voice in this scene'),
          density: z.number().min(0).max(4).optional().describe('Multiplies the voice density'),
          octave: z.number().int().min(-3).max(3).optional().describe('Shifts the voice register by octaves'),
        }),
      )
      .default({}),
  })
  .describe('A named state of the piece; switching crossfades');

// ---------------------------------------------------------------- lighting
const DmxChannel = z.number().int().min(1).max(512).describe('DMX channel, 1…512 (a 16-bit channel also uses the next one)');
const DmxBits = z.union([z.literal(8), z.literal(16)]).default(8).describe('8-bit, or 16-bit (coarse on the channel, fine on the next)');

const Lighting = z
  .strictObject({
    artnet: z
      .strictObject({
        host: z.string().min(1).default('255.255.255.255').describe('Node or broadcast address (default: broadcast); overridden by --artnet HOST[:UNIVERSE]'),
        universe: z.number().int().min(0).max(32767).default(0).describe('Art-Net port address: net·sub-net·universe, 0…32767'),
        fps: z.number().min(1).max(44).default(30).describe('Frames per second, at most 44 (DMX512 refresh)'),
      })
      .optional()
      .describe('Art-Net DMX output'),
    sacn: z
      .strictObject({
        universe: z.number().int().min(1).max(63999).default(1).describe('sACN universe, 1…63999'),
        host: z.string().min(1).optional().describe("Unicast receiver; default: the universe's multicast group 239.255.x.y"),
        fps: z.number().min(1).max(44).default(30).describe('Frames per second, at most 44'),
      })
      .optional()
      .describe('sACN (E1.31) DMX output; overridden by --sacn [HOST:]UNIVERSE'),
    channels: z
      .array(
        z.strictObject({
          channel: DmxChannel,
          from: Name.describe('Signal that drives the channel'),
          range: z.tuple([z.number().min(0).max(1), z.number().min(0).max(1)]).default([0, 1]).describe('Level (0…1 of full scale) for signal 0 and 1'),
          bits: DmxBits,
          fade: Duration.default(0.2).describe('Fade time constant (default 0.2s)'),
        }),
      )
      .default([])
      .describe('Channels that follow signals'),
    flashes: z
      .array(
        z.strictObject({
          channel: DmxChannel,
          on: z
            .string()
            .refine((s) => typeof parseFlashTrigger(s) !== 'string', { message: 'expected note[:voice], beat, bar, threshold:signal or scene[:name]' })
            .describe('What fires the flash: "note", "note:bells", "beat", "bar", "threshold:gale", "scene", "scene:storm"'),
          level: Unit01(1, 'Peak level (notes scale it by velocity)'),
          decay: Duration.default(0.3).describe('Time from peak to dark (default 0.3s)'),
          bits: DmxBits,
        }),
      )
      .default([])
      .describe('Flashes fired by notes, beats, thresholds or scene changes'),
  })
  .describe('Lighting: DMX over Art-Net, from signals and events; blacks out on panic');

// ---------------------------------------------------------------- osc
const HostPort = z
  .string()
  .regex(/^[^:\s]+:\d{1,5}$/, 'expected HOST:PORT, like 127.0.0.1:7000')
  .refine((t) => Number(t.split(':')[1]) > 0 && Number(t.split(':')[1]) < 65536, { message: 'port out of range (1…65535)' });

const Osc = z
  .strictObject({
    in: z
      .strictObject({
        port: z.number().int().min(1).max(65535).describe('UDP port for the control address space (/eco/…)'),
        host: z
          .string()
          .default('127.0.0.1')
          .describe('Interface to listen on (default 127.0.0.1: this machine only; 0.0.0.0 opens it to the network)'),
        allow: z
          .array(z.string().refine((a) => allowEntryProblem(a) === undefined, { message: 'expected an IP address or CIDR range like 192.168.1.0/24 or 10.0.0.5' }))
          .min(1)
          .optional()
          .describe('Senders accepted (IP addresses or CIDR ranges); packets from others are dropped and counted. --osc-allow CIDR (repeatable) replaces it'),
      })
      .optional()
      .describe('OSC control in; overridden by --osc-in [HOST:]PORT'),
    out: z
      .strictObject({
        targets: z.array(HostPort).default([]).describe('Receivers as HOST:PORT; --osc-out HOST:PORT (repeatable) replaces them'),
        rate: z.number().min(1).max(200).default(20).describe('Times per second continuous values are checked and sent when they change'),
        bundles: z
          .boolean()
          .default(false)
          .describe('Send timed bundles ahead of time (receivers that honour timetags), instead of each message when due'),
        messages: z
          .array(
            z.strictObject({
              address: z.string().refine((a) => oscAddressProblem(a) === undefined, { message: 'expected an OSC address like /eco/warmth (no spaces, no wildcards)' }),
              from: z
                .string()
                .refine((t) => typeof parseOscOutSource(t) !== 'string', {
                  message: 'expected signal:NAME, stream:NAME, note[:VOICE], beat, bar, scene, threshold:SIGNAL or mute',
                })
                .describe('What is sent: a signal or stream value, notes (note, velocity, duration), beats (beat, bar, tempo), bars, scene names, threshold on/off (1/0), mute (muted, panic)'),
              range: z.tuple([z.number(), z.number()]).optional().describe('signal: the values sent for 0 and 1 (e.g. [0, 255]); note: the velocity range'),
              int: z.boolean().default(false).describe('Send integers instead of floats'),
            }),
          )
          .min(1)
          .describe('The messages, one per address'),
      })
      .optional()
      .describe('OSC out to a rig'),
  })
  .describe('OSC: control in, messages out');
// ---------------------------------------------------------------- midi
const MidiChannel = z.number().int().min(1).max(16).describe('MIDI channel, 1…16');
const MidiBits = z
  .union([z.literal(7), z.literal(14)])
  .default(7)
  .describe('7-bit, or 14-bit: MSB on controller n (0…31), LSB on n + 32');

/** One incoming controller or pitch bend and what it does (also the form of learned bindings). */
export const MidiControl = z
  .strictObject({
    cc: z.number().int().min(0).max(127).optional().describe('Controller number, 0…127 (for a 14-bit pair, its MSB: 0…31)'),
    bend: z.literal(true).optional().describe('Pitch bend instead of a controller'),
    channel: MidiChannel.optional().describe('Only this channel (default: any channel)'),
    bits: MidiBits,
    stream: Name.optional().describe('Feed this stream: a controller as 0…1, pitch bend as −1…1'),
    to: z
      .string()
      .optional()
      .describe('Or drive this target, named as in mappings: "pad.filter.frequency", "hall.wet", "master.volume", "tempo", "scene" (scenes in order), "bells.trigger" (fires at half way up)'),
    range: Range.optional().describe('Target value at 0 and at full scale (default: the target\'s mapping range)'),
    curve: z.enum(['lin', 'exp', 'log']).optional().describe('Response curve (default: the target\'s)'),
  })
  .superRefine((c, ctx) => {
    if ((c.cc === undefined) === (c.bend === undefined))
      ctx.addIssue({ code: 'custom', path: [], message: `expected exactly one of cc or bend; got ${c.cc === undefined ? 'none' : 'both'}` });
    if ((c.stream === undefined) === (c.to === undefined))
      ctx.addIssue({ code: 'custom', path: [], message: `expected exactly one of stream or to; got ${c.stream === undefined ? 'none' : 'both'}` });
    if (c.bits === 14 && c.cc !== undefined && c.cc > 31)
      ctx.addIssue({ code: 'custom', path: ['cc'], message: `a 14-bit controller is an MSB, 0…31 (its LSB is cc + 32); got ${c.cc}` });
    if (c.bits === 14 && c.bend) ctx.addIssue({ code: 'custom', path: ['bits'], message: 'pitch bend is always 14-bit; leave bits out' });
    if ((c.range || c.curve) && c.stream !== undefined)
      ctx.addIssue({ code: 'custom', path: [c.range ? 'range' : 'curve'], message: 'range and curve apply to targets (to), not streams: condition a stream in its signals' });
  })
  .describe('An incoming controller or pitch bend that feeds a stream or drives a target');

const MidiSend = z
  .strictObject({
    from: Name.describe('Signal sent (its 0…1 value, at full resolution)'),
    cc: z.number().int().min(0).max(127).describe('Controller number (for 14-bit: the MSB, 0…31)'),
    channel: MidiChannel.default(1),
    bits: MidiBits,
  })
  .superRefine((c, ctx) => {
    if (c.bits === 14 && c.cc > 31) ctx.addIssue({ code: 'custom', path: ['cc'], message: `a 14-bit controller is an MSB, 0…31 (its LSB is cc + 32); got ${c.cc}` });
  })
  .describe('A signal sent out as a control change');

const Midi = z
  .strictObject({
    input: z.string().min(1).optional().describe('Input port: its name or a part of it (case ignored); overridden by --midi-in'),
    output: z.string().min(1).optional().describe('Output port: its name or a part of it (case ignored); overridden by --midi-out'),
    play: z
      .record(Name, z.union([MidiChannel, z.literal('all')]))
      .optional()
      .describe('Incoming notes play voices: voice → the channel it listens to (1…16, or "all"). Default: notes on any channel play the first voice'),
    channels: z
      .record(Name, MidiChannel)
      .optional()
      .describe('Generated notes go out: voice → channel; voices not listed stay in. Default: every voice, in patch order, on channels 1, 2, 3…'),
    controls: z.array(MidiControl).default([]).describe('Incoming controllers and pitch bend → streams or targets (MIDI learn adds to these in <patch>.midi.json)'),
    send: z.array(MidiSend).default([]).describe('Signals sent out as control changes, 7- or 14-bit'),
    clock: z
      .strictObject({
        out: z.boolean().default(false).describe('Send MIDI clock (24 per beat) with Start, Stop, Continue and Song Position, on the engine\'s beats'),
        in: z.boolean().default(false).describe('Follow an incoming MIDI clock: its tempo, and Start/Stop/Continue'),
      })
      .default({ out: false, in: false })
      .describe('MIDI clock'),
    programs: z
      .record(z.string().regex(/^([1-9]|[1-9][0-9]|1[01][0-9]|12[0-8])$/, 'a program number, 1…128'), Name)
      .optional()
      .describe('Program change → scene: program number (1…128, as synths show them) → scene. Default: program n selects the n-th scene'),
  })
  .describe('MIDI in and out: live notes, controllers (and MIDI learn), program changes, notes and signals out, clock');

// ---------------------------------------------------------------- patch
const PatchBase = z.strictObject({
  $schema: z.string().optional().describe('Path or URL of the JSON Schema, for editors'),
  name: z.string().min(1).describe('Display name'),
  description: z.string().default('').describe('What the piece is and what the data does to it'),
  seed: z.number().int().min(0).max(4294967295).default(1).describe('Seed of every random choice'),
  tempo: z.number().min(20).max(300).default(90).describe('Tempo in BPM (4/4)'),
  key: z
    .string()
    .refine((s) => typeof parseKey(s) !== 'string', {
      message: `expected a key like "D dorian" (modes: ${MODE_NAMES.join(', ')})`,
    })
    .default('C minor')
    .describe('Tonic and mode, e.g. "D dorian", "F# minor"'),
  harmony: z
    .strictObject({
      progression: z
        .array(z.string().refine((s) => typeof parseChord(s) !== 'string', { message: 'expected a roman numeral like "i", "IV", "v7"' }))
        .min(1)
        .default(['i'])
        .describe('Chords in order, one every barsPerChord bars, then round again: "i", "iv", "VI", "v7"'),
      barsPerChord: z.number().int().min(1).max(64).default(2).describe('Bars each chord lasts'),
    })
    .default({ progression: ['i'], barsPerChord: 2 })
    .describe('Chord progression in roman numerals, diatonic to the key'),
  streams: z.record(Name, Stream).refine((r) => Object.keys(r).length > 0, { message: 'a patch needs at least one stream' }),
  signals: z.record(Name, Signal).default({}),
  buses: z.record(Name, Bus).default({}),
  voices: z.record(Name, Voice).refine((r) => Object.keys(r).length > 0, { message: 'a patch needs at least one voice' }),
  mappings: z.array(Mapping).default([]),
  scenes: z.record(Name, Scene).default({}),
  scene: Name.optional().describe('The scene to start in (default: the first)'),
  osc: Osc.optional(),
  lighting: Lighting.optional(),
  midi: Midi.optional(),
  master: z
    .strictObject({
      volume: Decibels(-60, 12, -6, 'Master level before the limiter'),
      ceiling: Decibels(-20, -0.1, -1, 'Hard output ceiling (sample peak)'),
    })
    .default({ volume: -6, ceiling: -1 }),
  output: OutputSchema.optional(),
});

/** The patch schema with cross-references checked (unknown voice, bus, stream, signal or scene). */
export const PatchSchema = PatchBase.superRefine((p, ctx) => {
  const voices = Object.keys(p.voices);
  const buses = Object.keys(p.buses);
  const scenes = Object.keys(p.scenes);
  const err = (path: (string | number)[], message: string) => ctx.addIssue({ code: 'custom', path, message });
  for (const n of [...voices, ...buses])
    if (RESERVED_NAMES.includes(n)) err([voices.includes(n) ? 'voices' : 'buses', n], `"${n}" is reserved; pick another name`);
  for (const n of voices) if (buses.includes(n)) err(['buses', n], `"${n}" is both a voice and a bus`);
  for (const [name, s] of Object.entries(p.signals))
    if (!Object.hasOwn(p.streams, s.from)) err(['signals', name, 'from'], `unknown stream "${s.from}" (streams: ${Object.keys(p.streams).join(', ')})`);
  for (const [name, v] of Object.entries(p.voices))
    for (const bus of Object.keys(v.send))
      if (!buses.includes(bus)) err(['voices', name, 'send', bus], `unknown bus "${bus}" (buses: ${buses.join(', ') || 'none'})`);
  p.mappings.forEach((m, i) => {
    const sig = Object.hasOwn(p.signals, m.from) ? p.signals[m.from] : undefined;
    if (!sig) err(['mappings', i, 'from'], `unknown signal "${m.from}" (signals: ${Object.keys(p.signals).join(', ') || 'none'})`);
    const t = parseTarget(m.to, voices, buses);
    if (typeof t === 'string') return err(['mappings', i, 'to'], t);
    if (t.kind === 'mode')
      m.steps?.forEach((s, j) => {
        if (!(MODE_NAMES as string[]).includes(s)) err(['mappings', i, 'steps', j], `unknown mode "${s}" (modes: ${MODE_NAMES.join(', ')})`);
      });
    if (t.kind === 'mode' && !m.steps) err(['mappings', i, 'steps'], 'key.mode needs steps: a list of modes');
    if (t.kind === 'scene') {
      if (!m.steps && !m.on && !m.off) err(['mappings', i], 'a scene mapping needs on/off scenes or steps');
      if ((m.on || m.off) && sig && !sig.threshold)
        err(['mappings', i, 'on'], `on/off need a threshold on signal "${m.from}"`);
      for (const [k, s] of [['on', m.on], ['off', m.off]] as const)
        if (s !== undefined && !scenes.includes(s)) err(['mappings', i, k], `unknown scene "${s}" (scenes: ${scenes.join(', ') || 'none'})`);
      m.steps?.forEach((s, j) => {
        if (!scenes.includes(s)) err(['mappings', i, 'steps', j], `unknown scene "${s}" (scenes: ${scenes.join(', ') || 'none'})`);
      });
    }
    if (m.range && t.kind === 'master' && Math.max(...m.range) > 12) err(['mappings', i, 'range'], 'master.volume above +12 dB');
  });
  for (const [name, s] of Object.entries(p.scenes))
    for (const v of Object.keys(s.voices))
      if (!voices.includes(v)) err(['scenes', name, 'voices', v], `unknown voice "${v}" (voices: ${voices.join(', ')})`);
  p.osc?.out?.messages.forEach((m, i) => {
    const f = parseOscOutSource(m.from);
    if (typeof f === 'string') return;
    const at = ['osc', 'out', 'messages', i, 'from'];
    if (f.kind === 'signal' && !Object.hasOwn(p.signals, f.name)) err(at, `unknown signal "${f.name}" (signals: ${Object.keys(p.signals).join(', ') || 'none'})`);
    if (f.kind === 'stream' && !Object.hasOwn(p.streams, f.name)) err(at, `unknown stream "${f.name}" (streams: ${Object.keys(p.streams).join(', ')})`);
    if (f.kind === 'note' && f.voice !== undefined && !voices.includes(f.voice)) err(at, `unknown voice "${f.voice}" (voices: ${voices.join(', ')})`);
    if (f.kind === 'threshold' && !(Object.hasOwn(p.signals, f.signal) && p.signals[f.signal]!.threshold)) err(at, `"${f.signal}" is not a signal with a threshold`);
  });
  p.lighting?.channels.forEach((c, i) => {
    if (!Object.hasOwn(p.signals, c.from)) err(['lighting', 'channels', i, 'from'], `unknown signal "${c.from}" (signals: ${Object.keys(p.signals).join(', ') || 'none'})`);
    if (c.bits === 16 && c.channel > 511) err(['lighting', 'channels', i, 'channel'], 'a 16-bit channel needs the next one too: at most 511');
  });
  p.lighting?.flashes.forEach((f, i) => {
    const t = parseFlashTrigger(f.on);
    if (typeof t === 'string') return;
    if (f.bits === 16 && f.channel > 511) err(['lighting', 'flashes', i, 'channel'], 'a 16-bit channel needs the next one too: at most 511');
    if (t.kind === 'note' && t.voice !== undefined && !voices.includes(t.voice)) err(['lighting', 'flashes', i, 'on'], `unknown voice "${t.voice}" (voices: ${voices.join(', ')})`);
    if (t.kind === 'scene' && t.scene !== undefined && !scenes.includes(t.scene)) err(['lighting', 'flashes', i, 'on'], `unknown scene "${t.scene}" (scenes: ${scenes.join(', ') || 'none'})`);
    if (t.kind === 'threshold' && !(Object.hasOwn(p.signals, t.signal) && p.signals[t.signal]!.threshold)) err(['lighting', 'flashes', i, 'on'], `"${t.signal}" is not a signal with a threshold`);
  });
  checkPositions(p, err);
  if (p.scene !== undefined && !scenes.includes(p.scene)) err(['scene'], `unknown scene "${p.scene}" (scenes: ${scenes.join(', ') || 'none'})`);
});

/** A validated patch with defaults applied. */
export type Patch = z.output<typeof PatchSchema>;
/** A patch as written in a file (defaults optional). */
export type PatchInput = z.input<typeof PatchSchema>;
export type VoiceSpec = Patch['voices'][string];
export type BusSpec = Patch['buses'][string];
export type SignalSpec = Patch['signals'][string];
export type MappingSpec = Patch['mappings'][number];
export type SceneSpec = Patch['scenes'][string];

/** The JSON Schema (draft 2020-12) of the patch format, for editors and ajv. */
export function patchJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(PatchBase, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return {
    $id: 'https://eco-symphony.org/schema/patch.schema.json',
    title: 'Eco-Symphony patch',
    description: 'A data-to-sound patch for Eco-Symphony (generated from src/engine/core/patchSchema.ts by `ecosym schema`).',
    ...schema,
  };
}
