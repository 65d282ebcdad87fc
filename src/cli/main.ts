/**
 * `ecosym`: the command-line host of the engine.
 */
import '../engine/node/platform/installGlobals.ts';
import { getPriority, setPriority } from 'node:os';
import { delimiter, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { PATCHES_DIR } from '../engine/node/files.ts';
import { probeAudioDevice } from './audioProbe.ts';
import { describeError, UsageError } from './common.ts';
import { patchesCommand, schemaCommand, validateCommand } from './info.ts';
import { midiCommand } from './midi.ts';
import { newCommand } from './new.ts';
import { serviceCommand } from './service.ts';
import { inspectCommand, validateDataCommand } from './inspect.ts';
import { devicesCommand } from './devices.ts';
import { playCommand } from './play.ts';
import { renderCommand } from './render.ts';
import { serveCommand } from './serve.ts';
import { desktopDecision, localProbe, noDesktopLine, openDesktop } from './desktop.ts';
import { recordCommand, sourcesCommand } from './sources.ts';
import { guardClosedOutput, signalExitCode } from './stop.ts';

/** The patch `npm start` plays. */
export const DEMO_PATCH = 'seattle-drift';

const HELP = `ecosym — ecological data into generative music

Usage:
  ecosym render <patch> [--duration 60s] [--out out/x.wav] [--seed N] [--sample-rate 48000]
                        [--data STREAM=URI ...] [--speed N] [--bits 16|24|32f] [--osc-log out.jsonl] [--midi out.mid]
                        [--channels N] [--format wav|flac] [--stems] [--segment 60s|off]
  ecosym play <patch> [--sink none] [--duration 30s] [--data STREAM=URI ...] [--speed N] [--loop 10m] [--seed N]
                      [--osc-in [HOST:]PORT] [--osc-allow CIDR ...] [--osc-out HOST:PORT ...] [--oscquery [HOST:]PORT]
                      [--artnet HOST[:UNIVERSE]] [--sacn [HOST:]UNIVERSE]
                      [--midi-in NAME] [--midi-out NAME] [--midi-learn TARGET|stream:NAME] [--verbose] [--watch]
                      [--device NAME] [--sample-rate N]
                      [--patches-dir DIR]   the user's patch folder the Library and Author screens use
  ecosym serve [patch] [--port 8080] [--host 127.0.0.1] [--token T] [--view-token T] [--ui DIR]
                      [--sink none] and play's flags: plays and serves the UI, a WebSocket (/api/ws),
                      a REST API (/api/state, /api/load, /api/scene, /api/param, /api/mute, /api/panic)
                      and /health; prints the URL with its token (a QR code on a terminal)
  ecosym sources <patch> [--data STREAM=URI ...] [--for 10s] [--json]   live status of each stream's source
  ecosym record <uri> --out feed.csv [--for 10m] [--stream NAME]       capture a feed as a replayable CSV
  ecosym midi [ports] [--json]    the MIDI ports here, or why there is no MIDI (exit 4)
  ecosym devices [--json]         the audio output devices here (for play --device), or why none (exit 3)
  ecosym schema [--show] [--out schema/patch.schema.json]   the JSON Schema of patches (of show files with --show)
  ecosym schema --markdown [--out docs/patch-reference.md]   the patch reference: every field, default, range, unit, with examples
  ecosym validate <patch...> [--no-data]   the patch, its samples and (unless --no-data) its data:
                         per stream count, span, min/max; ranges and thresholds against them
  ecosym inspect <patch> [--data STREAM=URI ...] [--json]   that data report, with a plot of each stream and signal
  ecosym patches [--json]
  ecosym new <name> [--from PATCH] [--out DIR]   write DIR/<name>.yaml: a commented starter patch on bundled
                         data, or a copy of PATCH (comments kept, data and sample paths rewritten); never overwrites
  ecosym run <show.yaml> [--port 8080] [--token T] [--sink none] [--log-dir DIR]   an installation: supervised, scheduled, self-healing
  ecosym logs [show.yaml|DIR] [--follow] [--level warn] [--json]   the installation's logs, pretty
  ecosym service install|uninstall <show.yaml> [--user|--system] [--port P]   a systemd unit that runs the show at boot
  ecosym demo            play the demo patch, or bounce it to out/demo.wav when there is no audio device
  ecosym start           (npm start) the desktop app on the demo patch; without Electron or a display, says why and runs demo

<patch> is a file (patches/x.yaml) or a built-in name (${PATCHES_DIR}).
--data binds a source to a stream. URIs: a file (data.csv#COLUMN@TIME, .tsv .json .ndjson
  .geojson, or a recording), http(s)://…#JSONPATH&interval=60s, ws://…#JSONPATH,
  mqtt://host:1883/topic/+#JSONPATH, osc://:9000/address, sim:walk?min=0&max=100.
  render fetches an HTTP feed once and captures ws/mqtt/osc live for --duration first.
--speed is data seconds per audio second; without it the data is spread over the render
  (the dated file streams of a patch on one time axis, the union of their spans).
--osc-in and --oscquery listen on 127.0.0.1 unless given a host (0.0.0.0:9000 opens them to the
  network); --osc-allow 192.168.1.0/24 (repeatable) accepts control only from those senders.
--verbose (play, demo, start): with no audio device, also print what the audio driver said.
--duration (demo, start): how long the demo plays, or the length of its bounce (default 60s).
--watch (play): reload the patch when it or a data file it names is saved; a broken
  save is reported with its lines and the last good version plays on. serve always watches
  a patch named as a file (the Author screen's saves swap in); a built-in name with --watch.
Ctrl-C or SIGTERM stops play, serve, sources and record (exit 130 / 143); a second one exits at once.
--samples-dir DIR (or ECOSYM_SAMPLES_DIR) adds a folder a patch's samples may come from,
  besides the patch's own folder and the built-in samples/.
`;

/** The line `demo` starts with: the same UI in a browser, for where the desktop app does not open. */
const DEMO_UI_LINE = `The app's screens in a browser: npx ecosym serve ${DEMO_PATCH} (prints the URL with its token)`;

async function demo(verbose: boolean, duration?: string): Promise<void> {
  console.log(DEMO_UI_LINE);
  const probe = await probeAudioDevice();
  if (probe.device !== 'absent') return playCommand({ patch: DEMO_PATCH, data: [], verbose, duration });
  console.log(`No audio device here (${probe.error.message}).`);
  console.log('Bouncing the demo to out/demo.wav instead; play that file anywhere.');
  if (verbose && probe.driverOutput) console.error(`The audio driver said:\n${probe.driverOutput}`);
  await renderCommand({ patch: DEMO_PATCH, duration: duration ?? '60s', out: 'out/demo.wav', data: [] });
}

/** `npm start`: the desktop app on the demo patch, or one line why not and the demo. */
async function start(verbose: boolean, duration?: string): Promise<number> {
  const decision = desktopDecision(localProbe());
  if (decision.open) return openDesktop(decision.electron, resolve(PATCHES_DIR, `${DEMO_PATCH}.yaml`));
  console.log(noDesktopLine(decision.reason));
  await demo(verbose, duration);
  return 0;
}

/** Runs the CLI; returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    strict: true,
    options: {
      duration: { type: 'string' },
      out: { type: 'string' },
      seed: { type: 'string' },
      'sample-rate': { type: 'string' },
      data: { type: 'string', multiple: true, default: [] },
      speed: { type: 'string' },
      bits: { type: 'string' },
      channels: { type: 'string' },
      format: { type: 'string' },
      stems: { type: 'boolean' },
      segment: { type: 'string' },
      sink: { type: 'string' },
      loop: { type: 'string' },
      artnet: { type: 'string' },
      'osc-in': { type: 'string' },
      'osc-allow': { type: 'string', multiple: true },
      'osc-out': { type: 'string', multiple: true },
      'osc-log': { type: 'string' },
      oscquery: { type: 'string' },
      sacn: { type: 'string' },
      midi: { type: 'string' },
      'midi-in': { type: 'string' },
      'midi-out': { type: 'string' },
      'midi-learn': { type: 'string' },
      json: { type: 'boolean' },
      show: { type: 'boolean' },
      markdown: { type: 'boolean' },
      from: { type: 'string' },
      user: { type: 'boolean' },
      system: { type: 'boolean' },
      port: { type: 'string' },
      token: { type: 'string' },
      'no-data': { type: 'boolean' },
      for: { type: 'string' },
      stream: { type: 'string' },
      verbose: { type: 'boolean', short: 'v' },
      watch: { type: 'boolean' },
      device: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
      'samples-dir': { type: 'string', multiple: true },
      'patches-dir': { type: 'string' },
      host: { type: 'string' },
      'view-token': { type: 'string' },
      ui: { type: 'string' },
    },
  });
  // A folder samples may come from, for this run (render, play, validate): ahead of ECOSYM_SAMPLES_DIR's.
  if (values['samples-dir']?.length)
    process.env.ECOSYM_SAMPLES_DIR = [...values['samples-dir'].map((d) => resolve(d)), process.env.ECOSYM_SAMPLES_DIR].filter(Boolean).join(delimiter);
  const patchArg = () => {
    if (!positionals[0]) throw new UsageError(`ecosym ${command}: name a patch (a file, or one of \`ecosym patches\`)`);
    return positionals[0];
  };
  /** The flags `play` and `serve` share: how the session plays. */
  const playFlags = () => ({
    sink: values.sink,
    duration: values.duration,
    seed: values.seed,
    data: values.data ?? [],
    speed: values.speed,
    loop: values.loop,
    artnet: values.artnet,
    oscIn: values['osc-in'],
    oscAllow: values['osc-allow'],
    oscOut: values['osc-out'],
    oscQuery: values.oscquery,
    sacn: values.sacn,
    midiIn: values['midi-in'],
    midiOut: values['midi-out'],
    midiLearn: values['midi-learn'],
    patchesDir: values['patches-dir'],
    verbose: values.verbose,
    watch: values.watch,
    device: values.device,
    sampleRate: values['sample-rate'],
  });
  switch (command) {
    case 'render':
      await renderCommand({
        patch: patchArg(),
        duration: values.duration,
        out: values.out,
        seed: values.seed,
        sampleRate: values['sample-rate'],
        data: values.data ?? [],
        speed: values.speed,
        bits: values.bits,
        oscLog: values['osc-log'],
        midi: values.midi,
        channels: values.channels,
        format: values.format,
        stems: values.stems,
        segment: values.segment,
      });
      return 0;
    case 'play':
      await playCommand({ patch: patchArg(), ...playFlags() });
      return 0;
    case 'serve':
      await serveCommand({
        patch: positionals[0],
        port: values.port,
        host: values.host,
        token: values.token,
        viewToken: values['view-token'],
        ui: values.ui,
        ...playFlags(),
      });
      return 0;
    case 'sources':
      await sourcesCommand({ patch: patchArg(), data: values.data ?? [], for: values.for, json: values.json });
      return 0;
    case 'record':
      if (!positionals[0]) throw new UsageError('ecosym record: name a source URI, e.g. ecosym record "mqtt://localhost/sensors/#" --out feed.csv');
      await recordCommand({ uri: positionals[0], out: values.out, for: values.for, stream: values.stream });
      return 0;
    case 'midi':
      return midiCommand(positionals[0], { json: values.json });
    case 'devices':
      return devicesCommand(values.json === true);
    case 'validate':
      if (positionals.length === 0) throw new UsageError('ecosym validate: name one or more patch files');
    {
      const errors = validateCommand(positionals) + (values['no-data'] ? 0 : await validateDataCommand(positionals));
      return errors > 0 ? 1 : 0;
    }
    case 'inspect':
      return inspectCommand(patchArg(), values.data ?? [], values.json === true);
    case 'new':
      if (!positionals[0]) throw new UsageError('ecosym new: name the patch, e.g. ecosym new my-piece [--from seattle-drift] [--out patches]');
      newCommand({ name: positionals[0], from: values.from, out: values.out });
      return 0;
    case 'schema':
      if (values.show && values.markdown) throw new UsageError('ecosym schema: --show or --markdown, not both');
      schemaCommand(values.out, undefined, values.show ? 'show' : values.markdown ? 'markdown' : 'patch');
      return 0;
    case 'service': {
      const runArgs = [...(values.port ? ['--port', values.port] : []), ...(values.token ? ['--token', values.token] : []), ...(values.sink ? ['--sink', values.sink] : [])];
      return serviceCommand(positionals[0], positionals[1], { user: values.user, system: values.system, runArgs });
    }
    case 'patches':
      patchesCommand(values.json === true);
      return 0;
    case 'demo':
      await demo(values.verbose === true, values.duration);
      return 0;
    case 'start':
      return start(values.verbose === true, values.duration);
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      console.log(HELP);
      return 0;
    default:
      throw new UsageError(`unknown command "${command}"\n\n${HELP}`);
  }
}

