import { open, readFile, stat, type FileHandle } from 'node:fs/promises';
import { extname } from 'node:path';
import { OptionError } from '../base/errors.js';
import { csvCell, csvHeader, formatRow, parseCsv, rowKey, type ResultRow, type ResultsFormat } from './resultRows.js';

export function resultsFormatOf(path: string): ResultsFormat {
  const ext = extname(path).toLowerCase();
  if (ext === '.csv') return 'csv';
  if (ext === '.jsonl' || ext === '.ndjson' || ext === '.json') return 'jsonl';
  throw new OptionError(`--out ${path}: name it .jsonl (JSON Lines) or .csv, so the format is clear to you and to --resume`);
}

/** What an existing results file already holds: path -> content hashes of its rows ('' for an error row). */
export type DoneFiles = Map<string, Set<string>>;

/**
 * An --out file that a run appends to: rows land in chunks, each one write() of whole rows
 * followed by an fsync, so a run killed at any moment leaves every chunk before the last intact.
 * A run never replaces an existing file: it refuses to start, or with `resume` continues it,
 * dropping only what the interrupted chunk may have left half-written (its last row), and never
 * writes a row whose path and content it already holds.
 */
export class ResultsFile {
  private readonly written = new Set<string>();

  private constructor(
    /** Where the next chunk goes: the end of what was kept. */
    private position: number,
    readonly path: string,
    readonly format: ResultsFormat,
    private readonly classes: readonly string[],
    private readonly fh: FileHandle,
    /** Rows already in the file when it was opened, by path. */
    readonly done: DoneFiles,
  ) {
    for (const [file, hashes] of done) for (const h of hashes) this.written.add(rowKey({ file, sha256: h || undefined }));
  }

  static async open(path: string, options: { classes: readonly string[]; resume?: boolean }): Promise<ResultsFile> {
    const format = resultsFormatOf(path);
    const header = `${csvHeader(options.classes, true).map(csvCell).join(',')}\n`;
    const existing = await stat(path).catch(() => undefined);
    if (existing && !existing.isFile()) throw new OptionError(`--out ${path} is not a regular file`);
    const done: DoneFiles = new Map();
    let keep = 0;
    if (existing && existing.size > 0) {
      if (!options.resume) throw new OptionError(`--out ${path} already exists; add --resume to continue that run (files already in it are skipped), or choose another file. Nothing was written.`);
      const text = await readFile(path, 'utf8');
      keep = format === 'jsonl' ? readJsonl(text, path, done) : readCsv(text, path, header, done);
    }
    const fh = await open(path, existing ? 'r+' : 'wx');
    try {
      // Only the tail the interrupted chunk may have torn goes; every complete row stays.
      if (existing && existing.size > keep) await fh.truncate(keep);
      const file = new ResultsFile(keep, path, format, options.classes, fh, done);
      if (format === 'csv' && keep === 0) await file.write(header);
      return file;
    } catch (err) {
      await fh.close();
      throw err;
    }
  }

  /** Whether a row for this path with this content (or an error row for the path) is already in the file. */
  has(file: string, sha256: string | undefined): boolean {
    const hashes = this.done.get(file);
    return Boolean(hashes && (hashes.has('') || (sha256 !== undefined && hashes.has(sha256))));
  }

  /** Appends the rows not written yet as one chunk; returns how many were new. */
  async append(rows: ResultRow[]): Promise<number> {
    let text = '';
    let n = 0;
    for (const row of rows) {
      const key = rowKey(row);
      if (this.written.has(key)) continue;
      this.written.add(key);
      text += formatRow(row, this.format, this.classes, true);
      n++;
    }
    if (text) await this.write(text);
    return n;
  }

  private async write(text: string): Promise<void> {
    const bytes = Buffer.from(text);
    let off = 0;
    while (off < bytes.length) off += (await this.fh.write(bytes, off, bytes.length - off, this.position + off)).bytesWritten;
    this.position += bytes.length;
    await this.fh.datasync();
  }

  async close(): Promise<void> {
    await this.fh.close();
  }
}

function remember(done: DoneFiles, file: string, sha256: string | undefined): void {
  (done.get(file) ?? done.set(file, new Set()).get(file)!).add(sha256 ?? '');
}

/** Complete JSON lines; a last line without its newline is the torn end of a chunk. Returns the bytes to keep. */
function readJsonl(text: string, path: string, done: DoneFiles): number {
  const end = text.lastIndexOf('\n') + 1;
  text.slice(0, end).split('\n').forEach((line, i) => {
    if (!line.trim()) return;
    let row: ResultRow;
    try {
      row = JSON.parse(line) as ResultRow;
    } catch {
      throw new OptionError(`--out ${path}: line ${i + 1} is not a JSON row; this is not a happysad results file, so --resume will not touch it`);
    }
    if (typeof row.file !== 'string') throw new OptionError(`--out ${path}: line ${i + 1} has no "file"; this is not a happysad results file`);
    remember(done, row.file, row.sha256);
  });
  return Buffer.byteLength(text.slice(0, end));
}

/**
 * CSV holds one line per face, so a torn chunk could end between two faces of one file: the last
 * file's lines are dropped and that file is done again.
 */
function readCsv(text: string, path: string, header: string, done: DoneFiles): number {
  if (!text.startsWith(header)) throw new OptionError(`--out ${path}: its first line is not this model's results header (${header.trim()}); resume it with the model that wrote it, or choose another file`);
  const records = parseCsv(text.slice(header.length)).filter((r) => r.length > 1);
  const width = header.split(',').length;
  let lastFile: string | undefined;
  let lastStart = header.length;
  // Byte offsets need the raw text: find each record's start by re-serialising the records before it.
  let offset = header.length;
  for (const r of records) {
    if (r.length !== width) break;
    const [file] = r;
    const sha = r[width - 1] || undefined;
    const line = `${r.map(csvCell).join(',')}\n`;
    if (text.slice(offset, offset + line.length) !== line) break;
    if (file !== lastFile) lastStart = offset;
    lastFile = file;
    remember(done, file!, sha);
    offset += line.length;
  }
  if (lastFile !== undefined) {
    // Forget the last file: its lines are truncated below and it is classified again.
    done.delete(lastFile);
    offset = lastStart;
  }
  return Buffer.byteLength(text.slice(0, offset));
}
