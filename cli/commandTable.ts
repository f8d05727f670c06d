import { DEFAULT_IMAGE_LIMITS } from '../src/input/imageLimits.js';
import { FACE_DETECTORS } from '../src/input/preprocessSpec.js';
import { DEFAULT_FACE_CROP } from '../src/faces/faceCropDefaults.js';
import { DEFAULT_QUEUE, DEFAULT_STALL_SECONDS } from '../src/batch/queueDefaults.js';
import { DEFAULT_PREDICTION_BATCH } from '../src/runtime/predictionBatch.js';
import { DEFAULT_VIDEO_EVERY, DEFAULT_VIDEO_LIMITS, DEFAULT_VIDEO_SEARCH_EVERY, MIN_VIDEO_EVERY } from '../src/input/videoLimits.js';
import { DEFAULT_LISTEN, DEFAULT_SERVE_OPTIONS as S } from '../src/serve/serveOptions.js';
import { DEFAULT_TRAIN_OPTIONS as T, FROM_TRAIN_DEFAULTS as F } from '../src/train/trainOptions.js';
import { LEARNING_CURVE_FRACTIONS } from '../src/train/learningCurveFractions.js';
import { PHOTOS_PER_EXTRA_THREAD } from './predictThreads.js';

/**
 * Every command and option of the `happysad` CLI, declared once. Parsing (parseCommand), `--help`,
 * `happysad help CMD` and the README's command reference are all generated from this table, so
 * help cannot drift from what the parser accepts. Defaults shown here are the library's own
 * (imported, not retyped); parsing leaves an absent option undefined and the library applies them.
 *
 * This module must stay light: main.ts loads it for every invocation, before any command.
 */

export interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  /** The value's placeholder in help: `--out DIR`. */
  arg?: string;
  help: string;
  /** What applies when the option is absent, as help shows it. */
  shows?: string | number;
  /** The parsed value when absent (parseArgs' default); only where the command needs one. */
  default?: string;
  /** May be given more than once; parsed as a list. */
  multiple?: boolean;
}

export interface CommandSpec {
  summary: string;
  /** What follows `happysad NAME` in the usage line. */
  usage: string;
  description: string;
  options: Record<string, OptionSpec>;
}

const json = { type: 'boolean', help: 'print results as JSON (one line per result); errors as {"error":{"code","message"}}' } satisfies OptionSpec;
const model = { type: 'string', short: 'm', arg: 'MODEL_DIR', help: 'the model bundle to use', shows: 'the default face model' } satisfies OptionSpec;
const workers = { type: 'string', arg: 'N', help: 'threads (each holds a copy of the model)', shows: 'all cores' } satisfies OptionSpec;
const overwrite = { type: 'boolean', help: 'replace what is already at --out (the old one is kept as OUT.previous)' } satisfies OptionSpec;
const forcedChoiceOption = { type: 'boolean', help: 'decide between happy and sad only, never neutral (a model with more classes: the pair and threshold it records, else happy/sad at 0.5); the other classes get probability 0' } satisfies OptionSpec;
const noFaces = { type: 'boolean', help: 'classify whole images: no face detection (data that already is face crops, or scene-level data)' } satisfies OptionSpec;
const imageLimits = {
  'min-side': { type: 'string', arg: 'PX', help: 'smallest image side accepted', shows: DEFAULT_IMAGE_LIMITS.minSide },
  'max-pixels': { type: 'string', arg: 'N', help: 'largest image (width x height), checked before decoding', shows: DEFAULT_IMAGE_LIMITS.maxPixels },
  'lenient-decode': { type: 'boolean', help: 'accept images the decoder warns about (damaged scan data); reject only truncated ones' },
} satisfies Record<string, OptionSpec>;

