import { open, stat, type FileHandle } from 'node:fs/promises';
import { dirname, extname } from 'node:path';
import { HappysadError, OptionError, OutputError } from '../base/errors.js';
import { csvCell, csvHeader, formatRow, formatVideoRow, type ResultsFormat } from '../predict/rowFormats.js';
import { rowKey, type ResultRow, type VideoEndRow, type VideoErrorRow, type VideoRow } from '../predict/predictionRow.js';
import { ResultsLock } from './resultsLock.js';
import { FORCED_CHOICE_MARK } from '../model/modelIdentity.js';
import { readResults } from './readResults.js';

export function resultsFormatOf(path: string): ResultsFormat {
  const ext = extname(path).toLowerCase();
  if (ext === '.csv') return 'csv';
  if (ext === '.jsonl' || ext === '.ndjson' || ext === '.json') return 'jsonl';
  throw new OptionError(`--out ${path}: name it .jsonl (JSON Lines) or .csv, so the format is clear to you and to --resume`);
}

/** Video rows per write to an --out file: a few hundred KB, one fsync each. */
const VIDEO_WRITE_ROWS = 1000;

/** What an existing results file already holds: path -> content hash of its current row ('' for an error row). */
export type DoneFiles = Map<string, string>;

/** A results file's CSV header line (without its newline). */
export const resultsHeader = (classes: readonly string[]) => csvHeader(classes, true).map(csvCell).join(',');

/** Why a results file cannot be created or written, said as the user can act on it. */
export function explainWriteError(path: string, err: unknown): unknown {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return new OutputError(`--out ${path}: the folder ${dirname(path)} does not exist; create it first, or choose another place`);
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') return new OutputError(`--out ${path}: cannot write there (${code}); choose a folder you may write to`);
  if (code === 'EISDIR') return new OutputError(`--out ${path} is a folder; give a file name ending in .jsonl or .csv`);
  if (code === 'ENOSPC' || code === 'EDQUOT') return new HappysadError('disk-full', `${path}: the disk is full (${code}). Every row written so far is complete and kept; free some space and run the same command with --resume to go on`);
  return err;
}

/**
 * An --out file that a run appends to: rows land in chunks, each one write() of whole rows
 * followed by an fsync, so a run killed at any moment leaves every chunk before the last intact.
 * One run at a time holds it (ResultsLock). A run never replaces an existing file: it refuses to
 * start, or with `resume` continues it, dropping only the torn end of an interrupted chunk, and
 * refuses a file with anything it cannot explain, or rows of another model. Every row records its
 * content hash and its model; the last row of a path is its current one (a file whose content
 * changed gets a new row that supersedes the old).
 */
export class ResultsFile {
  private readonly written = new Set<string>();

  private constructor(
    /** Where the next chunk goes: the end of what was kept. */
    private position: number,
    readonly path: string,
    readonly format: ResultsFormat,
    private readonly classes: readonly string[],
    private readonly model: string,
    private readonly fh: FileHandle,
    private readonly lock: ResultsLock,
    /** Rows already in the file when it was opened, by path. */
    readonly done: DoneFiles,
  ) {
    for (const [file, hash] of done) if (hash) this.written.add(rowKey({ file, sha256: hash }));
  }

  static async open(path: string, options: { classes: readonly string[]; model: string; resume?: boolean; note?: (line: string) => void; highWaterMark?: number }): Promise<ResultsFile> {
    const format = resultsFormatOf(path);
    const header = resultsHeader(options.classes);
    const existing = await stat(path).catch(() => undefined);
    if (existing && !existing.isFile()) throw new OptionError(`--out ${path} is not a regular file; give a file name ending in .jsonl or .csv`);
    if (existing && existing.size > 0 && !options.resume) throw new OptionError(`--out ${path} already exists; add --resume to continue that run (files already in it are skipped), or choose another file. Nothing was written.`);
    const lock = await ResultsLock.acquire(path, options.note).catch((err) => {
      throw explainWriteError(path, err);
    });
    try {
      const done: DoneFiles = new Map();
      const keep = existing && existing.size > 0 ? await scan(path, format, header, options.model, done, options.highWaterMark) : 0;
      const fh = await open(path, existing ? 'r+' : 'wx').catch((err) => {
        throw explainWriteError(path, err);
      });
      try {
        // Only the tail an interrupted chunk may have torn goes; every complete row stays.
        if (existing && existing.size > keep) await fh.truncate(keep);
        const file = new ResultsFile(keep, path, format, options.classes, options.model, fh, lock, done);
        if (format === 'csv' && keep === 0) await file.write(`${header}\n`);
        return file;
      } catch (err) {
        await fh.close();
        throw explainWriteError(path, err);
      }
    } catch (err) {
      await lock.release();
      throw err;
    }
  }

  /** Whether the file's current row for this path is of this content (a row without a hash never is: it is tried again). */
  has(file: string, sha256: string | undefined): boolean {
    const hash = this.done.get(file);
    return Boolean(hash && sha256 !== undefined && hash === sha256);
  }

