import { readFile, stat } from 'node:fs/promises';
import { OptionError } from '../base/errors.js';
import { writeFileAtomic } from '../io/atomicWrite.js';
import { csvCell, parseCsv, rowKey, type ResultsFormat } from './resultRows.js';
import { resultsFormatOf } from './resultsFile.js';

export interface MergeSummary {
  files: number;
  /** Rows (JSON Lines) or lines (CSV) written. */
  rows: number;
  duplicates: number;
}

/**
 * Merges `predict --out` files into `out` (which must not exist): each file's row once, by path
 * and content hash, the first kept. All inputs share the output's format (and for CSV, its header).
 */
export async function mergeResults(inputs: string[], out: string): Promise<MergeSummary> {
  const format = resultsFormatOf(out);
  if (await stat(out).catch(() => undefined)) throw new OptionError(`--out ${out} already exists; merge into a new file (nothing was changed)`);
  for (const f of inputs) if (resultsFormatOf(f) !== format) throw new OptionError(`${f}: not ${format === 'csv' ? 'CSV' : 'JSON Lines'} like --out ${out}; merge files of one format`);
  const seen = new Set<string>();
  const files = new Set<string>();
  let header: string | undefined;
  let text = '';
  let rows = 0;
  let duplicates = 0;
  for (const input of inputs) {
    const content = await readFile(input, 'utf8');
    for (const group of groups(content, format, input, (h) => {
      if (header !== undefined && h !== header) throw new OptionError(`${input}: its CSV header differs from ${inputs[0]}'s (another model?); merge results of one model`);
      header = h;
    })) {
      if (seen.has(group.key)) {
        duplicates++;
        continue;
      }
      seen.add(group.key);
      files.add(group.file);
      text += group.text;
      rows += group.lines;
    }
  }
  await writeFileAtomic(out, (header ? `${header}\n` : '') + text);
  return { files: files.size, rows, duplicates };
}

interface Group { key: string; file: string; text: string; lines: number }

/** A results file's rows, each file's lines together (CSV holds one line per face). A torn last line is left out. */
function groups(content: string, format: ResultsFormat, name: string, onHeader: (header: string) => void): Group[] {
  const out: Group[] = [];
  if (format === 'jsonl') {
    for (const line of content.slice(0, content.lastIndexOf('\n') + 1).split('\n')) {
      if (!line.trim()) continue;
      let row: { file?: unknown; sha256?: string };
      try {
        row = JSON.parse(line);
      } catch {
        throw new OptionError(`${name}: a line is not JSON; not a happysad results file`);
      }
      if (typeof row.file !== 'string') throw new OptionError(`${name}: a row has no "file"; not a happysad results file`);
      out.push({ key: rowKey({ file: row.file, sha256: row.sha256 }), file: row.file, text: `${line}\n`, lines: 1 });
    }
    return out;
  }
  const [head, ...records] = parseCsv(content).filter((r) => r.length > 1);
  if (head?.[0] !== 'file') throw new OptionError(`${name}: no results header; not a happysad results file`);
  onHeader(head!.map(csvCell).join(','));
  const hashAt = head!.indexOf('sha256');
  for (const r of records) {
    const file = r[0]!;
    const key = rowKey({ file, sha256: hashAt >= 0 ? r[hashAt] || undefined : undefined });
    const line = `${r.map(csvCell).join(',')}\n`;
    const last = out.at(-1);
    if (last?.key === key) {
      last.text += line;
      last.lines++;
    } else out.push({ key, file, text: line, lines: 1 });
  }
  return out;
}