/**
 * Entry point: exit codes 0 ok, 1 invalid patches, 2 usage, 3 no audio device, 4 no MIDI (ecosym midi),
 * 130 stopped by Ctrl-C (SIGINT), 143 stopped by SIGTERM. A closed stdout ends a command quietly.
 */
export async function run(argv: string[]): Promise<void> {
  guardClosedOutput();
  let code: number;
  try {
    code = await main(argv);
  } catch (e) {
    console.error(`ecosym: ${describeError(e)}`);
    code = e instanceof UsageError ? e.exitCode : (e as { code?: string })?.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' ? 2 : 1;
  }
  process.exitCode = signalExitCode() ?? code;
}

/**
 * This bundle as a process entry of its own, its arguments in `ECOSYM_ARGV` (a
 * JSON array): how the desktop app's main process starts a bounce's render as
 * an Electron utility process (src/engine/node/session/renderProcess.ts), where
 * bin/ecosym.mjs is not packaged. `ECOSYM_NICENESS` lowers its priority first (by that many steps),
 * so the threads it starts run below the show too. Exits once the command ends.
 */
const argvJson = process.env.ECOSYM_ARGV;
if (argvJson !== undefined) {
  delete process.env.ECOSYM_ARGV;
  let argv: unknown;
  try {
    argv = JSON.parse(argvJson);
  } catch {
    argv = undefined;
  }
  if (!Array.isArray(argv) || !argv.every((a) => typeof a === 'string')) {
    console.error('ecosym: ECOSYM_ARGV must be a JSON array of strings');
    process.exit(2);
  }
  const niceness = Number(process.env.ECOSYM_NICENESS);
  if (Number.isInteger(niceness) && niceness > 0) {
    try {
      // Relative, as nice(1) is: that many steps below the process that started it.
      setPriority(0, Math.min(19, getPriority(0) + niceness));
    } catch {
      // not allowed here: it runs at the same priority
    }
  }
  // The exit waits a moment for the last messages to the parent to leave.
  void run(argv as string[]).then(() => setTimeout(() => process.exit(), 200).unref());
}
