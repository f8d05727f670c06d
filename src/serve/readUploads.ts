import type { FastifyRequest } from 'fastify';
import { ApiError } from './apiError.js';
import { formatBytes } from '../base/formatBytes.js';

export interface Upload {
  /** The multipart filename, else `#i` (its position in the request), as the CLI names buffers. */
  name: string;
  bytes: Buffer;
}

/**
 * The images in a POST body: the raw body as one image, whatever its Content-Type says (the
 * bytes are sniffed later), or every file part of a multipart/form-data body. Multipart parts are
 * streamed with per-file and total byte limits, since fastify's bodyLimit does not cover them.
 */
export async function readUploads(request: FastifyRequest, options: { bodyLimit: number; maxFiles: number }): Promise<Upload[]> {
  if (!request.isMultipart()) {
    const body = request.body;
    if (!Buffer.isBuffer(body) || body.length === 0) throw noImage();
    return [{ name: '#0', bytes: body }];
  }
  const uploads: Upload[] = [];
  let total = 0;
  const parts = request.parts({
    limits: { fileSize: options.bodyLimit, files: options.maxFiles, fields: 32, fieldSize: 64 * 1024, parts: options.maxFiles + 32, headerPairs: 64 },
  });
  for await (const part of parts) {
    if (part.type !== 'file') continue;
    const bytes = await part.toBuffer();
    total += bytes.length;
    if (total > options.bodyLimit) {
      throw new ApiError('body-too-large', `the files in this request add up to more than this server's limit of ${formatBytes(options.bodyLimit)}; send fewer or smaller images per request`);
    }
    // An empty file input in a browser form arrives as a part with no name and no bytes.
    if (bytes.length === 0 && !part.filename) continue;
    uploads.push({ name: cleanName(part.filename) || `#${uploads.length}`, bytes });
  }
  if (uploads.length === 0) throw noImage();
  return uploads;
}

function noImage(): ApiError {
  return new ApiError('no-image', 'no image in the request: send one image as the raw request body, or one or more files as multipart/form-data');
}

/** A client's filename is only echoed back in JSON; control characters and length are all that need bounding. */
function cleanName(name: string | undefined): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what this removes
  return (name ?? '').replace(/[\u0000-\u001f\u007f]/g, '').slice(0, 255);
}
