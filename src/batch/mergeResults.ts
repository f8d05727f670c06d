import { createHash } from 'node:crypto';
import { link, open, stat, unlink } from 'node:fs/promises';
import { dirname, join, basename } from 'node:path';
import { OptionError, OutputError } from '../base/errors.js';
import { explainWriteError, resultsFormatOf } from './resultsFile.js';
import { readResults, type ResultRecord } from './readResults.js';
import type { ResultsFormat } from '../predict/rowFormats.js';
import { createReadStream } from 'node:fs';

export interface MergeSummary {
  files: number;
  /** Rows (JSON Lines) or lines (CSV) written. */
  rows: number;
  /** The same row (same file, content and answer) in more than one place: kept once. */
  duplicates: number;
  /** An older row of a file whose content changed: the later row is kept. */
  superseded: number;
  /** The same file and content with different answers: the later is kept; each is listed in `conflictExamples`. */
  conflicts: number;
  conflictExamples: string[];
}

/** One image's lines in an input: where they are, and what identifies them. */
interface Entry {
  input: number;
  /** Ordinal of this image's row within its input. */
  index: number;
  sha256: string;
  digest: string;
}

/**
 * Merges `predict --out` files into `out` (which must not exist), streamed in two passes whatever
 * their size: the first finds each file's current row (the last one, in the order the inputs are
 * given), the second copies those rows. All inputs must share the output's format, header and
 * model: results of two models are never mixed.
 */
export async function mergeResults(inputs: string[], out: string): Promise<MergeSummary> {
  const format = resultsFormatOf(out);
  if (await stat(out).catch(() => undefined)) throw new OptionError(`--out ${out} already exists; merge into a new file (nothing was changed)`);
  for (const f of inputs) if (resultsFormatOf(f) !== format) throw new OptionError(`${f}: not ${format === 'csv' ? 'CSV' : 'JSON Lines'} like --out ${out}; merge files of one format`);
  for (const f of inputs) {
    const s = await stat(f).catch(() => undefined);
    if (!s) throw new OptionError(`${f}: no such file; give the results files that predict --out wrote`);
    if (!s.isFile()) throw new OptionError(`${f} is not a regular file; give the results files that predict --out wrote (not their folder)`);
  }
  const header = format === 'csv' ? await firstLine(inputs[0]!) : undefined;
  let model: { name: string; where: string } | undefined;
  const current = new Map<string, Entry>();
  const summary: MergeSummary = { files: 0, rows: 0, duplicates: 0, superseded: 0, conflicts: 0, conflictExamples: [] };
  for (const [input, name] of inputs.entries()) {
    let index = 0;
    for await (const group of imageRows(name, format, header)) {
      if (group.model !== undefined) {
        if (model && model.name !== group.model) throw new OptionError(`${name}: line ${group.line} was written by model ${group.model}, and ${model.where} by ${model.name}; merge results of one model (nothing was written)`);
        model ??= { name: group.model, where: `${name} line ${group.line}` };
      }
      // Short keys: a two-million-row merge holds one entry per image in memory.
      const entry = { input, index: index++, sha256: (group.sha256 ?? '').slice(0, 16), digest: createHash('sha256').update(answerOf(group.text, format)).digest('base64').slice(0, 12) };
      const before = current.get(group.file);
      if (before) {
        if (before.sha256 !== entry.sha256) summary.superseded++;
        else if (before.digest === entry.digest) summary.duplicates++;
        else {
          summary.conflicts++;
          if (summary.conflictExamples.length < 5) summary.conflictExamples.push(group.file);
        }
      }
      current.set(group.file, entry);
    }
  }
  // Written beside the output, then linked into place: a crash leaves no half file, and an output
  // that appeared meanwhile is never replaced.
  const tmp = join(dirname(out), `.${basename(out)}.${process.pid}.tmp`);
  const fh = await open(tmp, 'wx').catch((err) => {
    throw explainWriteError(out, err);
  });
  try {
    const write = async (text: string) => {
      await fh.write(text).catch((err) => {
        throw explainWriteError(out, err);
      });
    };
    if (header) await write(`${header}\n`);
    const wanted = new Map<number, Map<number, string>>();
    for (const [file, e] of current) (wanted.get(e.input) ?? wanted.set(e.input, new Map()).get(e.input)!).set(e.index, file);
    let buffer = '';
    for (const [input, name] of inputs.entries()) {
      const mine = wanted.get(input);
      if (!mine) continue;
      let index = 0;
      for await (const group of imageRows(name, format, header)) {
        if (mine.get(index++) !== group.file) continue;
        buffer += group.text;
        summary.rows += group.lines;
        if (buffer.length > 1 << 20) {
          await write(buffer);
          buffer = '';
        }
      }
    }
    await write(buffer);
    await fh.sync();
    await fh.close();
    await link(tmp, out).catch((err) => {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new OutputError(`--out ${out} appeared while merging; nothing was replaced (the merge is left in ${tmp})`);
      throw explainWriteError(out, err);
    });
    await unlink(tmp);
  } catch (err) {
    await fh.close().catch(() => {});
    if (!(err instanceof OutputError && /appeared while merging/.test(err.message))) await unlink(tmp).catch(() => {});
    throw err;
  }
  summary.files = current.size;
  return summary;
}

interface ImageRows extends ResultRecord {
  lines: number;
}

/** An input's rows, one per image or video: CSV face lines of one file grouped, a video's rows too. A torn last line is left out. */
async function* imageRows(name: string, format: ResultsFormat, header: string | undefined): AsyncGenerator<ImageRows> {
  let group: ImageRows | undefined;
  const records = readResults(name, format, { header });
  for (let step = await records.next(); !step.done; step = await records.next()) {
    const r = step.value;
    // One image's CSV lines (one per face), or one video's rows down to its end row, are one unit.
    const together = format === 'csv' || (group?.video === 'frame' && (r.video !== undefined || r.error));
    if (group && together && group.file === r.file && group.sha256 === r.sha256) {
      group.text += r.text;
      group.lines++;
      if (r.video === 'end') group.video = 'end';
      continue;
    }
    if (group) yield group;
    group = { ...r, lines: 1 };
  }
  // A video without its end row was cut short by an interrupted run: the run's --resume redoes it.
  if (group && group.video !== 'frame') yield group;
}

/** A row's answer: its text without the provenance a rerun changes (nothing else does). */
function answerOf(text: string, format: ResultsFormat): string {
  if (format === 'csv') return text;
  // A video's rows are several lines.
  return text.trimEnd().split('\n').map((line) => {
    const { model: _m, ...rest } = JSON.parse(line) as Record<string, unknown>;
    return JSON.stringify(rest);
  }).join('\n');
}

async function firstLine(path: string): Promise<string> {
  let text = '';
  for await (const chunk of createReadStream(path, { encoding: 'utf8', end: 64 * 1024 })) {
    text += chunk;
    if (text.includes('\n')) break;
  }
  const line = text.split('\n')[0]!.replace(/\r$/, '');
  if (!line.startsWith('file,')) throw new OptionError(`${path}: no results header; not a results file that happysad predict --out wrote`);
  return line;
}
