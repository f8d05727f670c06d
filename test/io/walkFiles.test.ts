import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { walkFiles } from '../../src/io/walkFiles.js';
import { tempDir } from '../../testkit/tempDir.js';

test('a file name that is not UTF-8 is reported as such, not listed (it would later be "no such file")', async () => {
  const dir = await tempDir();
  await writeFile(join(dir, 'ok.jpg'), 'x');
  // "café.jpg" in Latin-1: the é is the single byte 0xE9, invalid as UTF-8.
  writeFileSync(Buffer.concat([Buffer.from(`${dir}/caf`), Buffer.from([0xe9]), Buffer.from('.jpg')]), 'x');
  const walked = await walkFiles(dir);
  assert.deepEqual(walked.files, [join(dir, 'ok.jpg')]);
  assert.equal(walked.problems.length, 1);
  assert.match(walked.problems[0]!.detail, /name is not valid UTF-8 .* rename it/);
  assert.ok(walked.problems[0]!.path.startsWith(join(dir, 'caf')));
});