export const COMMAND_TABLE = {
  predict: {
    summary: 'classify images (files or folders)',
    usage: 'PATH... [options]',
    description: `Classifies image files, or every file under folders, with MODEL_DIR or, without --model, the
default face model shipped with happysad. Videos (mp4, webm, mov, avi, mkv: anything ffmpeg reads,
found by content) are sampled every --every seconds through ffmpeg ($HAPPYSAD_FFMPEG or on PATH):
one row per sampled frame and face, {"file","time","frame","track","box","label","score",
"probabilities"}, where track follows a person while in view; the table is then one line per track. Score = probability of the model's positive class
(e.g. happy). A face model finds each face, crops and classifies it: one line per face; when no
face is found the whole image is classified and the row says so. A file that cannot be read gets
a row with an error; the others go on, and the exit code is 1.
JSON Lines rows: {"file","label","score","probabilities"[,"faces":[{"box":[x,y,w,h],"label","score",
"detector_score","probabilities"}] | ,"face":"none-found"|"is-crop"]}, or {"file","error"}.
CSV columns: file,face,box,label,score,p_<class>...,error (one line per face).`,
    options: {
      model,
      json: { type: 'boolean', help: 'JSON Lines, one row per file (see above)' },
      csv: { type: 'boolean', help: 'CSV, one line per face (see above)' },
      'no-faces': noFaces,
      'no-cache': { type: 'boolean', help: 'do not keep face crops in the face-crop cache ($HAPPYSAD_CACHE, else $XDG_CACHE_HOME/happysad or ~/.cache/happysad), which spares a second run on the same photos the detection' },
      batch: { type: 'string', arg: 'N', help: 'images per forward pass (and per queued job with --redis)', shows: DEFAULT_PREDICTION_BATCH },
      workers: { ...workers, shows: `all cores; 1 below ${PHOTOS_PER_EXTRA_THREAD} photos and no video, +1 per ${PHOTOS_PER_EXTRA_THREAD} more` },
      out: { type: 'string', short: 'o', arg: 'FILE', help: "append rows to FILE (.jsonl or .csv) as batches finish, each chunk written whole and synced, each row with its file's sha256; never replaces an existing FILE" },
      resume: { type: 'boolean', help: 'continue an interrupted --out FILE: files already in it (same path and content) are skipped, none is written twice' },
      shard: { type: 'string', arg: 'i/N|auto', help: 'only the i-th of N disjoint parts of the files (by a hash of each absolute path, whatever the listing order; every shard must see the same paths); auto: from SLURM_ARRAY_TASK_ID/_MIN/_STEP/_COUNT, JOB_COMPLETION_INDEX + HAPPYSAD_SHARD_COUNT, AWS_BATCH_JOB_ARRAY_INDEX/_SIZE or HAPPYSAD_SHARD', shows: 'all files' },
      redis: { type: 'string', arg: 'URL', help: 'enqueue the files on this Redis (redis://HOST:PORT) for `happysad worker`s to classify; collects their rows. Paths must be readable by the workers (a shared filesystem) or http(s) URLs; videos go one per job, as paths' },
      queue: { type: 'string', arg: 'NAME', help: 'the queue name, with --redis', shows: DEFAULT_QUEUE },
      every: { type: 'string', arg: 'S', help: `videos: seconds between sampled frames, at least ${MIN_VIDEO_EVERY} (the first frame is always sampled)`, shows: DEFAULT_VIDEO_EVERY },
      'search-every': { type: 'string', arg: 'S', help: 'videos: search the whole frame for faces every S seconds; the frames between look for each face around where it was (a new face waits for the next search); 0: search every frame', shows: DEFAULT_VIDEO_SEARCH_EVERY },
      'forced-choice': forcedChoiceOption,
      smooth: { type: 'string', arg: 'S', help: "videos: add each track's class probabilities averaged over the last S seconds (smoothed_probabilities), the model's label on them (smoothed_label) and smoothed_score, their p(positive)", shows: 'off' },
      'max-seconds': { type: 'string', arg: 'S', help: 'videos: read at most this many seconds of each', shows: DEFAULT_VIDEO_LIMITS.maxSeconds },
      'max-video-pixels': { type: 'string', arg: 'N', help: 'videos: largest frame (width x height) read', shows: DEFAULT_VIDEO_LIMITS.maxPixels },
      report: { type: 'string', arg: 'OUT', help: "videos: write OUT/report.html, a timeline of each track's score with its face and summary (self-contained), and report.json" },
    },
  },
  worker: {
    summary: 'classify batches from a Redis job queue until stopped',
    usage: '--redis URL [options]',
    description: `Serves \`happysad predict ... --redis URL\` runs: takes batches of file references, and videos one
per job, from the queue, classifies them with MODEL_DIR (or the default model) and returns their
rows (a video's through Redis in chunks of 500 as they are computed). Run one per machine
(it uses every core) or one single-threaded worker per core. A worker that dies mid-batch loses
nothing: after --stall-timeout its batch goes to another worker. SIGTERM or Ctrl-C finishes the
current batch (a video in progress is handed back to the queue instead), then stops (within 10 s
if Redis is unreachable). The connection to Redis is
re-established when lost. Anyone who can write to the Redis can queue jobs, so a worker reads only
what it is told it may: absolute paths to regular files under a --root folder, and http(s) URLs
on an --allow-host host (redirects included, bodies capped at 64 MB, 30 s per file); a video
only by path, when its first bytes are an MP4, MOV, WebM, Matroska or AVI (ffmpeg is given that
open file and that demuxer, never a path or a guess); anything else gets an error row that
carries nothing of the file. Finished jobs that no producer collected
(a producer was killed) expire from Redis after a day.`,
    options: {
      redis: { type: 'string', arg: 'URL', help: 'the Redis to take jobs from (redis://HOST:PORT[/DB], redis://[::1]:PORT for IPv6)' },
      root: { type: 'string', multiple: true, arg: 'DIR', help: 'a folder whose files (links resolved) jobs may name; repeatable', shows: 'none: no paths are read' },
      'allow-host': { type: 'string', multiple: true, arg: 'HOST[:PORT]', help: 'a host whose http(s) URLs jobs may name; repeatable', shows: 'none: no URLs are fetched' },
      model,
      queue: { type: 'string', arg: 'NAME', help: 'the queue name', shows: DEFAULT_QUEUE },
      workers,
      'stall-timeout': { type: 'string', arg: 'S', help: "seconds after which a silent worker's batch is given to another", shows: DEFAULT_STALL_SECONDS },
    },
  },
  merge: {
    summary: 'merge --out files of shards or runs into one',
    usage: 'FILE... --out FILE',
    description: `Merges results files written by \`predict --out\` (shards of an array job, or runs on different
machines) into one, in the same format (.jsonl or .csv): each file's row once (by path and content
hash), the first kept when two files hold it. Reports how many duplicates were dropped.`,
    options: {
      out: { type: 'string', short: 'o', arg: 'FILE', help: 'the merged file (.jsonl or .csv); must not exist yet' },
    },
  },
  train: {
    summary: 'train a model on a folder of class folders',
    usage: 'DIR --out MODEL_DIR [options]',
    description: `Trains a classifier on DIR, either DIR/<class>/ (a seeded, stratified validation split is held
out) or DIR/{train,val,test}/<class>/. Writes the model bundle, history.json and training curves
(PNG, SVG) to MODEL_DIR; the best epoch so far is saved as it is found, so Ctrl-C keeps it.
MODEL_DIR must be new or empty, outside DIR; --overwrite replaces a model already there, which
is kept as MODEL_DIR.previous (moved aside at the new run's first checkpoint, not before).
--from an ensemble (the default model) fine-tunes its members one after another and saves their
average once all are trained, with each member's history and curves (history-MEMBER.json,
training-curves-MEMBER.svg); Ctrl-C then saves nothing.`,
    options: {
      out: { type: 'string', short: 'o', arg: 'MODEL_DIR', help: 'where to write the model: a new or empty folder outside DIR' },
      from: { type: 'string', arg: 'MODEL', help: `fine-tune a trained model (a model folder, or default: the shipped face model) instead of training from scratch: its architecture, input and face crop are kept, its classes carried over where yours match; an ensemble is fine-tuned member by member. Defaults become --lr ${F.learningRate} --patience ${F.patience} --augment --class-weight ${F.classWeight} --tune-threshold (each can still be given); the model records where it started` },
      teacher: { type: 'string', arg: 'MODEL', help: "distil: learn from this model's probabilities (a model folder, or default) as well as the labels, e.g. one net from an ensemble, so a face costs one net's passes; the teacher must read the same input (size, face crop) and know the classes" },
      'distill-weight': { type: 'string', arg: 'F', help: "with --teacher: the teacher's share of each training target", shows: T.distillWeight },
      arch: { type: 'string', arg: 'NAME', help: 'architecture: seed-a (Model A), seed-b (Model B), face-48, ...; `happysad arch` lists them all', shows: T.arch },
      input: { type: 'string', arg: 'HxWxC', help: 'input size, e.g. 48x48x1', shows: "the arch's own" },
      epochs: { type: 'string', arg: 'N', help: 'most epochs', shows: T.epochs },
      patience: { type: 'string', arg: 'N', help: 'early stopping: epochs without val-loss improvement', shows: T.patience },
      overwrite,
      'no-restore-best': { type: 'boolean', help: "keep the last epoch's weights, not the best" },
      batch: { type: 'string', arg: 'N', help: 'batch size', shows: T.batch },
      seed: { type: 'string', arg: 'N', help: 'seed of every random choice', shows: 'random, recorded in the model' },
      'val-split': { type: 'string', arg: 'F', help: 'validation fraction for the class-folders layout', shows: T.valSplit },
      augment: { type: 'boolean', help: 'random flips, shifts, rotation, zoom, brightness and contrast' },
      'no-augment': { type: 'boolean', help: 'with --from: train without augmentation' },
      'learning-curve': { type: 'boolean', help: `first train on ${LEARNING_CURVE_FRACTIONS.map((f) => `${100 * f}%`).join(', ')} of the training images (same seed and validation images), then on all; writes MODEL_DIR/learning-curve.svg and .json: validation balanced accuracy against the number of images, to see whether more would help. Costs a training run per share` },
      lr: { type: 'string', arg: 'F', help: 'Adam learning rate', shows: T.learningRate },
      positive: { type: 'string', arg: 'CLASS', help: 'class whose probability is the score', shows: 'happy, if present' },
      neither: { type: 'string', arg: 'CLASS', help: "with 3+ classes: the class that is neither the positive one nor its opposite; the model then records the forced choice between those two (--forced-choice), its threshold tuned on validation", shows: 'neutral, if present' },
      workers: { ...workers, help: 'threads per batch (the same model for any N)' },
      'label-smoothing': { type: 'string', arg: 'F', help: 'pull training targets toward 0.5 by F', shows: T.labelSmoothing },
      'class-weight': { type: 'string', arg: 'MODE', help: "'balanced' weighs each class's loss by N / (K * N_class)", shows: T.classWeight },
      'tune-threshold': { type: 'boolean', help: 'choose the decision threshold on validation (balanced accuracy)' },
      calibrate: { type: 'boolean', help: 'after training, fit temperature scaling on validation so probabilities mean what they say (stored in the model; decisions unchanged; needs validation images)' },
      tta: { type: 'boolean', help: 'average each prediction with its mirror image (stored in the model)' },
      faces: { type: 'boolean', help: "a face model: crop each training image's most prominent face, as predict will crop every face it finds (crops cached)" },
      'faces-precropped': { type: 'boolean', help: 'a face model trained on images that already are face crops (FER2013)' },
      'face-margin': { type: 'string', arg: 'F', help: 'fraction of the face box added on each side of the crop', shows: DEFAULT_FACE_CROP.margin },
      'face-detector': { type: 'string', arg: 'NAME', help: FACE_DETECTORS.join(', '), shows: DEFAULT_FACE_CROP.detector },
      ...imageLimits,
      json: { type: 'boolean', help: 'print the result (history, metrics, where the model went, files skipped by kind, warnings with their codes) as one JSON line; progress stays on stderr' },
    },
  },
  evaluate: {
    summary: 'score a model on labelled images',
    usage: 'DIR [options]',
    description: `Scores a model on labelled images: DIR/<class>/ (all of it) or a train/val/test layout (its test
split, or val when there is no test). On class folders, --split val rebuilds the exact held-out
split the model was trained with, from the seed and fraction recorded in the model. Prints
accuracy, balanced accuracy, per-class precision / recall / F1, ROC AUC and the confusion matrix.
Without --model, scores the default face model. A face model crops each image's most prominent
face first, as predict does; --no-faces scores the images as they are, for data that already is
face crops (FER2013).`,
    options: {
      model,
      split: { type: 'string', arg: 'SPLIT', help: 'test, val or train', shows: 'test, else val; all of DIR for class folders' },
      'no-faces': noFaces,
      'forced-choice': { ...forcedChoiceOption, help: 'score only the forced choice between happy and sad (images of other classes left out); without it, a model with more classes than happy and sad is reported both ways' },
      batch: { type: 'string', arg: 'N', help: 'images per forward pass', shows: DEFAULT_PREDICTION_BATCH },
      workers,
      report: { type: 'string', arg: 'OUT_DIR', help: 'also write OUT_DIR/report.html (ROC and precision-recall curves, confusion matrix, score histograms, the most confident mistakes; self-contained) and report.json' },
      json,
    },
  },
  calibrate: {
    summary: "calibrate a model's probabilities on held-out images (writes a copy)",
    usage: 'MODEL_DIR DATA_DIR --out NEW_MODEL_DIR [options]',
    description: `Fits temperature scaling on labelled images MODEL_DIR did not train on, so that its probabilities
mean what they say (of faces it calls 80% happy, about 80% are), and writes a copy of the model
with the calibration to NEW_MODEL_DIR; MODEL_DIR is never changed. Every host (predict, evaluate,
serve, the browser, video) applies it. Decisions do not change: the most probable class stays so,
and a threshold moves with the probabilities. DATA_DIR: a train/val/test layout (its val split by
default) or class folders (all of them, or --split val: the model's own validation split, rebuilt
from its recorded seed). Prints the temperature and the expected calibration error before and
after; on a calibrated model the old temperature is replaced.`,
    options: {
      out: { type: 'string', short: 'o', arg: 'DIR', help: 'where to write the calibrated copy: a new or empty folder' },
      split: { type: 'string', arg: 'SPLIT', help: 'val or test (never train: the model learned from it)', shows: 'val for a split layout; all of DATA_DIR for class folders' },
      'no-faces': noFaces,
      batch: { type: 'string', arg: 'N', help: 'images per forward pass', shows: DEFAULT_PREDICTION_BATCH },
      workers,
      json,
    },
  },
  serve: {
    summary: 'serve a model over HTTP: JSON API and a web page with live webcam',
    usage: '[options]',
    description: `Serves MODEL_DIR (or the default model) over HTTP: a page at / to drop photos or point a webcam at
faces, and a JSON API. Ctrl-C stops it.
  POST /v1/predict   an image as the raw body (any Content-Type: the bytes are sniffed), or
                     multipart/form-data with one or more files; ?faces=false classifies whole
                     images; ?forced_choice=true decides between happy and sad only (never
                     neutral; --forced-choice makes it the server's default). Answers {"results":[row,...]} (one row per image, in order, even for
                     one image; each row is a \`predict --json\` line). When no image could be used,
                     the status is the first image's problem and {"error":{code,message},"results"}.
                     A short video (one per request; ?every=S >= ${MIN_VIDEO_EVERY}, ?smooth=S) is answered with its
                     frame rows and {"tracks":[...]}, one summary per person; one video at a
                     time, frames and sampled frames capped (413 video-too-large).
  GET  /v1/model     the model's happysad.json      GET /healthz     {"status":"ok",...}
  GET  /metrics      Prometheus metrics: requests, latency, faces, queue, process and event loop
Errors are always {"error":{"code","message"}} with a stable code (e.g. image-not-image 415,
image-corrupt 422, image-too-large 413, body-too-large 413, queue-full 503 + Retry-After).`,
    options: {
      model,
      port: { type: 'string', arg: 'N', help: 'TCP port (0 picks a free one)', shows: `$PORT, else ${DEFAULT_LISTEN.port}` },
      host: { type: 'string', arg: 'ADDR', help: 'address to listen on; 0.0.0.0 exposes it to the network', shows: `$HOST, else ${DEFAULT_LISTEN.host}` },
      concurrency: { type: 'string', arg: 'N', help: 'predictions at once, each in its own thread', shows: 'cores, at most 4' },
      queue: { type: 'string', arg: 'N', help: 'predictions waiting; beyond that 503 + Retry-After', shows: S.queue },
      timeout: { type: 'string', arg: 'S', help: 'seconds a prediction request may take, waiting included', shows: S.timeoutMs / 1000 },
      'body-limit': { type: 'string', arg: 'MB', help: 'largest request body (all files of a multipart request)', shows: S.bodyLimit / 2 ** 20 },
      'max-files': { type: 'string', arg: 'N', help: 'most files in one multipart request', shows: S.maxFiles },
      'max-pixels': imageLimits['max-pixels'],
      'min-side': imageLimits['min-side'],
      'rate-limit': { type: 'string', arg: 'N', help: 'predictions per minute per client address; 0 = off', shows: S.rateLimit },
      'video-max-seconds': { type: 'string', arg: 'S', help: 'longest video POST /v1/predict takes (longer: the CLI or the job queue)', shows: S.videoMaxSeconds },
      'max-video-pixels': { type: 'string', arg: 'N', help: 'largest video frame (width x height) POST /v1/predict takes', shows: S.videoMaxPixels },
      'video-max-frames': { type: 'string', arg: 'N', help: 'most frames sampled from one posted video (a finer ?every is refused with 413)', shows: S.videoMaxFrames },
      'forced-choice': { ...forcedChoiceOption, help: 'answer every request with the forced choice between happy and sad (a request may still say ?forced_choice=false)' },
      log: { type: 'boolean', help: 'log every request as JSON lines on stdout' },
    },
  },
  clean: {
    summary: 'check a dataset for corrupt, invalid and duplicate files',
    usage: 'DIR [options]',
    description: `Checks every file of a dataset by its content: unreadable, truncated or corrupt, not an image,
unsupported format, too small, over the pixel limit, exact duplicates (also across train/val/test),
folders that cannot be read. Each image is decoded in full, and one that makes the decoder warn
(damaged scan data, a cut file) is corrupt; --lenient-decode accepts those, rejecting only
truncated ones (what predict and serve do with a single photo). train applies the same checks.
Near-duplicates: the same picture re-encoded, resized, mirrored or slightly cropped (a perceptual
hash); one of each group is kept (the earliest split, then the most pixels, then the first path),
copies across splits are a LEAK, copies under different classes CONFLICTING LABELS.
Shortcuts: attributes that are not the expression (colour, size, aspect, format, JPEG quality,
brightness, contrast, borders) and alone tell the classes apart; each with the cross-validated
balanced accuracy of a classifier that sees only it, and what to do.
Nothing is deleted; --quarantine moves offending files into QDIR (outside DIR, or a dot-folder
inside it), keeping their relative paths.
Exit code 0 when every file is fine, 1 when problems were found.`,
    options: {
      quarantine: { type: 'string', arg: 'QDIR', help: 'move offending files here (outside DIR, or a dot-folder inside it); of near-duplicates, all but the kept copy' },
      report: { type: 'string', arg: 'OUT_DIR', help: 'also write OUT_DIR/report.html (per-class attribute charts, shortcuts, near-duplicate groups side by side; self-contained) and report.json' },
      ...imageLimits,
      json,
    },
  },
  ensemble: {
    summary: 'average several models into one (more accurate, same interface)',
    usage: 'MODEL_DIR MODEL_DIR... --out DIR [options]',
    description: `Averages the probabilities of several models into one model bundle that predict, evaluate, serve
and the browser run like any other. The models must share classes and preprocessing (input size,
colour, scaling, face crop); train them with different --seed values for the average to help.`,
    options: {
      out: { type: 'string', short: 'o', arg: 'DIR', help: 'where to write the ensemble: a new or empty folder' },
      overwrite,
      tune: { type: 'string', arg: 'DIR', help: "labelled images none of the models trained on: the decision threshold is set for the best balanced accuracy there, and the figures recorded as validation metrics (without it: the mean of the members' thresholds)" },
      'tune-split': { type: 'string', arg: 'SPLIT', help: 'split of the --tune folder when it has train/val/test folders (a folder of class folders is used whole)', shows: 'val' },
      test: { type: 'string', arg: 'DIR', help: 'labelled images to score the result on, recorded as test metrics' },
      'test-split': { type: 'string', arg: 'SPLIT', help: 'split of the --test folder, when it has split folders', shows: 'test' },
      threshold: { type: 'string', arg: 'X', help: 'fix the threshold instead of tuning it' },
      'no-faces': { type: 'boolean', help: 'score --tune / --test images as they are (already face crops)' },
      'no-tta': { type: 'boolean', help: "do not average each prediction with its mirror image, even where the models do: half the forward passes, at some accuracy (the default model's three nets lost 0.9 points of forced-choice balanced accuracy on held-out faces without it): measure before you ship" },
      name: { type: 'string', arg: 'NAME', help: 'name recorded in the bundle', shows: 'ensemble' },
      workers: { ...workers, help: 'inference threads' },
      json,
    },
  },
  arch: {
    summary: "show an architecture's layers and parameter count",
    usage: '[NAME] [options]',
    description: "Prints the layer table of an architecture, like Keras' model.summary(). Without NAME, lists them.",
    options: {
      input: { type: 'string', arg: 'HxWxC', help: 'input size', shows: "the arch's own" },
      classes: { type: 'string', arg: 'N', help: 'number of classes', shows: 2, default: '2' },
      json,
    },
  },
  import: {
    summary: 'convert a Keras .h5 model into a model bundle',
    usage: 'MODEL.h5 --out MODEL_DIR [options]',
    description: `Converts a Keras 2.x model saved with model.save("model.h5") into a happysad model bundle that
predict, evaluate and serve run. Supported layers: InputLayer, Conv2D, MaxPooling2D,
AveragePooling2D, Dropout, Flatten, Dense, BatchNormalization, Activation, Rescaling, Resizing
(at the start of the model), in a Sequential or a single-chain functional model.

Classes follow Keras' image_dataset_from_directory: sorted folder names, so a single sigmoid unit
measures the second class (p(sad) for happy/sad), and that is the score reported.`,
    options: {
      out: { type: 'string', short: 'o', arg: 'DIR', help: 'where to write the bundle: a new or empty folder' },
      overwrite,
      classes: { type: 'string', arg: 'A,B', help: 'class names in output-unit order', shows: 'happy,sad' },
      scale: { type: 'string', arg: 'F', help: 'pixel scale before the model, e.g. 1/255', shows: '1 if the model starts with a Rescaling layer, else 1/255' },
      input: { type: 'string', arg: 'HxWxC', help: 'input size; needed when the model takes any size', shows: "the model's" },
      json,
    },
  },
  export: {
    summary: 'write a model bundle as a Keras .h5 file',
    usage: 'MODEL_DIR --out FILE.h5 [options]',
    description: `Writes a model bundle as a Keras 2.x HDF5 file that Python loads with
keras.models.load_model("FILE.h5") (Keras 2, or Keras 3's .h5 loader). Inputs are expected
preprocessed as the bundle's happysad.json says (e.g. resized, pixels x 1/255).

Keras code reads a single sigmoid unit as p(second class in sorted order). A happysad model whose
score is p(first class), e.g. p(happy), is written with its last layer negated so the unit is
p(sad) = 1 - p(happy), exactly. Importing the file again restores the bundle as it was.
An ensemble (happysad ensemble) is not one chain of layers: export the models it was made from.`,
    options: {
      out: { type: 'string', short: 'o', arg: 'FILE.h5', help: 'the file to write (written whole, or not at all)' },
      overwrite,
      format: { type: 'string', arg: 'FORMAT', help: 'the only format so far: keras-h5', shows: 'keras-h5', default: 'keras-h5' },
      json,
    },
  },
} satisfies Record<string, CommandSpec>;

export type CommandName = keyof typeof COMMAND_TABLE;
