import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import type { LayersModel } from '@tensorflow/tfjs';
import { COMMAND_TABLE } from '../../cli/commandTable.js';
import { predictCommand } from '../../cli/commands/predictCommand.js';
import { OptionError } from '../../src/base/errors.js';
import { DEFAULT_QUEUE, DEFAULT_STALL_SECONDS } from '../../src/batch/predictQueue.js';
import { faceCropFor } from '../../src/faces/faceCropper.js';
import { defaultPreprocessSpec } from '../../src/input/preprocessSpec.js';
import { DEFAULT_VIDEO_EVERY, DEFAULT_VIDEO_LIMITS, MIN_VIDEO_EVERY, sampledFrames } from '../../src/input/videoLimits.js';
import { resolveDetectorOptions } from '../../src/faces/detectFaces.js';
import { DEFAULT_FACE_CROP, DEFAULT_FACE_DETECTOR } from '../../src/faces/faceCropDefaults.js';
import { forwardPass, type ForwardTf } from '../../src/runtime/forwardPass.js';
import { DEFAULT_PREDICTION_BATCH } from '../../src/runtime/predictionBatch.js';
import type { ServableModel } from '../../src/serve/servableModel.js';
import { DEFAULT_LISTEN, resolveServeOptions } from '../../src/serve/serveOptions.js';
import type { VideoUploadOptions } from '../../src/serve/videoUpload.js';
import { resolveTrainOptions } from '../../src/train/trainOptions.js';
import { startServer } from '../../testkit/serveFixtures.js';

// What --help says applies when an option is absent must be what the library applies: each
// default is defined once, in the library, and the table shows it. These checks fail when a
// default is retyped somewhere and the copies part.

const { predict, worker, train, evaluate, serve } = COMMAND_TABLE;

test('the command table types no default of its own: every number it shows is an imported constant', async () => {
  const source = await readFile(new URL('../../cli/commandTable.ts', import.meta.url), 'utf8');
  // A shown number typed as a literal is only allowed where the table itself applies it (`default:`).
  const retyped = source.split('\n').filter((line) => /\bshows: -?[\d.]/.test(line) && !/\bdefault: /.test(line));
  assert.deepEqual(retyped, []);
});

test('images per forward pass: --batch help and the forward pass agree', () => {
  assert.equal(predict.options.batch.shows, DEFAULT_PREDICTION_BATCH);
  assert.equal(evaluate.options.batch.shows, DEFAULT_PREDICTION_BATCH);
  // A forward pass given no batch size splits 2.5 batches' worth of images at the shared constant.
  const passes: number[] = [];
  const fakeTf = { tensor4d: (_f: Float32Array, shape: number[]) => ({ shape }), tidy: (f: () => unknown) => f() } as unknown as ForwardTf;
  const fakeModel = { outputs: [{ shape: [null, 1] }], predict: (x: { shape: number[] }) => {
    passes.push(x.shape[0]!);
    return { dataSync: () => new Float32Array(x.shape[0]!) };
  } } as unknown as LayersModel;
  const spec = defaultPreprocessSpec([2, 2, 1]);
  const n = 2 * DEFAULT_PREDICTION_BATCH + DEFAULT_PREDICTION_BATCH / 2;
  forwardPass(fakeTf, fakeModel, new Uint8Array(n * 4), n, spec);
  assert.deepEqual(passes, [DEFAULT_PREDICTION_BATCH, DEFAULT_PREDICTION_BATCH, DEFAULT_PREDICTION_BATCH / 2]);
});

test('the job queue: --queue and --stall-timeout help show what the queue applies', () => {
  assert.equal(predict.options.queue.shows, DEFAULT_QUEUE);
  assert.equal(worker.options.queue.shows, DEFAULT_QUEUE);
  assert.equal(worker.options['stall-timeout'].shows, DEFAULT_STALL_SECONDS);
});

test('train: the help shows the defaults resolveTrainOptions applies', () => {
  const t = resolveTrainOptions({});
  const shown = train.options;
  assert.deepEqual(
    [shown.arch.shows, shown.epochs.shows, shown.patience.shows, shown.batch.shows, shown['val-split'].shows, shown.lr.shows, shown['label-smoothing'].shows, shown['class-weight'].shows],
    [t.arch, t.epochs, t.patience, t.batch, t.valSplit, t.learningRate, t.labelSmoothing, t.classWeight],
  );
});

