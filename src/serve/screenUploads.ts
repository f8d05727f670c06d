import type { ImageLimits } from '../input/imageLimits.js';
import { inspectImageBytes } from '../input/inspectImage.js';
import type { Upload } from './readUploads.js';

export type Screened = { ok: true; upload: Upload } | { ok: false; name: string; error: { code: string; message: string } };

/**
 * Refuses what is not worth a queue slot, from the bytes alone and before any pixel is decoded:
 * not an image (whatever Content-Type claimed), an unsupported format, or a header declaring more
 * pixels than the limit (a decompression bomb) or a side below the minimum. Truncated or corrupt
 * data past the header is caught by the decoder during prediction and comes back as a row error.
 */
export async function screenUploads(uploads: Upload[], limits: ImageLimits): Promise<Screened[]> {
  return Promise.all(uploads.map(async (upload): Promise<Screened> => {
    const inspected = await inspectImageBytes(upload.bytes, limits, { decodeCheck: false });
    if (inspected.ok) return { ok: true, upload };
    return { ok: false, name: upload.name, error: { code: `image-${inspected.problem}`, message: `${upload.name}: ${inspected.detail}` } };
  }));
}
