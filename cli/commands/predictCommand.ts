import { open, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { walkFiles } from '../../src/io/walkFiles.js';
import { hashFile } from '../../src/io/hashFile.js';
import { sniffImageFormat } from '../../src/input/sniffImageFormat.js';
import { OptionError } from '../../src/base/errors.js';
import { loadModel, type Classifier, type Prediction } from '../../src/predict/classifier.js';
import { sniffVideoFormat } from '../../src/input/sniffVideoFormat.js';
import { DEFAULT_VIDEO_EVERY, DEFAULT_VIDEO_LIMITS, DEFAULT_VIDEO_SEARCH_EVERY, MIN_VIDEO_EVERY, type VideoLimits } from '../../src/input/videoLimits.js';
import { VIDEO_JOB_LIMITS } from '../../src/batch/videoJob.js';
import type { VideoRowsOutput } from '../videoRowsOutput.js';
import { formatTable } from '../formatTable.js';
import { csvCell, csvHeader, formatRow, predictionTable } from '../../src/predict/rowFormats.js';
import { ResultsFile, resultsFormatOf } from '../../src/batch/resultsFile.js';
import { arrayJobVariable, inShard, parseShard, shardFromEnvironment } from '../../src/batch/shard.js';
import { runIdentity } from '../../src/model/modelIdentity.js';
import { forcedChoicePair } from '../../src/predict/forcedChoice.js';
import { DEFAULT_QUEUE } from '../../src/batch/queueDefaults.js';
import { redisConnection, validateQueueName } from '../../src/batch/redisOptions.js';
import { JOB_LIMITS } from '../../src/batch/jobReferences.js';
import { DEFAULT_PREDICTION_BATCH } from '../../src/runtime/predictionBatch.js';
import { mapConcurrent } from '../../src/base/mapConcurrent.js';
import { createCountProgress } from '../countProgress.js';
import { parseCommand, parseNumber, parseThreads, type CommandValues } from '../parseCommand.js';
import { resolveModelDir } from '../resolveModel.js';
import { predictThreads } from '../predictThreads.js';

export async function predictCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommand(argv, 'predict');
  if (positionals.length === 0) throw new OptionError(`predict needs at least one image file or folder (happysad help predict)`);
  if (values.json && values.csv) throw new OptionError('choose one of --json and --csv');
  if (values.resume && !values.out) throw new OptionError('--resume continues an --out FILE: give the file');
  if (values.queue && !values.redis) throw new OptionError('--queue names a Redis queue: give --redis URL too');
  if (values.redis) {
    redisConnection(values.redis);
    validateQueueName(values.queue ?? DEFAULT_QUEUE);
  }
  if (values.out) resultsFormatOf(values.out);
  // Checked before any file is read, whether or not a video turns up: a typo costs nothing.
  const video = parseVideoOptions(values);
  if (values.redis) checkQueuedVideoLimits(video);
  const shard = values.shard === 'auto' ? shardFromEnvironment() : values.shard ? parseShard(values.shard) : undefined;
  if (!values.shard && arrayJobVariable()) process.stderr.write(`note: ${arrayJobVariable()} is set, but every file is classified; add --shard auto to classify only this task's part\n`);
  const batch = parseNumber(values.batch, 'batch', { integer: true, min: 1, ...(values.redis ? { max: JOB_LIMITS.maxBatch } : {}) }) ?? DEFAULT_PREDICTION_BATCH;
  const expanded = await expandPaths(positionals);
  const { ignored } = expanded;
  let { files, unreadable } = expanded;
  if (ignored.length) process.stderr.write(`ignored ${ignored.length} file(s) in the folders given that are neither named nor encoded as images, or are not regular files (e.g. ${ignored[0]})\n`);
  if (files.length === 0 && unreadable.length === 0) {
    process.stderr.write(`no image files found in ${positionals.join(', ')}${ignored.length ? ` (${ignored.length} other file(s) ignored)` : ''}; give image files or folders that hold them\n`);
    return 1;
  }
  if (shard) {
    const all = files.length + unreadable.length;
    files = files.filter((f) => inShard(resolve(f), shard));
    unreadable = unreadable.filter((r) => inShard(resolve(r.file), shard));
    process.stderr.write(`shard ${shard.index}/${shard.count} (${shard.source}): ${files.length + unreadable.length} of ${all} file(s)\n`);
  }

  // Sniffed before paths are made absolute below, so the folder walk's sniffs are found by name.
  const kinds = await mapConcurrent(files, 8, async (f) => expanded.kinds.get(f) ?? (await kindOf(f)));
  // A worker may run in another folder, or on another machine with the same shared filesystem:
  // it is sent absolute paths, and rows name files that way.
  if (values.redis) files = files.map((f) => (/^https?:\/\//i.test(f) ? f : resolve(f)));
  let videos = files.filter((_, i) => kinds[i] === 'video');
  if (videos.length) {
    files = files.filter((_, i) => kinds[i] !== 'video');
    if (values.out && resultsFormatOf(values.out) === 'csv') throw new OptionError(`${videos[0]} is a video: its rows (time, frame, track) do not fit a CSV results file's photo columns; give --out a .jsonl file`);
    if (values.csv && (files.length || unreadable.length)) throw new OptionError('--csv: videos and images have different columns; give them in separate runs');
  }
  if (values.report !== undefined && !videos.length) throw new OptionError('--report is for videos (a timeline per person); for photos, `happysad evaluate DIR --report OUT` reports on a labelled folder');
  // A folder the report may not go into is refused before any video is read.
  // (The video and report code loads only when a video or --report asks for it: most runs are photos.)
  if (values.report !== undefined) {
    const { claimReportOutput, VIDEO_REPORT_FORMAT } = await import('../../src/report/reportOutput.js');
    await claimReportOutput(values.report, { format: VIDEO_REPORT_FORMAT, inputs: positionals.filter((p) => !videos.includes(p) && !videos.includes(resolve(p))) });
  }

  // Local threads, or the queue's workers: either way the model's description comes first.
  const classifier = values.redis ? undefined : await loadModel(resolveModelDir(values.model), { workers: parseThreads(values.workers, 'workers') ?? predictThreads(files.length, videos.length) });
  if (values.redis && values.model) process.stderr.write('note: with --redis the workers\' model classifies; --model is ignored here (give it to happysad worker)\n');
  const metadata = classifier?.metadata ?? (await (await import('../../src/batch/predictQueue.js')).queueModel({ redis: values.redis!, queue: values.queue, log: (l) => process.stderr.write(`${l}\n`) }));
  const classes = metadata.classes;
  const forcedChoice = values['forced-choice'];
  // Before any file is read or the --out file made: a model forced choice cannot apply to is refused at once.
  if (forcedChoice) forcedChoicePair(metadata);
  const out = values.out ? await ResultsFile.open(values.out, { classes, model: runIdentity(metadata, { forcedChoice }), resume: values.resume, note: (l) => process.stderr.write(`${l}\n`) }) : undefined;
  if (out && out.done.size > 0) {
    const before = files.length + (values.redis ? videos.length : 0);
    files = await skipDone(files, out);
    unreadable = unreadable.filter((r) => !out.has(r.file, undefined));
    // Here each video is hashed and skipped as its turn comes; queued, the done ones are not sent.
    if (values.redis) videos = await skipDone(videos, out);
    const after = files.length + (values.redis ? videos.length : 0);
    process.stderr.write(`resuming ${values.out}: ${before - after} file(s) already done, ${after} to go\n`);
  }
  const videoOutput = videos.length ? new (await import('../videoRowsOutput.js')).VideoRowsOutput(metadata, { json: values.json, csv: values.csv, report: values.report, every: video.every, smooth: video.smooth, forcedChoice }, out) : undefined;

  const rows: Prediction[] = [];
  let failed = 0;
  let count = 0;
  const emit = async (preds: Prediction[]) => {
    failed += preds.filter((p) => p.error).length;
    count += preds.length;
    if (out) {
      await out.append(preds);
      return;
    }
    rows.push(...preds);
    for (const p of preds) if (values.json || values.csv) process.stdout.write(formatRow(p, values.json ? 'jsonl' : 'csv', classes));
  };
  if (values.csv && !out && !videos.length) console.log(csvHeader(classes).map(csvCell).join(','));
  const progress = createCountProgress(files.length + (values.redis ? videos.length : 0));
  try {
    if (values.redis) {
      const { predictThroughQueue } = await import('../../src/batch/predictQueue.js');
      await predictThroughQueue(files, {
        redis: values.redis, queue: values.queue, batch, faces: !values['no-faces'], forcedChoice, onRows: emit, onProgress: (done) => progress.update(done), log: (l) => process.stderr.write(`${l}\n`),
        videos: { files: videos, every: video.every, searchEvery: video.searchEvery, smooth: video.smooth, limits: { maxSeconds: video.limits.maxSeconds, maxPixels: video.limits.maxPixels } },
        onVideo: async (v) => {
          const frames = await videoOutput!.add(v.file, v.sha256, v.rows, v.every);
          count++;
          process.stderr.write(`${v.file}: ${frames} frame(s) sampled every ${v.every} s\n`);
        },
      });
    } else {
      // Written per batch with --out (a killed run loses at most one batch); otherwise streamed in
      // chunks of a few batches: memory stays flat, and within a chunk the next batch decodes as
      // the current one is classified.
      const chunk = out ? batch : batch * 8;
      for (let i = 0; i < files.length; i += chunk) {
        await emit(await classifier!.predict(files.slice(i, i + chunk), { batch, faces: !values['no-faces'], forcedChoice, cache: !values['no-cache'], hashes: Boolean(out) }));
        progress.update(Math.min(files.length, i + chunk));
      }
    }
    progress.finish();
    await emit(unreadable);
    if (videos.length && !values.redis) {
      await predictVideos(classifier!, videos, values, video, videoOutput!, out);
      count += videos.length;
    }
    if (videoOutput) {
      failed += videoOutput.failed;
      await videoOutput.finish();
    }
  } finally {
    await out?.close();
    await classifier?.close();
  }
  if (!values.json && !values.csv && !out && (rows.length || !videos.length)) {
    const { head, body } = predictionTable(rows, classes, { faces: Boolean(metadata.preprocessing.faces) && !values['no-faces'] });
    console.log(formatTable(head, body));
  }
  if (out) process.stderr.write(`${count} row(s) written to ${values.out}\n`);
  if (failed) process.stderr.write(`${failed} of ${count} file(s) could not be classified\n`);
  return failed ? 1 : 0;
}

interface VideoOptions {
  every: number;
  searchEvery: number;
  smooth: number;
  limits: VideoLimits;
}

/** A worker refuses a video job that asks for more than VIDEO_JOB_LIMITS; the producer says so first. */
function checkQueuedVideoLimits(video: VideoOptions): void {
  const { maxSeconds, maxPixels } = video.limits;
  if (maxSeconds > VIDEO_JOB_LIMITS.maxSeconds) throw new OptionError(`--max-seconds ${maxSeconds}: a queued video is read for at most ${VIDEO_JOB_LIMITS.maxSeconds} s; lower it, or run the video here (without --redis)`);
  if (maxPixels > VIDEO_JOB_LIMITS.maxPixels) throw new OptionError(`--max-video-pixels ${maxPixels}: queued videos may have frames of at most ${VIDEO_JOB_LIMITS.maxPixels} pixels; lower it, or run the video here (without --redis)`);
}

function parseVideoOptions(values: CommandValues<'predict'>): VideoOptions {
  if (values.report === '') throw new OptionError('--report needs a folder name: --report OUT writes OUT/report.html');
  return {
    every: parseNumber(values.every, 'every', { min: MIN_VIDEO_EVERY }) ?? DEFAULT_VIDEO_EVERY,
    searchEvery: parseNumber(values['search-every'], 'search-every', { min: 0 }) ?? DEFAULT_VIDEO_SEARCH_EVERY,
    smooth: parseNumber(values.smooth, 'smooth', { min: 0 }) ?? 0,
    limits: {
      maxSeconds: parseNumber(values['max-seconds'], 'max-seconds', { min: 0.01 }) ?? DEFAULT_VIDEO_LIMITS.maxSeconds,
      maxPixels: parseNumber(values['max-video-pixels'], 'max-video-pixels', { integer: true, min: 1 }) ?? DEFAULT_VIDEO_LIMITS.maxPixels,
    },
  };
}

/**
 * Each video's rows in turn, into `output`: into the --out file a video at a time, streamed and
 * closed by its end row, so a video an interrupted run did not finish is done again by --resume.
 * On a terminal, a progress line (seconds of video done, ETA) while each video runs.
 */
async function predictVideos(classifier: Classifier, videos: string[], values: CommandValues<'predict'>, video: VideoOptions, output: VideoRowsOutput, out?: ResultsFile): Promise<void> {
  const { every, searchEvery, smooth, limits } = video;
  const { probeVideo } = await import('../../src/input/videoFrames.js');
  for (const file of videos) {
    const sha256 = out ? await hashFile(file).catch(() => undefined) : undefined;
    if (out?.has(file, sha256)) {
      process.stderr.write(`${file}: already in ${out.path}, skipped\n`);
      continue;
    }
    const info = await probeVideo(file).catch(() => undefined);
    const progress = process.stderr.isTTY && info?.duration ? createCountProgress(Math.ceil(Math.min(info.duration, limits.maxSeconds)), `s of ${file}`) : undefined;
    const rows = classifier.predictVideo(file, { every, searchEvery, smooth, faces: !values['no-faces'], forcedChoice: values['forced-choice'], limits, info });
    const frames = await output.add(file, sha256, rows, every, (row) => 'time' in row && progress?.update(Math.floor(row.time)));
    progress?.finish();
    process.stderr.write(`${file}: ${frames} frame(s) sampled every ${every} s\n`);
  }
}

/** The files an interrupted run has not done: by path, then (for a path it has) by content hash. */
async function skipDone(files: string[], out: ResultsFile): Promise<string[]> {
  const keep = await mapConcurrent(files, 8, async (f) => {
    if (!out.done.has(f)) return true;
    return !out.has(f, await hashFile(f).catch(() => undefined));
  });
  return files.filter((_, i) => keep[i]);
}

const IMAGE_NAME = /\.(jpe?g|png|gif|webp|tiff?|avif|heic|heif|bmp|svg)$/i;
const VIDEO_NAME = /\.(mp4|m4v|mov|webm|mkv|avi)$/i;

type FileKind = 'video' | 'image' | 'other' | undefined;

/**
 * 'video' when the bytes say so (a file named .mp4 that is a JPEG is an image, and the reverse);
 * 'other' when they are neither; undefined when the file cannot be read (prediction says why).
 */
async function kindOf(file: string): Promise<FileKind> {
  const head = await readHead(file);
  if (!head) return undefined;
  return sniffVideoFormat(head) !== 'unknown' ? 'video' : sniffImageFormat(head) !== 'unknown' ? 'image' : 'other';
}

async function readHead(file: string): Promise<Uint8Array | undefined> {
  const fh = await open(file, 'r').catch(() => undefined);
  if (!fh) return undefined;
  try {
    const head = new Uint8Array(64);
    const { bytesRead } = await fh.read(head, 0, 64, 0);
    return head.subarray(0, bytesRead);
  } catch {
    return undefined;
  } finally {
    await fh.close();
  }
}

/**
 * Files as given, folders expanded recursively in sorted order (dotfiles skipped, links to
 * folders followed). Inside a folder, a file neither named nor encoded as an image (a README,
 * notes) is ignored rather than reported; a file named as an image that is not one still gets its
 * error row, and so does a folder that cannot be read. FIFOs and other special files are skipped:
 * reading one could block forever.
 */
async function expandPaths(paths: string[]): Promise<{ files: string[]; ignored: string[]; unreadable: Prediction[]; kinds: Map<string, FileKind> }> {
  const out: string[] = [];
  // The kinds already sniffed here, so that no file's head is read twice.
  const kinds = new Map<string, FileKind>();
  const ignored: string[] = [];
  const unreadable: Prediction[] = [];
  for (const p of paths) {
    const s = await stat(p).catch(() => undefined);
    if (s?.isDirectory()) {
      const walked = await walkFiles(p);
      for (const f of walked.files) {
        if (IMAGE_NAME.test(f) || VIDEO_NAME.test(f)) {
          out.push(f);
          continue;
        }
        const kind = await kindOf(f);
        kinds.set(f, kind);
        // Unreadable: kept, so that prediction reports why.
        if (kind !== 'other') out.push(f);
        else ignored.push(f);
      }
      ignored.push(...walked.skipped);
      for (const w of walked.problems) unreadable.push({ file: w.path, error: { code: 'unreadable', message: `${w.path}: ${w.detail}` } });
    } else if (s && !s.isFile()) {
      unreadable.push({ file: p, error: { code: 'not-a-file', message: `${p}: not a regular file (a FIFO, socket or device); give image files or folders` } });
    } else {
      out.push(p); // a missing path becomes an error row: the user sees which path was wrong
    }
  }
  return { files: out, ignored, unreadable, kinds };
}
