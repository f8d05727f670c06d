import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomic } from '../io/atomicWrite.js';
import type { PreprocessSpec } from './preprocessSpec.js';

/**
 * Face crops at model input size, keyed by the image's content hash and the preprocessing spec,
 * so a second training run on the same photos skips detection (the slow part). Entries are
 * written atomically; a damaged or missing entry is simply recomputed.
 */
export class FaceCropCache {
  constructor(readonly dir = process.env.HAPPYSAD_CACHE ? join(process.env.HAPPYSAD_CACHE, 'face-crops') : join(homedir(), '.cache', 'happysad', 'face-crops')) {}

  key(contentSha256: string, spec: PreprocessSpec): string {
    const s = spec;
    return createHash('sha256').update(JSON.stringify([contentSha256, s.height, s.width, s.channels, s.resize, s.kernel, s.background, s.faces])).digest('hex');
  }

  async get(key: string, size: number): Promise<Uint8Array | undefined> {
    const data = await readFile(join(this.dir, key.slice(0, 2), key)).catch(() => undefined);
    return data && data.length === size ? new Uint8Array(data.buffer, data.byteOffset, data.length) : undefined;
  }

  async put(key: string, data: Uint8Array): Promise<void> {
    await writeFileAtomic(join(this.dir, key.slice(0, 2), key), data).catch(() => undefined);
  }
}
