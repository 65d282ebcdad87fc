/**
 * The entry of `ecosym run` and `ecosym logs`: the supervisor's own program,
 * without the audio code the other commands load (no Tone, no
 * node-web-audio-api: the session child has them). bin/ecosym.mjs sends these
 * two commands here.
 */
import { parseArgs } from 'node:util';
import { describeError, UsageError } from './common.ts';
import { logsCommand } from './installLog.ts';
import { runCommand } from './run.ts';

export async function runSupervisor(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  try {
    const { values, positionals } = parseArgs({
      args: rest,
      allowPositionals: true,
      strict: true,
      options: {
        port: { type: 'string' },
        token: { type: 'string' },
        sink: { type: 'string' },
        host: { type: 'string' },
        'log-dir': { type: 'string' },
        follow: { type: 'boolean', short: 'f' },
        level: { type: 'string' },
        json: { type: 'boolean' },
      },
    });
    if (command === 'run') {
      if (!positionals[0]) throw new UsageError('ecosym run: name a show file (ecosym run show.yaml [--port P] [--token T] [--sink none])');
      await runCommand({ show: positionals[0], port: values.port, token: values.token, sink: values.sink, host: values.host, logDir: values['log-dir'] });
    } else await logsCommand(positionals[0] ?? values['log-dir'], { follow: values.follow, level: values.level, json: values.json });
    process.exitCode = 0;
  } catch (e) {
    console.error(`ecosym ${command}: ${describeError(e)}`);
    process.exitCode = e instanceof UsageError ? e.exitCode : (e as { code?: string })?.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' ? 2 : 1;
  }
}
