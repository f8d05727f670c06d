import type { Prediction, ResultRow, VideoErrorRow, VideoRow } from './predictionRow.js';

/**
 * How prediction rows are written, photo and video alike: JSON Lines, one row per image or sampled
 * frame and face (a `predict --json` line), CSV, one line per face, or a table for a terminal. The
 * CLI's stdout, --out files, `merge` and the queue's results all write through here.
 */
export type ResultsFormat = 'jsonl' | 'csv';

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

/** Scores as a terminal table and video CSV show them: 4 decimals, blank when absent. */
export const round4 = (x: number | undefined): number | '' => (x === undefined ? '' : Number(x.toFixed(4)));

/**
 * Photo rows as a table for a terminal: one line per face (face models) or per image. The face and
 * box columns only for a face model, the error column only when a row has one.
 */
export function predictionTable(rows: Prediction[], classes: readonly string[], options: { faces: boolean }): { head: string[]; body: (string | number)[][] } {
  const head = ['file', 'face', 'box', 'label', 'score', ...classes, 'error'];
  const anyError = rows.some((r) => r.error);
  const keep = head.map((h, i) => (options.faces || (i !== 1 && i !== 2)) && (h !== 'error' || anyError));
  const body = rows.flatMap(csvLines).map((l) => [l.file, l.face, l.box, l.label || '-', round4(l.score), ...classes.map((c) => round4(l.probabilities?.[c])), l.error]);
  return { head: head.filter((_, i) => keep[i]), body: body.map((r) => r.filter((_, i) => keep[i])) };
}

/**
 * The CSV columns of video rows: one line per sampled frame and face. With `smooth`, the smoothed
 * label and each class's smoothed probability follow smoothed_score (without, the columns are as
 * they always were).
 */
export function videoCsvHeader(classes: readonly string[], smooth = false): string[] {
  return ['file', 'time', 'frame', 'track', 'box', 'label', 'score', ...classes.map((c) => `p_${c}`), 'smoothed_score', ...(smooth ? ['smoothed_label', ...classes.map((c) => `smoothed_p_${c}`)] : []), 'error'];
}

/** A video row as text in `format`, newline-terminated; `smooth` as for videoCsvHeader. */
export function formatVideoRow(row: VideoRow | VideoErrorRow, format: ResultsFormat, classes: readonly string[], smooth = false): string {
  if (format === 'jsonl') return `${JSON.stringify(row)}\n`;
  const r = row as Partial<VideoRow> & { error?: { message: string } };
  const smoothed = smooth ? [r.smoothed_label, ...classes.map((c) => round4(r.smoothed_probabilities?.[c]))] : [];
  return `${[r.file, r.time, r.frame, r.track, r.box?.join(' '), r.label ?? r.face, round4(r.score), ...classes.map((c) => round4(r.probabilities?.[c])), round4(r.smoothed_score), ...smoothed, r.error?.message].map(csvCell).join(',')}\n`;
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
