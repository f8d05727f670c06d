import { parentPort } from 'node:worker_threads';
import { HappysadError } from '../base/errors.js';
import { messageOf } from '../base/messageOf.js';
import { FaceCropper } from './faceCropper.js';
import { modelInputsOf } from './faceStep.js';
import type { FaceCropRequest, FaceCropReply } from './faceCropMessages.js';

/**
 * A FaceCropper in its own thread and WASM engine, one of a FacePipeline's: a photo or a video
 * frame at a time, so that a second core detects faces while the first does. Replies carry the
 * crops' pixels as transferred buffers.
 */
let cropper: FaceCropper | undefined;
const port = parentPort!;

port.on('message', async (m: FaceCropRequest) => {
  if (m.type === 'init') {
    try {
      cropper = await FaceCropper.create(m.spec);
      port.postMessage({ type: 'ready' } satisfies FaceCropReply);
    } catch (err) {
      port.postMessage({ type: 'failed', message: messageOf(err) } satisfies FaceCropReply);
    }
    return;
  }
  try {
    const decoded = m.type === 'photo' ? await cropper!.photo(m.request) : await cropper!.frame(m.image, m.near);
    const buffers = modelInputsOf(decoded).map((image) => image.data.buffer as ArrayBuffer);
    port.postMessage({ type: 'decoded', id: m.id, decoded } satisfies FaceCropReply, [...new Set(buffers)]);
  } catch (err) {
    port.postMessage({ type: 'error', id: m.id, code: err instanceof HappysadError ? err.code : undefined, message: messageOf(err) } satisfies FaceCropReply);
  }
});
