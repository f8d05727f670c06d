import type { FastifyContextConfig, FastifyInstance, FastifyReply } from 'fastify';
import type {} from '@fastify/rate-limit';
import type { Prediction } from '../predict/classifier.js';
import { ApiError } from './apiError.js';
import { readUploads, type Upload } from './readUploads.js';
import { sniffVideoFormat } from '../input/sniffVideoFormat.js';
import type { VideoAnswer, VideoUploadOptions } from './videoUpload.js';
import { DEFAULT_VIDEO_EVERY, MIN_VIDEO_EVERY } from '../input/videoLimits.js';
import type { ResolvedServeOptions } from './serveOptions.js';
import type { ServableModel } from './servableModel.js';
import type { ServerMetrics } from './serverMetrics.js';
import { screenUploads } from './screenUploads.js';
import { QueueFullError, WorkQueue } from './workQueue.js';
import { DEFAULT_PREDICTION_BATCH } from '../runtime/predictionBatch.js';
import { forcedChoicePair } from '../predict/forcedChoice.js';
import { messageOf } from '../base/messageOf.js';

/** The answer to a successful POST /v1/predict: always a list, one row per image in the order sent. */
export interface PredictResponse {
  results: Prediction[];
}

/**
 * POST /v1/predict. The response is `{"results": [row, ...]}` for one image as for many, each row
 * exactly a `predict --json` line, with an image that could not be used as `{"file","error"}`
 * (one bad photo never loses the others). Only when no image in the request could be used does
 * the request fail as a whole: the status and `error` are the first image's, and `results` still
 * lists every image's reason.
 */
export function registerPredictRoute(app: FastifyInstance, deps: { model: ServableModel; queue: WorkQueue; metrics: ServerMetrics; options: ResolvedServeOptions; uploadDir: string }): void {
  const { model, queue, metrics, options, uploadDir } = deps;
  // One video at a time holds an inference slot, whatever the concurrency: a video is hundreds of
  // predictions, and photos (the common, quick request) keep the other slots.
  const videoGate = new WorkQueue(1, options.queue);
  // Off by default: on loopback the queue already bounds the work; exposed, it keeps one client from taking every slot.
  const config: FastifyContextConfig = options.rateLimit > 0
    ? {
        rateLimit: {
          max: options.rateLimit,
          timeWindow: 60_000,
          errorResponseBuilder: (_request, context) => new ApiError('rate-limited', `more than ${context.max} predictions a minute from this address; retry in ${context.after}`),
        },
      }
    : {};
  /** A short video (one per request): its frame rows and one summary per track, computed in an inference thread. */
  const answerVideo = async (upload: Upload, query: Record<string, unknown> | undefined, forcedChoice: boolean, signal: AbortSignal): Promise<VideoAnswer> => {
    if (!model.predictVideoUpload) throw new ApiError('video-unsupported', `${upload.name}: this server takes images only; run videos with \`happysad predict VIDEO\``);
    const number = (name: string, fallback: number, min: number) => {
      const v = query?.[name];
      if (v === undefined) return fallback;
      const n = Number(v);
      if (!(n >= min)) throw new ApiError('bad-request', `?${name}=${String(v)}: expected a number of seconds >= ${min}`);
      return n;
    };
    const videoOptions: VideoUploadOptions = {
      every: number('every', DEFAULT_VIDEO_EVERY, MIN_VIDEO_EVERY),
      smooth: number('smooth', 0, 0),
      ...(forcedChoice ? { forcedChoice } : {}),
      maxSeconds: options.videoMaxSeconds,
      maxPixels: options.videoMaxPixels,
      maxFrames: options.videoMaxFrames,
      dir: uploadDir,
    };
    try {
      const answer = await videoGate.run(() => {
        // The gate is held until the thread has really let go of the video, not just until the request gave up on it.
        let done: Promise<unknown> = Promise.resolve();
        return queue.run(() => {
          const work = model.predictVideoUpload!(upload.bytes, upload.name, videoOptions, signal);
          done = work.catch(() => undefined);
          return work;
        }, signal).catch(async (err: unknown) => {
          await done;
          throw err;
        });
      }, signal);
      const failed = answer.results.find((r) => 'error' in r);
      if (failed && answer.results.length === 1 && 'error' in failed) throw new ApiError(failed.error.code, failed.error.message);
      return answer;
    } catch (err) {
      throw explainRefusal(err, signal, queue, options.timeoutMs);
    }
  };

  app.post('/v1/predict', { config }, async (request, reply): Promise<PredictResponse | VideoAnswer> => {
    const query = request.query as Record<string, unknown> | undefined;
    const faces = parseFacesParam(query?.faces);
    const forcedChoice = parseForcedChoiceParam(query?.forced_choice, options.forcedChoice);
    if (forcedChoice) {
      try {
        forcedChoicePair(model.metadata);
      } catch (err) {
        throw new ApiError('bad-request', `${query?.forced_choice === undefined ? 'this server answers with forced choice, but ' : '?forced_choice: '}${messageOf(err)}`);
      }
    }
    const signal = requestSignal(reply, options.timeoutMs);
    const uploads = await readUploads(request, options);
    const video = uploads.length === 1 && sniffVideoFormat(uploads[0]!.bytes) !== 'unknown' ? uploads[0]! : undefined;
    if (video) return answerVideo(video, query, forcedChoice, signal);
    const screened = await screenUploads(uploads, options.limits);
    const usable = screened.flatMap((s) => (s.ok ? [s.upload] : []));
    let predictions: Prediction[] = [];
    if (usable.length > 0) {
      try {
        predictions = await queue.run(() => model.predict(usable.map((u) => u.bytes), { faces, forcedChoice, limits: options.limits, batch: Math.min(DEFAULT_PREDICTION_BATCH, usable.length) }), signal);
      } catch (err) {
        throw explainRefusal(err, signal, queue, options.timeoutMs);
      }
    }
    let k = 0;
    const rows = screened.map((s): Prediction => (s.ok ? { ...predictions[k++], file: s.upload.name } : { file: s.name, error: s.error }));
    metrics.countRows(rows);
    const firstError = rows.every((r) => r.error) ? rows[0].error : undefined;
    if (firstError) throw new ApiError(firstError.code, firstError.message, { results: rows });
    return { results: rows };
  });
}

