import { availableParallelism } from 'node:os';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { OptionError } from '../src/base/errors.js';
import type { ImageLimits } from '../src/input/imageLimits.js';
import { COMMAND_TABLE, type CommandName, type CommandSpec } from './commandTable.js';
import { formatCommandHelp } from './commandHelp.js';

export class HelpRequested extends Error {
  constructor(readonly text: string) {
    super(text);
  }
}

type Table = typeof COMMAND_TABLE;
/** Parsed values of command NAME: strings for string options (undefined when absent), booleans. */
export type CommandValues<N extends CommandName> = {
  [K in keyof Table[N]['options']]: Table[N]['options'][K] extends { type: 'boolean' } ? boolean : Table[N]['options'][K] extends { multiple: true } ? string[] | undefined : Table[N]['options'][K] extends { default: string } ? string : string | undefined;
};

/**
 * util.parseArgs configured from the command table, with --help on every command and errors that
 * say which command's help to read.
 */
export function parseCommand<N extends CommandName>(argv: string[], name: N): { values: CommandValues<N>; positionals: string[] } {
  const spec: CommandSpec = COMMAND_TABLE[name];
  const options: NonNullable<ParseArgsConfig['options']> = { help: { type: 'boolean', short: 'h', default: false } };
  for (const [flag, o] of Object.entries(spec.options)) {
    options[flag] = o.type === 'boolean' ? { type: 'boolean', default: false, ...(o.short ? { short: o.short } : {}) } : { type: 'string', ...(o.multiple ? { multiple: true } : {}), ...(o.short ? { short: o.short } : {}), ...(o.default !== undefined ? { default: o.default } : {}) };
  }
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (err) {
    throw new OptionError(`${parseErrorMessage(err as Error & { code?: string }, argv, name)} (happysad help ${name} lists the options)`);
  }
  if (parsed.values.help) throw new HelpRequested(formatCommandHelp(name));
  return parsed as unknown as { values: CommandValues<N>; positionals: string[] };
}

/**
 * util.parseArgs' unknown-option text quotes the escape hatch wrongly (`as in '-- "--bogus"`), so
 * that one is said here; its other messages are clear as they are.
 */
function parseErrorMessage(err: Error & { code?: string }, argv: string[], name: string): string {
  if (err.code !== 'ERR_PARSE_ARGS_UNKNOWN_OPTION') return err.message;
  const option = argv.find((a) => a.startsWith('-') && err.message.includes(`'${a.split('=')[0]}'`))?.split('=')[0] ?? /'([^']+)'/.exec(err.message)?.[1] ?? '';
  return `unknown option ${option}; a file name that starts with '-' goes after '--', as in: happysad ${name} -- ${option}`;
}

export function parseNumber(value: string | undefined, flag: string, { integer = false, min = -Infinity, max = Infinity } = {}): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || (integer && !Number.isInteger(n)) || n < min || n > max) {
    throw new OptionError(`--${flag} ${value}: expected ${integer ? 'an integer' : 'a number'}${min > -Infinity ? ` >= ${min}` : ''}${max < Infinity ? ` <= ${max}` : ''}`);
  }
  return n;
}

/**
 * `--workers N` / `--concurrency N`: each thread holds its own copy of the model (and, for a face
 * model, the face nets: ~150 MB), so more threads than cores only costs memory. Refused above
 * the cores this process may use; the default is all of them.
 */
export function parseThreads(value: string | undefined, flag: string): number | undefined {
  const cores = availableParallelism();
  const n = parseNumber(value, flag, { integer: true, min: 1 });
  if (n !== undefined && n > cores) throw new OptionError(`--${flag} ${n}: this machine has ${cores} core(s), and each thread holds its own copy of the model; use at most ${cores}`);
  return n;
}

/**
 * `--min-side`, `--max-pixels` and `--lenient-decode` as partial ImageLimits: what is not given
 * keeps the command's own defaults (the dataset checks for clean and train).
 */
export function parseImageLimits(values: { 'min-side'?: string; 'max-pixels'?: string; 'lenient-decode'?: boolean }): Partial<ImageLimits> {
  return {
    ...(values['min-side'] ? { minSide: parseNumber(values['min-side'], 'min-side', { integer: true, min: 1 })! } : {}),
    ...(values['max-pixels'] ? { maxPixels: parseNumber(values['max-pixels'], 'max-pixels', { integer: true, min: 1 })! } : {}),
    ...(values['lenient-decode'] ? { failOn: 'truncated' as const } : {}),
  };
}
