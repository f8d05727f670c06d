import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AuditCache } from '../../src/data/auditCache.js';
import type { ImageAttributes } from '../../src/data/auditTypes.js';
import { tempDir } from '../../testkit/tempDir.js';

const attributes: ImageAttributes = { format: 'jpeg', width: 10, height: 20, aspect: 0.5, colourfulness: Number.NaN, grayscale: false, brightness: 0.5, contrast: 0.1, border: 0, jpegQuality: null };
const hashes = { hash: [1, 2] as [number, number], mirror: [3, 4] as [number, number], crops: [[5, 6] as [number, number]], fine: { hash: [1], mirror: [2], crops: [[3]] } };

test('the audit cache gives back what was put, NaN included; a damaged entry is a miss', async () => {
  const cache = new AuditCache(await tempDir());
  const sha = 'ab'.repeat(32);
  assert.deepEqual(await cache.get(sha), {});
  await cache.put(sha, { hashes, attributes });
  const back = await cache.get(sha);
  assert.deepEqual(back.hashes, hashes);
  assert.ok(Number.isNaN(back.attributes!.colourfulness));
  assert.deepEqual({ ...back.attributes, colourfulness: 0 }, { ...attributes, colourfulness: 0 });
  const [version] = await readdir(cache.dir);
  await writeFile(join(cache.dir, version!, 'ab', `${sha}.json`), '{"hashes": [1,');
  assert.deepEqual(await cache.get(sha), {});
});