/** ?forced_choice=1|true|0|false; absent: the server's own setting (serve --forced-choice). */
function parseForcedChoiceParam(value: unknown, serverDefault: boolean): boolean {
  if (value === undefined) return serverDefault;
  if (value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  throw new ApiError('bad-request', `?forced_choice=${String(value)}: expected true or false (true decides between happy and sad only, like predict --forced-choice)`);
}

function parseFacesParam(value: unknown): boolean | undefined {
  if (value === undefined) return undefined;
  if (value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  throw new ApiError('bad-request', `?faces=${String(value)}: expected true or false (false classifies whole images, like predict --no-faces)`);
}

/**
 * Aborts when the request has taken too long or the client has gone, whichever comes first. A
 * plain timer, not AbortSignal.timeout: combined with AbortSignal.any, that signal is only weakly
 * held and was seen never to fire under the garbage collection a long video causes.
 */
function requestSignal(reply: FastifyReply, timeoutMs: number): AbortSignal {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new DOMException(`the request took longer than ${timeoutMs} ms`, 'TimeoutError')), timeoutMs);
  reply.raw.once('close', () => {
    clearTimeout(timer);
    if (!reply.raw.writableFinished) controller.abort(new ApiError('bad-request', 'client closed the connection'));
  });
  return controller.signal;
}

function explainRefusal(err: unknown, signal: AbortSignal, queue: WorkQueue, timeoutMs: number): unknown {
  if (err instanceof QueueFullError) {
    return new ApiError('queue-full', `the server is busy (${queue.active} running, ${queue.depth} waiting); retry in ${err.retryAfterSeconds} s`, {
      headers: { 'retry-after': String(err.retryAfterSeconds) },
    });
  }
  if (signal.aborted && err === signal.reason && (err as Error | undefined)?.name === 'TimeoutError') {
    const after = queue.retryAfterSeconds();
    return new ApiError('timeout', `the prediction did not finish within ${timeoutMs / 1000} s (the server is overloaded); retry in ${after} s`, { headers: { 'retry-after': String(after) } });
  }
  return err;
}
