/**
 * Reads a `predict --out` results file as a stream of rows, whatever its size (a two-million-file
 * run writes more than a JavaScript string can hold), with each row's byte range so that resume
 * can keep exactly what is complete. Anything that is not a results row is refused by line number:
 * resume and merge never drop a line they cannot explain.
 */
import { createReadStream } from 'node:fs';
import { OptionError } from '../base/errors.js';
import { parseCsv, type ResultsFormat } from '../predict/rowFormats.js';

/** One image's row: a JSON line, or the consecutive CSV lines of one file (one per face). */
export interface ResultRecord {
  file: string;
  sha256?: string;
  /** The model that wrote it (results files record it since rows carry `model`). */
  model?: string;
  error: boolean;
  /**
   * JSON Lines only: 'frame' for a video's row (it has a `frame`), 'end' for the row that closes a
   * video (VideoEndRow); a photo's row has none.
   */
  video?: 'frame' | 'end';
  /** The row's text as it stands in the file, newline-terminated. */
  text: string;
  /** 1-based line number of its first line. */
  line: number;
  /** Byte offset just after it. */
  end: number;
}

export interface ResultsEnd {
  /** Bytes of complete lines: everything after is the torn end of an interrupted write. */
  complete: number;
  /** The torn end, when there is one. */
  torn?: string;
}

interface PhysicalLine {
  text: string;
  line: number;
  end: number;
}

/** Lines split on LF (a CR before it dropped), with byte offsets; the unterminated tail returned apart. */
async function* physicalLines(path: string, highWaterMark?: number): AsyncGenerator<PhysicalLine, string | undefined> {
  let carry: Buffer = Buffer.alloc(0);
  let offset = 0;
  let line = 0;
  for await (const chunk of createReadStream(path, highWaterMark ? { highWaterMark } : {}) as AsyncIterable<Buffer>) {
    const buf = carry.length ? Buffer.concat([carry, chunk]) : chunk;
    let from = 0;
    for (let nl = buf.indexOf(10, from); nl !== -1; nl = buf.indexOf(10, from)) {
      yield { text: buf.toString('utf8', from, nl).replace(/\r$/, ''), line: ++line, end: offset + nl + 1 };
      from = nl + 1;
    }
    offset += from;
    carry = Buffer.from(buf.subarray(from));
  }
  return carry.length ? carry.toString('utf8') : undefined;
}

const notOurs = (path: string, line: number, why: string) =>
  new OptionError(`${path}: line ${line} ${why}; this is not a results file that happysad predict --out wrote (or it was edited), so it is left as it is. Choose another --out file`);

/**
 * The rows of a results file in order. `header` is the CSV header this run writes: a CSV file must
 * start with it. Blank lines are passed over. Returns where the complete rows end.
 */
export async function* readResults(path: string, format: ResultsFormat, options: { header?: string; highWaterMark?: number } = {}): AsyncGenerator<ResultRecord, ResultsEnd> {
  const lines = physicalLines(path, options.highWaterMark);
  let complete = 0;
  let rows = 0;
  let step = await lines.next();
  if (format === 'jsonl') {
    for (; !step.done; step = await lines.next()) {
      const { text, line, end } = step.value;
      complete = end;
      if (!text.trim()) continue;
      const row = parseJsonRow(text);
      if (!row) throw notOurs(path, line, 'is not a JSON row with a "file"');
      rows++;
      const video = row.video !== undefined ? 'end' : row.frame !== undefined ? 'frame' : undefined;
      yield { file: row.file, sha256: row.sha256, model: row.model, error: row.error !== undefined, ...(video ? { video } : {}), text: `${text}\n`, line, end };
    }
    const torn = step.value;
    // A torn end is dropped only where it can be explained: the start of one of our rows.
    if (torn !== undefined && !(rows > 0 || torn.startsWith('{"file":'))) throw notOurs(path, 1, `(${JSON.stringify(torn.slice(0, 40))}) is not a JSON row with a "file"`);
    return { complete, ...(torn !== undefined ? { torn } : {}) };
  }
  const header = options.header!;
  const names = parseCsv(header)[0]!;
  const width = names.length;
  const errorAt = names.indexOf('error');
  const hashAt = names.indexOf('sha256');
  const modelAt = names.indexOf('model');
  let pending = '';
  let first = 0;
  let seenHeader = false;
  for (; !step.done; step = await lines.next()) {
    const { text, line, end } = step.value;
    if (!pending) first = line;
    pending += pending ? `\n${text}` : text;
    // A quoted field may hold a newline: the record goes on until its quotes balance.
    if ((pending.match(/"/g)?.length ?? 0) % 2 === 1) continue;
    const recordText = pending;
    pending = '';
    if (!recordText.trim()) {
      complete = end;
      continue;
    }
    if (!seenHeader) {
      if (recordText !== header) throw new OptionError(`${path}: line 1 is not the results header this model writes (${header}); resume it with the model that wrote it, or choose another --out file. Nothing was changed`);
      seenHeader = true;
      complete = end;
      continue;
    }
    const r = parseCsv(recordText)[0]!;
    if (r.length !== width) throw notOurs(path, first, `has ${r.length} columns where the header has ${width}`);
    complete = end;
    rows++;
    yield { file: r[0]!, sha256: r[hashAt] || undefined, model: modelAt >= 0 ? r[modelAt] || undefined : undefined, error: Boolean(r[errorAt]), text: `${recordText}\n`, line: first, end };
  }
  const torn = pending ? `${pending}\n${step.value ?? ''}` : step.value;
  if (torn !== undefined && !seenHeader && !header.startsWith(torn)) throw notOurs(path, 1, 'is not the results header');
  return { complete, ...(torn !== undefined ? { torn } : {}) };
}

function parseJsonRow(text: string): { file: string; sha256?: string; model?: string; error?: unknown; frame?: unknown; video?: unknown } | undefined {
  try {
    const row = JSON.parse(text) as unknown;
    if (typeof row === 'object' && row !== null && typeof (row as { file?: unknown }).file === 'string') return row as { file: string };
  } catch {
    // not JSON: reported by the caller with its line number
  }
  return undefined;
}
