import type { ResultsFile } from '../src/batch/resultsFile.js';
import type { BundleMetadata } from '../src/model/bundleMetadata.js';
import type { VideoErrorRow, VideoRow } from '../src/predict/predictionRow.js';
import { csvCell, formatVideoRow, round4, videoCsvHeader } from '../src/predict/rowFormats.js';
import { TrackSummaries } from '../src/predict/trackSummary.js';
import { writeVideoReport } from '../src/report/videoReport.js';
import { formatTable } from './formatTable.js';

type Row = VideoRow | VideoErrorRow;

/**
 * Where `predict` sends each video's rows, whether the video ran here or on the queue's workers:
 * into the --out file (streamed, closed by its end row), or as JSON Lines or CSV on stdout; then,
 * for a terminal, one line per track (when the person was seen and how they looked), and the
 * --report. The rows of one video come in frame order, one video at a time.
 */
export class VideoRowsOutput {
  /** Error rows seen: a video that could not be read to its end. */
  failed = 0;
  private readonly summaries: TrackSummaries;
  private readonly errors: [string, string][] = [];
  private readonly kept: { file: string; rows: Row[] }[] = [];
  private readonly format: 'jsonl' | 'csv' | undefined;

  constructor(
    private readonly metadata: BundleMetadata,
    private readonly options: { json?: boolean; csv?: boolean; report?: string; every: number; smooth: number; forcedChoice?: boolean },
    private readonly out?: ResultsFile,
  ) {
    this.summaries = new TrackSummaries(metadata.classes);
    this.format = out ? undefined : options.json ? 'jsonl' : options.csv ? 'csv' : undefined;
    if (this.format === 'csv') console.log(videoCsvHeader(metadata.classes, options.smooth > 0).map(csvCell).join(','));
  }

  /** Takes one video's rows as they come; `onRow` sees each (a progress line). Returns its sampled frames. */
  async add(file: string, sha256: string | undefined, rows: AsyncIterable<Row> | Iterable<Row>, every: number, onRow?: (row: Row) => void): Promise<number> {
    let frames = 0;
    const mine: Row[] = [];
    if (this.options.report) this.kept.push({ file, rows: mine });
    const tap = async function* (this: VideoRowsOutput): AsyncGenerator<Row> {
      for await (const row of rows) {
        onRow?.(row);
        if (this.options.report) mine.push(row);
        if ('error' in row) {
          this.failed++;
          this.errors.push([file, row.error.message]);
        } else {
          frames = Math.max(frames, row.frame + 1);
          this.summaries.add(row);
        }
        if (this.format) process.stdout.write(formatVideoRow(row, this.format, this.metadata.classes, this.options.smooth > 0));
        yield row;
      }
    }.call(this);
    if (this.out) await this.out.appendVideo(file, sha256, tap, every);
    else for await (const _ of tap);
    return frames;
  }

  /** The per-track table and the errors (a terminal's view), and the --report. */
  async finish(): Promise<void> {
    const { classes } = this.metadata;
    if (!this.options.json && !this.options.csv) {
      const head = ['file', 'track', 'from s', 'to s', 'frames', ...classes.map((c) => `${c} %`), 'mean score', 'median score'];
      const body = this.summaries.summaries().map((t) => [t.file, t.track, t.first.toFixed(1), t.last.toFixed(1), t.frames, ...classes.map((c) => Math.round(100 * t.share[c]!)), round4(t.meanScore), round4(t.medianScore)]);
      console.log(formatTable(head, body));
      for (const [file, message] of this.errors) console.log(`${file}: ${message}`);
    }
    if (this.options.report) {
      const { every, smooth } = this.options;
      const written = await writeVideoReport({ metadata: this.metadata, videos: this.kept, every, smooth, forcedChoice: this.options.forcedChoice }, this.options.report);
      process.stderr.write(`report: ${written.html}${written.replaced ? ' (replaces the earlier report there)' : ''}\n`);
    }
  }
}
