#!/usr/bin/env node
import { HappysadError } from '../src/errors.js';
import { packageRoot } from '../src/packageRoot.js';
import { HelpRequested } from './parseCommand.js';

type Command = (argv: string[]) => Promise<number>;

/**
 * Each command's module (and with it TensorFlow.js, sharp, face nets or fastify) loads only when
 * that command runs: `happysad --help` and a usage error stay instant.
 */
const COMMANDS: Record<string, { load: () => Promise<Command>; summary: string }> = {
  predict: { load: async () => (await import('./commands/predictCommand.js')).predictCommand, summary: 'classify images (files or folders)' },
  train: { load: async () => (await import('./commands/trainCommand.js')).trainCommand, summary: 'train a model on a folder of class folders' },
  evaluate: { load: async () => (await import('./commands/evaluateCommand.js')).evaluateCommand, summary: 'score a model on labelled images' },
  serve: { load: async () => (await import('./commands/serveCommand.js')).serveCommand, summary: 'serve a model over HTTP: JSON API and a web page with live webcam' },
  clean: { load: async () => (await import('./commands/cleanCommand.js')).cleanCommand, summary: 'check a dataset for corrupt, invalid and duplicate files' },
  ensemble: { load: async () => (await import('./commands/ensembleCommand.js')).ensembleCommand, summary: 'average several models into one (more accurate, same interface)' },
  arch: { load: async () => (await import('./commands/archCommand.js')).archCommand, summary: 'show an architecture\'s layers and parameter count' },
  import: { load: async () => (await import('./commands/importCommand.js')).importCommand, summary: 'convert a Keras .h5 model into a model bundle' },
  export: { load: async () => (await import('./commands/exportCommand.js')).exportCommand, summary: 'write a model bundle as a Keras .h5 file' },
};

const HELP = `happysad ${packageRoot().version}: happy/sad image classifiers you can train, evaluate, run and serve

Usage: happysad <command> [options]   (happysad <command> --help for its options)

${Object.entries(COMMANDS).map(([n, c]) => `  ${n.padEnd(10)} ${c.summary}`).join('\n')}

Examples:
  happysad train data/ --arch seed-a --out models/mine
  happysad predict photos/ --model models/mine
  happysad evaluate data/ --model models/mine
  happysad serve --port 8080`;

async function main(argv: string[]): Promise<number> {
  let [name, ...rest] = argv;
  // `happysad help train` is `happysad train --help`.
  if (name === 'help' && rest[0] && COMMANDS[rest[0]]) [name, rest] = [rest[0], ['--help']];
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(HELP);
    return 0;
  }
  if (name === '--version' || name === '-v') {
    console.log(packageRoot().version);
    return 0;
  }
  const command = COMMANDS[name];
  if (!command) {
    console.error(`happysad: unknown command "${name}"\n\n${HELP}`);
    return 2;
  }
  try {
    return await (await command.load())(rest);
  } catch (err) {
    if (err instanceof HelpRequested) {
      console.log(err.text);
      return 0;
    }
    if (err instanceof HappysadError) {
      console.error(`happysad ${name}: ${err.message}`);
      return 2;
    }
    throw err;
  }
}

// `happysad predict ... | head -1`: the reader is gone, so stop quietly rather than with a stack.
// Any other write error (a full disk, /dev/full) is one line and exit 74 (EX_IOERR), not a stack.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  process.stderr.write(`happysad: cannot write the output (${err.code ?? err.message}); check the disk or the file it goes to\n`);
  process.exit(74);
});

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err) => {
    console.error(err instanceof Error ? err.stack : err);
    process.exitCode = 70;
  },
);
