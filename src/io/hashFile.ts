import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';

/** The SHA-256 of a file's content, hex, read in chunks: a video of gigabytes is never held whole. */
export function hashFile(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(path).on('data', (c) => hash.update(c)).once('error', reject).once('end', () => resolve(hash.digest('hex')));
  });
}
