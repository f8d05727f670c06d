import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { tempDir } from '../../testkit/tempDir.js';
import { makeModel, startServer } from '../../testkit/serveFixtures.js';
import { buildPage } from '../../scripts/buildPage.js';

// What a page needs to run the model on the device: the library at /lib/, the served bundle's own
// files at /v1/model/files/, cache headers, and the isolation headers WebAssembly threads need.

let app: FastifyInstance;
let url: string;
let modelDir: string;
let lib: string;
let page: string;

before(async () => {
  modelDir = await makeModel({ faces: false });
  lib = await tempDir('happysad-lib-');
  await writeFile(join(lib, 'happysad.js'), 'export const built = true;\n');
  page = await buildPage(join(await tempDir('happysad-page-'), 'page'));
  ({ app, url } = await startServer({ model: modelDir, libRoot: lib, webRoot: page, concurrency: 1, warmup: false }));
});
after(async () => {
  await app?.close();
});

test('the bundle files are served byte for byte with an ETag, revalidated on every use', async () => {
  for (const name of ['happysad.json', 'model.json', 'weights.bin']) {
    const res = await fetch(`${url}/v1/model/files/${name}`);
    assert.equal(res.status, 200, name);
    assert.deepEqual(new Uint8Array(await res.arrayBuffer()), new Uint8Array(await readFile(join(modelDir, name))), name);
    assert.equal(res.headers.get('cache-control'), 'no-cache');
    const etag = res.headers.get('etag')!;
    assert.match(etag, /^"[\w-]{27}"$/);
    const again = await fetch(`${url}/v1/model/files/${name}`, { headers: { 'if-none-match': etag } });
    assert.equal(again.status, 304, `${name} revalidates`);
  }
});

test('only the bundle\'s own files: anything else in its folder, or outside it, is a JSON 404', async () => {
  await writeFile(join(modelDir, 'notes.txt'), 'a user file beside the bundle');
  for (const path of ['notes.txt', '..%2Fhappysad.json', '..%2F..%2Fetc%2Fpasswd', 'history.json']) {
    const res = await fetch(`${url}/v1/model/files/${path}`);
    assert.equal(res.status, 404, path);
    const body = await res.json() as { error: { code: string; message: string } };
    assert.equal(body.error.code, 'not-found');
    assert.match(body.error.message, /the files are happysad\.json, model\.json, weights\.bin/);
  }
});

test('pages are cross-origin isolated and may compile WebAssembly; the library is cached briefly', async () => {
  const page = await fetch(`${url}/`);
  assert.equal(page.headers.get('cross-origin-opener-policy'), 'same-origin');
  assert.equal(page.headers.get('cross-origin-embedder-policy'), 'require-corp');
  assert.match(page.headers.get('content-security-policy')!, /script-src 'self' 'wasm-unsafe-eval'/);
  const js = await fetch(`${url}/lib/happysad.js`);
  assert.equal(js.status, 200);
  assert.equal(await js.text(), 'export const built = true;\n');
  assert.match(js.headers.get('content-type')!, /javascript/);
  assert.equal(js.headers.get('cache-control'), 'public, max-age=300');
  assert.equal(js.headers.get('cross-origin-resource-policy'), 'same-origin');
});

test('without a browser build, /lib/ says how to make one', async () => {
  const bare = await startServer({ model: modelDir, libRoot: join(lib, 'missing'), concurrency: 1, warmup: false });
  try {
    const res = await fetch(`${bare.url}/lib/happysad.js`);
    assert.equal(res.status, 404);
    assert.match(((await res.json()) as { error: { message: string } }).error.message, /the browser build is missing .*run `npm run build`/);
  } finally {
    await bare.app.close();
  }
});

test('the built page is served at /, its script beside it, its TypeScript sources not', async () => {
  const html = await (await fetch(`${url}/`)).text();
  assert.match(html, /<script type="module" src="app\.js"><\/script>/);
  const js = await fetch(`${url}/app.js`);
  assert.equal(js.status, 200);
  assert.match(js.headers.get('content-type')!, /javascript/);
  assert.equal(await js.text(), await readFile(join(page, 'app.js'), 'utf8'));
  for (const path of ['app.ts', 'labelSmoother.ts', '.happysad-page']) assert.equal((await fetch(`${url}/${path}`)).status, 404, path);
});

test('without a built page, / says how to build it and the API still answers', async () => {
  const bare = await startServer({ model: modelDir, libRoot: lib, webRoot: join(lib, 'missing'), concurrency: 1, warmup: false });
  try {
    const res = await fetch(`${bare.url}/`);
    assert.equal(res.status, 404);
    assert.match(((await res.json()) as { error: { message: string } }).error.message, /the page is not built .*run `npm run build`.*The API works meanwhile/);
    assert.equal((await fetch(`${bare.url}/v1/model`)).status, 200);
  } finally {
    await bare.app.close();
  }
});
