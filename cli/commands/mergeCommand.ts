import { OptionError } from '../../src/base/errors.js';
import { mergeResults } from '../../src/batch/mergeResults.js';
import { parseCommand } from '../parseCommand.js';

export async function mergeCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommand(argv, 'merge');
  if (positionals.length === 0) throw new OptionError('merge needs the results files to merge (happysad help merge)');
  if (!values.out) throw new OptionError('merge needs --out FILE: where the merged results go (a new .jsonl or .csv file)');
  const summary = await mergeResults(positionals, values.out);
  const unit = values.out.endsWith('.csv') ? 'line' : 'row';
  const dropped = [`${summary.duplicates} duplicate(s) dropped`, `${summary.superseded} superseded row(s) of changed files dropped (the later kept)`];
  process.stderr.write(`${positionals.length} file(s) merged into ${values.out}: ${summary.files} image(s), ${summary.rows} ${unit}(s); ${dropped.join(', ')}\n`);
  if (summary.conflicts) process.stderr.write(`warning: ${summary.conflicts} image(s) have rows with different answers for the same content (the later kept), e.g. ${summary.conflictExamples.join(', ')}\n`);
  return 0;
}
