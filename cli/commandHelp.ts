import { packageRoot } from '../src/base/packageRoot.js';
import { COMMAND_TABLE, type CommandName, type CommandSpec, type OptionSpec } from './commandTable.js';

const WIDTH = 100;
const FLAG_COLUMN = 24;

function flagOf(name: string, o: OptionSpec): string {
  return `${o.short ? `-${o.short}, ` : ''}--${name}${o.arg ? ` ${o.arg}` : ''}`;
}

/** Words of `text` in lines of at most `width` characters. */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines;
}

function optionLines(options: Record<string, OptionSpec>): string[] {
  const out: string[] = [];
  for (const [name, o] of Object.entries(options)) {
    const flag = flagOf(name, o);
    const text = o.shows === undefined ? o.help : `${o.help} [${o.shows}]`;
    const body = wrap(text, WIDTH - FLAG_COLUMN - 2);
    const first = flag.length + 2 < FLAG_COLUMN ? `  ${flag.padEnd(FLAG_COLUMN - 2)}${body.shift() ?? ''}` : `  ${flag}`;
    out.push(first.trimEnd(), ...body.map((l) => `${' '.repeat(FLAG_COLUMN)}${l}`));
  }
  out.push(`  ${'-h, --help'.padEnd(FLAG_COLUMN - 2)}this help`);
  return out;
}

/** `happysad NAME --help`, from the command table. */
export function formatCommandHelp(name: CommandName): string {
  const spec: CommandSpec = COMMAND_TABLE[name];
  return [`happysad ${name} ${spec.usage}`, '', spec.description, '', 'Options:', ...optionLines(spec.options)].join('\n');
}

/** `happysad --help`. */
export function formatMainHelp(): string {
  const names = Object.keys(COMMAND_TABLE) as CommandName[];
  return `happysad ${packageRoot().version}: happy/sad image classifiers you can train, evaluate, run and serve

Usage: happysad <command> [options]   (happysad help <command>, or <command> --help, for its options)

${names.map((n) => `  ${n.padEnd(10)} ${COMMAND_TABLE[n].summary}`).join('\n')}

Examples:
  happysad predict photos/
  happysad train data/ --arch seed-a --out models/mine
  happysad evaluate data/ --model models/mine
  happysad serve --port 8080

Exit codes: 0 success, 1 a failure (or some inputs failed), 2 a usage error.
--version prints the version.`;
}

/**
 * The README's command reference (between its `<!-- commands:... -->` markers): the command list,
 * then each command's options in a collapsed section.
 */
export function commandReferenceMarkdown(): string {
  const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\s*\n\s*/g, ' ');
  const entries = Object.entries(COMMAND_TABLE) as [CommandName, CommandSpec][];
  const parts = ['| command | what it does |', '| --- | --- |', ...entries.map(([name, spec]) => `| \`happysad ${name} ${spec.usage}\` | ${cell(spec.summary)} |`), ''];
  for (const [name, spec] of entries) {
    parts.push('<details>', `<summary><code>happysad ${name}</code> options</summary>`, '', '| option | what | default |', '| --- | --- | --- |');
    for (const [opt, o] of Object.entries(spec.options)) parts.push(`| \`${flagOf(opt, o)}\` | ${cell(o.help)} | ${o.shows === undefined ? '' : cell(String(o.shows))} |`);
    parts.push('', '</details>', '');
  }
  return parts.join('\n').trimEnd();
}
