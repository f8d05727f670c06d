import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../io/atomicWrite.js';
import { cacheRoot } from '../io/cacheRoot.js';
import type { ImageAttributes } from './auditTypes.js';
import type { ImageHashes } from './perceptualHash.js';

/**
 * Bumped whenever the hashes or attributes of the same bytes would change (the hash's regions or
 * bit layout, an attribute's definition), so an older entry is never taken for this version's.
 */
const AUDIT_ALGORITHM = 1;

export interface AuditEntry {
  hashes?: ImageHashes;
  attributes?: ImageAttributes;
}

/**
 * Perceptual hashes and attributes by the image's content hash, so a second clean, train or
 * evaluate of the same files skips a decode per image (~3-8 ms each, most of an evaluation of
 * FER2013 otherwise). Entries are written atomically; a damaged or missing one is recomputed.
 */
export class AuditCache {
  constructor(readonly dir = join(cacheRoot(), 'audit')) {}

  private file(sha256: string): string {
    return join(this.dir, `v${AUDIT_ALGORITHM}`, sha256.slice(0, 2), `${sha256}.json`);
  }

  async get(sha256: string): Promise<AuditEntry> {
    const text = await readFile(this.file(sha256), 'utf8').catch(() => undefined);
    if (!text) return {};
    try {
      const entry = JSON.parse(text, (_k, v: unknown) => (v === 'NaN' ? Number.NaN : v)) as AuditEntry;
      return typeof entry === 'object' && entry !== null ? entry : {};
    } catch {
      return {};
    }
  }

  async put(sha256: string, entry: AuditEntry): Promise<void> {
    // NaN (an attribute that could not be measured) does not survive JSON as a number.
    const text = JSON.stringify(entry, (_k, v: unknown) => (typeof v === 'number' && Number.isNaN(v) ? 'NaN' : v));
    await writeFileAtomic(this.file(sha256), text, { durable: false }).catch(() => undefined);
  }
}
