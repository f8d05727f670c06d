import { parentPort } from 'node:worker_threads';
import { messageOf } from '../base/messageOf.js';
import { HappysadError } from '../base/errors.js';
import { loadModel, type Classifier } from '../predict/classifier.js';
import type { ThreadReply, ThreadRequest } from './threadMessages.js';
import { warmUp } from './warmUp.js';
import { classifyVideoUpload } from './videoUpload.js';

/**
 * One copy of the model, face nets included, in its own thread and WASM engine: the whole of a
 * prediction (decode, detect, crop, classify) runs here, one request at a time, so the server's
 * own thread only parses HTTP and stays free to answer health checks and 503s at once.
 */
let classifier: Classifier | undefined;
const port = parentPort!;
const reply = (m: ThreadReply) => port.postMessage(m);
/** The job running, by id, so that a cancel (which arrives while it awaits a frame) can stop it. */
const running = new Map<number, AbortController>();

port.on('message', async (m: ThreadRequest) => {
  if (m.type === 'init') {
    try {
      classifier = await loadModel(m.dir, { workers: 1 });
      if (m.warmup) await warmUp(classifier);
      reply({ type: 'ready', metadata: classifier.metadata, expectsFaces: classifier.expectsFaces });
    } catch (err) {
      reply({ type: 'failed', code: err instanceof HappysadError ? err.code : undefined, message: messageOf(err) });
    }
    return;
  }
  if (m.type === 'cancel') {
    running.get(m.id)?.abort(new Error('cancelled: the request is over'));
    return;
  }
  const controller = new AbortController();
  running.set(m.id, controller);
  try {
    if (!classifier) throw new Error('inference thread used before it was ready');
    if (m.type === 'video') reply({ type: 'video-result', id: m.id, answer: await classifyVideoUpload(classifier, m.bytes, m.name, m.options, controller.signal) });
    else reply({ type: 'result', id: m.id, rows: await classifier.predict(m.inputs, m.options) });
  } catch (err) {
    reply({ type: 'error', id: m.id, message: messageOf(err), code: err instanceof HappysadError ? err.code : undefined });
  } finally {
    running.delete(m.id);
  }
});
