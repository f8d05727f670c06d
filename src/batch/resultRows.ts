import type { Prediction } from '../predict/classifier.js';

/**
 * How prediction rows are written: JSON Lines, one row per image (a `predict --json` line), or
 * CSV, one line per face. The CLI's stdout, --out files and `merge` all write through here.
 */
export type ResultsFormat = 'jsonl' | 'csv';

/** A row of an --out file: a prediction with its content hash (PredictOptions.hashes), which makes resuming and merging exact. */
export type ResultRow = Prediction & { model?: string };

/** What identifies a file's row: its path and, when known, its content. */
export function rowKey(row: { file: string; sha256?: string }): string {
  return `${row.file}\u0000${row.sha256 ?? ''}`;
}

/** With `provenance` (results files): each row's content hash and the model that wrote it. */
export function csvHeader(classes: readonly string[], provenance = false): string[] {
  return ['file', 'face', 'box', 'label', 'score', ...classes.map((c) => `p_${c}`), 'error', ...(provenance ? ['sha256', 'model'] : [])];
}

/** RFC 4180: a field holding a comma, quote, CR or LF is quoted, quotes doubled. */
export function csvCell(v: string | number | undefined): string {
  if (v === undefined) return '';
  const s = String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export interface CsvLine { file: string; face: string; box: string; label: string; score?: number; probabilities?: Record<string, number>; error: string }

/** One line per face (a face model), or one per image. */
export function csvLines(p: Prediction): CsvLine[] {
  if (p.error) return [{ file: p.file, face: '', box: '', label: '', error: p.error.message }];
  if (p.faces?.length) return p.faces.map((f, i) => ({ file: p.file, face: String(i + 1), box: f.box.join(' '), label: f.label, score: f.score, probabilities: f.probabilities, error: '' }));
  return [{ file: p.file, face: p.face ?? '', box: '', label: p.label!, score: p.score, probabilities: p.probabilities, error: '' }];
}

/** A row as text in `format`, newline-terminated (CSV: all its face lines). */
export function formatRow(row: ResultRow, format: ResultsFormat, classes: readonly string[], provenance = false): string {
  if (format === 'jsonl') return `${JSON.stringify(row)}\n`;
  return csvLines(row).map((l) => `${[l.file, l.face, l.box, l.label, l.score, ...classes.map((c) => l.probabilities?.[c]), l.error, ...(provenance ? [row.sha256, row.model] : [])].map(csvCell).join(',')}\n`).join('');
}

/** RFC 4180 records of a CSV text (quoted fields may hold commas, quotes and newlines). */
export function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let field = '';
  let record: string[] = [];
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      record.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      record.push(field);
      records.push(record);
      record = [];
      field = '';
    } else field += c;
  }
  if (field !== '' || record.length > 0) records.push([...record, field]);
  return records;
}