  /** Appends the rows not written yet as one chunk, each with this run's model; returns how many were new. */
  async append(rows: ResultRow[]): Promise<number> {
    let text = '';
    let n = 0;
    for (const row of rows) {
      const key = rowKey(row);
      if (row.sha256 && this.written.has(key)) continue;
      if (row.sha256) this.written.add(key);
      text += formatRow({ ...row, model: this.model }, this.format, this.classes, true);
      n++;
    }
    if (text) await this.write(text);
    return n;
  }

  /**
   * Appends a whole video as its rows come (from predictVideo here, or from the queue's workers):
   * its rows, each with the video's hash and this run's model, written VIDEO_WRITE_ROWS at a time
   * (memory flat however long the video), then the VideoEndRow that says it is complete. Should
   * the rows fail midway (a write, the video, the queue), what was written of this video is cut
   * off again, so the file never holds part of a video before another file's rows. Returns false,
   * reading nothing, when this content was written already.
   */
  async appendVideo(file: string, sha256: string | undefined, rows: AsyncIterable<VideoRow | VideoErrorRow> | Iterable<VideoRow | VideoErrorRow>, every: number): Promise<boolean> {
    if (this.format !== 'jsonl') throw new OptionError(`--out ${this.path}: a video's rows (time, frame, track) do not fit this CSV's photo columns; write videos to a .jsonl file`);
    // Without a hash (the file could not be read) the video is not done: --resume tries it again.
    const key = rowKey({ file, sha256 });
    if (sha256 && this.written.has(key)) return false;
    const start = this.position;
    const provenance = { ...(sha256 ? { sha256 } : {}), model: this.model };
    let text = '';
    let n = 0;
    let frames = 0;
    try {
      for await (const row of rows) {
        if (!('error' in row)) frames = Math.max(frames, row.frame + 1);
        text += formatVideoRow({ ...row, ...provenance }, 'jsonl', this.classes);
        if (++n % VIDEO_WRITE_ROWS === 0) {
          await this.write(text);
          text = '';
        }
      }
      text += `${JSON.stringify({ file, video: { frames, every }, ...provenance } satisfies VideoEndRow)}\n`;
      await this.write(text);
    } catch (err) {
      if (this.position > start) {
        await this.fh.truncate(start).then(() => (this.position = start), () => {});
      }
      throw err;
    }
    if (sha256) this.written.add(key);
    return true;
  }

  private async write(text: string): Promise<void> {
    const bytes = Buffer.from(text);
    let off = 0;
    try {
      while (off < bytes.length) off += (await this.fh.write(bytes, off, bytes.length - off, this.position + off)).bytesWritten;
      await this.fh.datasync();
    } catch (err) {
      // What part of the chunk landed is the torn end that --resume drops.
      throw explainWriteError(this.path, err);
    }
    this.position += bytes.length;
  }

  async close(): Promise<void> {
    try {
      await this.fh.close();
    } finally {
      await this.lock.release();
    }
  }
}

/**
 * What a results file holds, streamed: each path's current row, checked to be this model's.
 * Returns the bytes to keep. In CSV a torn chunk could end between two faces of one file, so the
 * last file's lines are dropped too and that file is done again.
 */
async function scan(path: string, format: ResultsFormat, header: string, model: string, done: DoneFiles, highWaterMark?: number): Promise<number> {
  const rows = readResults(path, format, { header, highWaterMark });
  let lastFile: string | undefined;
  let lastStart = 0;
  let prevEnd = 0;
  // A video whose rows have begun and whose VideoEndRow has not come yet: where its rows start.
  let openVideo: { file: string; start: number } | undefined;
  for (let step = await rows.next(); ; step = await rows.next()) {
    if (step.done) {
      // A video cut short by the interruption goes as a whole, and is done again.
      if (format === 'jsonl') return openVideo ? openVideo.start : step.value.complete;
      if (lastFile === undefined) return step.value.complete;
      done.delete(lastFile);
      return lastStart;
    }
    const r = step.value;
    if (r.model !== undefined && r.model !== model) {
      const forced = (id: string) => id.endsWith(FORCED_CHOICE_MARK);
      if (r.model.replace(FORCED_CHOICE_MARK, '') === model.replace(FORCED_CHOICE_MARK, '')) {
        throw new OptionError(`--out ${path}: line ${r.line} was written ${forced(r.model) ? 'with' : 'without'} --forced-choice, and this run is ${forced(model) ? 'with' : 'without'} it; one results file holds one kind of answer. Resume it ${forced(r.model) ? 'with' : 'without'} --forced-choice, or give this run another --out file. Nothing was changed`);
      }
      throw new OptionError(`--out ${path}: line ${r.line} was written by model ${r.model}, and this run's model is ${model}; one results file holds one model's rows. Resume it with the model that wrote it, or give this run another --out file. Nothing was changed`);
    }
    if (r.file !== lastFile) lastStart = prevEnd;
    const start = prevEnd;
    prevEnd = r.end;
    lastFile = r.file;
    if (r.video === 'frame' && openVideo?.file !== r.file) openVideo = { file: r.file, start };
    if (r.video === 'end') openVideo = undefined;
    // A video's frame rows, or its error row, do not make it done: only its end row does.
    else if (openVideo?.file === r.file) continue;
    else openVideo = undefined;
    // An error row with a hash (a corrupt image) stands for that content; one without (missing, unreadable) is tried again.
    done.set(r.file, r.sha256 ?? '');
  }
}
