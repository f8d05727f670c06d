import { availableParallelism } from 'node:os';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { OptionError } from '../../src/errors.js';
import { loadModel, type Prediction } from '../../src/predict/classifier.js';
import { formatTable } from '../formatTable.js';
import { parseCommand, parseNumber } from '../parseCommand.js';
import { resolveModelDir } from '../resolveModel.js';

export const predictHelp = `happysad predict PATH... [--model MODEL_DIR] [--json | --csv] [--batch N] [--workers N]

Classifies image files, or every file under folders. One row per image: label, score (the
probability of the model's positive class, e.g. happy) and each class's probability. A file that
cannot be read gets a row with an error; the others go on, and the exit code is 1.
  --json   JSON Lines: {"file","label","score","probabilities"} (or {"file","error"})
  --csv    file,label,score,p_<class>...,error`;

export async function predictCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommand(argv, predictHelp, {
    model: { type: 'string', short: 'm' },
    json: { type: 'boolean', default: false },
    csv: { type: 'boolean', default: false },
    batch: { type: 'string' },
    workers: { type: 'string' },
  });
  if (positionals.length === 0) throw new OptionError(`predict needs at least one image file or folder\n\n${predictHelp}`);
  if (values.json && values.csv) throw new OptionError('choose one of --json and --csv');
  const files = await expandPaths(positionals);
  const classifier = await loadModel(resolveModelDir(values.model), { workers: parseNumber(values.workers, 'workers', { integer: true, min: 1 }) ?? availableParallelism() });
  const classes = classifier.metadata.classes;
  const batch = parseNumber(values.batch, 'batch', { integer: true, min: 1 }) ?? 32;
  const rows: Prediction[] = [];
  if (values.csv) console.log(['file', 'label', 'score', ...classes.map((c) => `p_${c}`), 'error'].map(csvCell).join(','));
  // Stream results in chunks of a few batches: a large folder shows progress and memory stays
  // flat, while within a chunk the next batch decodes as the current one is classified.
  const chunk = batch * 8;
  for (let i = 0; i < files.length; i += chunk) {
    const preds = await classifier.predict(files.slice(i, i + chunk), { batch });
    rows.push(...preds);
    for (const p of preds) {
      if (values.json) console.log(JSON.stringify(p.error ? { file: p.file, error: p.error } : { file: p.file, label: p.label, score: p.score, probabilities: p.probabilities }));
      else if (values.csv) console.log([p.file, p.label ?? '', p.score ?? '', ...classes.map((c) => p.probabilities?.[c] ?? ''), p.error?.message ?? ''].map(csvCell).join(','));
    }
  }
  if (!values.json && !values.csv) {
    console.log(formatTable(['file', 'label', 'score', ...classes, 'error'], rows.map((p) => [p.file, p.label ?? '-', p.score === undefined ? '' : Number(p.score.toFixed(4)), ...classes.map((c) => (p.probabilities ? Number(p.probabilities[c].toFixed(4)) : '')), p.error?.message ?? ''])));
  }
  await classifier.close();
  const failed = rows.filter((r) => r.error).length;
  if (failed) process.stderr.write(`${failed} of ${rows.length} file(s) could not be classified\n`);
  return failed ? 1 : 0;
}

/** Files as given, folders expanded recursively in sorted order (dotfiles skipped). */
async function expandPaths(paths: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const p of paths) {
    const s = await stat(p).catch(() => undefined);
    if (!s) {
      out.push(p); // becomes an error row: the user sees which path was wrong
    } else if (s.isDirectory()) {
      const walk = async (d: string): Promise<void> => {
        for (const e of (await readdir(d, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1))) {
          if (e.name.startsWith('.')) continue;
          if (e.isDirectory()) await walk(join(d, e.name));
          else out.push(join(d, e.name));
        }
      };
      await walk(p);
    } else out.push(p);
  }
  return out;
}

function csvCell(v: string | number): string {
  const s = String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}
