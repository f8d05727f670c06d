#!/usr/bin/env node
import { HappysadError, OptionError } from '../src/base/errors.js';
import { packageRoot } from '../src/base/packageRoot.js';
import { formatCommandHelp, formatMainHelp } from './commandHelp.js';
import { COMMAND_TABLE, type CommandName } from './commandTable.js';
import { HelpRequested } from './parseCommand.js';
import { failIfUnfinished } from './unfinishedRun.js';

type Command = (argv: string[]) => Promise<number>;

/**
 * Each command's module (and with it TensorFlow.js, sharp, face nets or fastify) loads only when
 * that command runs: `happysad --help` and a usage error stay instant. Names, summaries and
 * options come from the command table.
 */
const LOADERS: Record<CommandName, () => Promise<Command>> = {
  predict: async () => (await import('./commands/predictCommand.js')).predictCommand,
  train: async () => (await import('./commands/trainCommand.js')).trainCommand,
  evaluate: async () => (await import('./commands/evaluateCommand.js')).evaluateCommand,
  serve: async () => (await import('./commands/serveCommand.js')).serveCommand,
  clean: async () => (await import('./commands/cleanCommand.js')).cleanCommand,
  ensemble: async () => (await import('./commands/ensembleCommand.js')).ensembleCommand,
  calibrate: async () => (await import('./commands/calibrateCommand.js')).calibrateCommand,
  arch: async () => (await import('./commands/archCommand.js')).archCommand,
  import: async () => (await import('./commands/importCommand.js')).importCommand,
  export: async () => (await import('./commands/exportCommand.js')).exportCommand,
  worker: async () => (await import('./commands/workerCommand.js')).workerCommand,
  merge: async () => (await import('./commands/mergeCommand.js')).mergeCommand,
};

const isCommand = (name: string | undefined): name is CommandName => name !== undefined && Object.hasOwn(COMMAND_TABLE, name);

/** Exit codes: 0 success, 1 a runtime failure (or some inputs failed), 2 a usage error. */
const EXIT_FAILURE = 1;
const EXIT_USAGE = 2;

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === 'help' && isCommand(rest[0])) {
    console.log(formatCommandHelp(rest[0]));
    return 0;
  }
  if (name === '--help' || name === '-h' || name === 'help') {
    console.log(formatMainHelp());
    return 0;
  }
  // No command is a usage error: the help goes to stderr, so a script piping stdout sees nothing.
  if (!name) {
    console.error(formatMainHelp());
    return EXIT_USAGE;
  }
  if (name === '--version' || name === '-v') {
    console.log(packageRoot().version);
    return 0;
  }
  // With --json a script reads stdout: failures go there too, as one JSON object.
  const json = rest.includes('--json');
  const fail = (code: number, errorCode: string, message: string): number => {
    if (json) console.log(JSON.stringify({ error: { code: errorCode, message } }));
    else console.error(message);
    return code;
  };
  if (!isCommand(name)) return fail(EXIT_USAGE, 'usage', `happysad: unknown command "${name}" (happysad --help lists the commands)`);
  try {
    return await (await LOADERS[name]())(rest);
  } catch (err) {
    if (err instanceof HelpRequested) {
      console.log(err.text);
      return 0;
    }
    if (err instanceof OptionError) return fail(EXIT_USAGE, err.code, `happysad ${name}: ${err.message}`);
    if (err instanceof HappysadError) return fail(EXIT_FAILURE, err.code, `happysad ${name}: ${err.message}`);
    // A bug, not the user's doing: the stack goes to stderr for the report.
    console.error(err instanceof Error ? err.stack : err);
    return fail(EXIT_FAILURE, 'internal', `happysad ${name}: internal error: ${err instanceof Error ? err.message : String(err)} (please report it)`);
  }
}

// `happysad predict ... | head -1`: the reader is gone, so stop quietly rather than with a stack.
// Any other write error (a full disk, /dev/full) is one line and exit 74 (EX_IOERR), not a stack.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  process.stderr.write(`happysad: cannot write the output (${err.code ?? err.message}); check the disk or the file it goes to\n`);
  process.exit(74);
});

const run = main(process.argv.slice(2));
failIfUnfinished(run, process.argv[2] ?? '', process.argv.includes('--json'));
run.then(
  (code) => { process.exitCode = code; },
  (err) => {
    console.error(err instanceof Error ? err.stack : err);
    process.exitCode = EXIT_FAILURE;
  },
);
