import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { makeVideo } from '../../testkit/makeVideo.js';
import { tempDir } from '../../testkit/tempDir.js';
import { OptionError } from '../../src/base/errors.js';
import { createServer } from '../../src/serve/createServer.js';
import { bytes, startServer } from '../../testkit/serveFixtures.js';
import { greyImage, threeClassModelDir } from '../../testkit/threeClassModel.js';

// serve: ?forced_choice per request, --forced-choice (forcedChoice) for the whole server, with the
// 3-class test model (a 0.58-bright image is neutral to it, happy under forced choice).

let modelDir: string;
let weak: Uint8Array<ArrayBuffer>;
const servers: FastifyInstance[] = [];

before(async () => {
  modelDir = await threeClassModelDir();
  weak = bytes(await greyImage(0.58, 1));
});
after(async () => {
  for (const app of servers) await app.close();
});

async function serve(forcedChoice?: boolean): Promise<string> {
  const { app, url } = await startServer({ model: modelDir, concurrency: 1, warmup: false, forcedChoice });
  servers.push(app);
  return url;
}

async function post(url: string, query = ''): Promise<{ status: number; json: any }> {
  const res = await fetch(`${url}/v1/predict${query}`, { method: 'POST', body: weak });
  return { status: res.status, json: await res.json() };
}

test('?forced_choice=1 or true answers happy or sad; without it the model\'s own label; a bad value is a 400', async () => {
  const url = await serve();
  const own = await post(url);
  assert.equal(own.status, 200);
  assert.equal(own.json.results[0].label, 'neutral');
  for (const q of ['?forced_choice=1', '?forced_choice=true']) {
    const forced = await post(url, q);
    assert.equal(forced.status, 200);
    const row = forced.json.results[0];
    assert.equal(row.label, 'happy', q);
    assert.equal(row.probabilities.neutral, 0);
    const p = own.json.results[0].probabilities;
    assert.ok(Math.abs(row.score - p.happy / (p.happy + p.sad)) < 1e-6);
  }
  const bad = await post(url, '?forced_choice=maybe');
  assert.equal(bad.status, 400);
  assert.match(bad.json.error.message, /\?forced_choice=maybe: expected true or false/);
});

test('a posted video too: ?forced_choice=1 labels every frame happy or sad', async () => {
  const url = await serve();
  const file = await makeVideo(join(await tempDir(), 'grey.mp4'), { width: 160, height: 120, fps: 5, frames: 5, faces: [] });
  const video = bytes(await readFile(file));
  const ask = async (query: string) => {
    const res = await fetch(`${url}/v1/predict${query}`, { method: 'POST', body: video });
    assert.equal(res.status, 200);
    return ((await res.json()) as { results: { label: string; probabilities: Record<string, number> }[] }).results;
  };
  const own = await ask('?every=0.4');
  assert.ok(own.length === 3 && own.every((r) => r.label === 'neutral'), JSON.stringify(own));
  const forced = await ask('?every=0.4&forced_choice=true');
  assert.ok(forced.length === 3 && forced.every((r) => r.label !== 'neutral' && r.probabilities.neutral === 0), JSON.stringify(forced));
});

test('a server started with forcedChoice answers with it unless a request says forced_choice=false', async () => {
  const url = await serve(true);
  assert.equal((await post(url)).json.results[0].label, 'happy');
  assert.equal((await post(url, '?forced_choice=0')).json.results[0].label, 'neutral');
});

test('a model forced choice cannot apply to: the server does not start with it, and a request asking for it gets a 400', async () => {
  const pets = await threeClassModelDir({ name: 'pets', classes: ['cat', 'dog', 'fish'], positiveClass: 'dog' });
  await assert.rejects(createServer({ model: pets, concurrency: 1, warmup: false, forcedChoice: true }), (err: unknown) => err instanceof OptionError && /model "pets" has the classes cat, dog, fish/.test(err.message));
  const { app, url } = await startServer({ model: pets, concurrency: 1, warmup: false });
  servers.push(app);
  const r = await post(url, '?forced_choice=1');
  assert.equal(r.status, 400);
  assert.match(r.json.error.message, /\?forced_choice: forced choice: model "pets" has the classes cat, dog, fish/);
  assert.equal((await post(url)).status, 200);
});