test('face crops: --face-detector / --face-margin help, a new face model and a bare detector agree', () => {
  assert.equal(train.options['face-detector'].shows, DEFAULT_FACE_DETECTOR);
  assert.equal(train.options['face-margin'].shows, DEFAULT_FACE_CROP.margin);
  // What train --faces records in a new model (faceCropFor) is the shared default, overrides aside.
  const { wholeImageMaxSide, ...recorded } = faceCropFor({ height: 48, width: 48 });
  assert.equal(wholeImageMaxSide, 96);
  assert.deepEqual(recorded, DEFAULT_FACE_CROP);
  // A detector built without options is the default one, at the default crop's score floor.
  const bare = resolveDetectorOptions({});
  assert.equal(bare.detector, DEFAULT_FACE_DETECTOR);
  assert.equal(bare.minScore, DEFAULT_FACE_CROP.minScore);
});

test('video and serve: the help shows the limits the CLI and the server apply', () => {
  assert.equal(predict.options.every.shows, DEFAULT_VIDEO_EVERY);
  assert.equal(predict.options['max-seconds'].shows, DEFAULT_VIDEO_LIMITS.maxSeconds);
  assert.equal(predict.options['max-video-pixels'].shows, DEFAULT_VIDEO_LIMITS.maxPixels);
  const s = resolveServeOptions({ model: 'unused' });
  const shown = serve.options;
  assert.deepEqual(
    [shown.queue.shows, shown.timeout.shows, shown['body-limit'].shows, shown['max-files'].shows, shown['rate-limit'].shows, shown['video-max-seconds'].shows, shown['max-video-pixels'].shows, shown['video-max-frames'].shows],
    [s.queue, s.timeoutMs / 1000, s.bodyLimit / 2 ** 20, s.maxFiles, s.rateLimit, s.videoMaxSeconds, s.videoMaxPixels, s.videoMaxFrames],
  );
  // The frame cap is a full-length posted video at the default sampling, derived, not retyped.
  assert.equal(s.videoMaxFrames, sampledFrames(s.videoMaxSeconds, DEFAULT_VIDEO_EVERY));
  assert.match(String(shown.port.shows), new RegExp(`\\b${DEFAULT_LISTEN.port}$`));
  assert.match(String(shown.host.shows), new RegExp(`\\b${DEFAULT_LISTEN.host.replaceAll('.', '\\.')}$`));
});

test('predict --every and serve ?every refuse the same too-fine interval and take the same minimum', async () => {
  const tooFine = MIN_VIDEO_EVERY / 2;
  // The CLI checks --every before reading any file; a bad --shard, checked next, shows the minimum got through.
  await assert.rejects(predictCommand(['clip.mp4', '--every', String(tooFine)]), (e: unknown) => e instanceof OptionError && e.message === `--every ${tooFine}: expected a number >= ${MIN_VIDEO_EVERY}`);
  await assert.rejects(predictCommand(['clip.mp4', '--every', String(MIN_VIDEO_EVERY), '--shard', 'none']), (e: unknown) => e instanceof OptionError && e.message.startsWith('--shard "none"'));

  // The server, with a model that records the sampling it is asked for: no ffmpeg, no weights.
  const asked: number[] = [];
  const model: ServableModel = {
    metadata: { name: 'fake', arch: 'seed-a' } as ServableModel['metadata'],
    expectsFaces: false,
    predict: async () => [],
    predictVideoUpload: async (_bytes: Uint8Array, _name: string, options: VideoUploadOptions) => {
      asked.push(options.every);
      return { results: [], tracks: [] };
    },
    close: async () => {},
  };
  const { app, url } = await startServer({ model, concurrency: 1, warmup: false });
  try {
    // An MP4's first box is enough to be routed as a video.
    const mp4 = new Uint8Array(Buffer.concat([Buffer.from([0, 0, 0, 0x18]), Buffer.from('ftypisom'), Buffer.alloc(12)]));
    const post = (query: string) => fetch(`${url}/v1/predict${query}`, { method: 'POST', body: mp4 });
    const refused = await post(`?every=${tooFine}`);
    assert.equal(refused.status, 400);
    const { error } = await refused.json() as { error: { code: string; message: string } };
    assert.equal(error.code, 'bad-request');
    assert.equal(error.message, `?every=${tooFine}: expected a number of seconds >= ${MIN_VIDEO_EVERY}`);
    assert.equal((await post(`?every=${MIN_VIDEO_EVERY}`)).status, 200);
    assert.equal((await post('')).status, 200);
    assert.deepEqual(asked, [MIN_VIDEO_EVERY, DEFAULT_VIDEO_EVERY]);
  } finally {
    await app.close();
  }
});
