import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { loadModel, type Classifier, type Prediction, type PredictOptions } from '../../src/predict/classifier.js';
import type { ServableModel } from '../../src/serve/servableModel.js';
import { pngBombHeader } from '../../testkit/makeImages.js';
import { bytes, examplePhoto, makeModel, scrapeMetrics, startServer, type Labels } from '../../testkit/serveFixtures.js';

/**
 * A real (whole-image) model whose predictions can be held open: the queue fills exactly when the
 * test says so, instead of depending on how fast two cores happen to be.
 */
class GatedModel implements ServableModel {
  private gate: Promise<void> | undefined;
  private open: (() => void) | undefined;
  started = 0;

  constructor(private readonly inner: Classifier) {}

  get metadata() {
    return this.inner.metadata;
  }

  get expectsFaces() {
    return this.inner.expectsFaces;
  }

  hold(): void {
    this.gate = new Promise((resolve) => (this.open = resolve));
  }

  release(): void {
    this.open?.();
    this.gate = undefined;
  }

  async predict(inputs: Uint8Array[], options?: PredictOptions): Promise<Prediction[]> {
    this.started++;
    await this.gate;
    return this.inner.predict(inputs, options);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

let model: GatedModel;
let photo: Uint8Array<ArrayBuffer>;
before(async () => {
  model = new GatedModel(await loadModel(await makeModel({ faces: false })));
  photo = await examplePhoto('happy', 'Azra_Akin_0003.jpg');
});
after(async () => {
  await model?.close();
});

const post = (url: string, signal?: AbortSignal, body: Uint8Array<ArrayBuffer> = photo) => fetch(`${url}/v1/predict`, { method: 'POST', body, signal });

/** Whether a promise has settled by the time the event loop has run what was already due. */
async function settled(promise: Promise<unknown>): Promise<boolean> {
  const done = promise.then(() => true, () => true);
  return Promise.race([done, new Promise<boolean>((resolve) => setImmediate(() => resolve(false)))]);
}

async function until(condition: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await condition()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting until ${what}`);
}

async function metric(url: string, name: string, labels?: Labels): Promise<number | undefined> {
  return (await scrapeMetrics(url)).get(name, labels);
}

test('queue full: 503 queue-full with Retry-After without waiting for a slot; the queued requests still succeed; then it recovers', async () => {
  const { app, url } = await startServer({ model, concurrency: 1, queue: 1, warmup: false });
  try {
    model.hold();
    const before = model.started;
    const first = post(url);
    await until(() => model.started === before + 1, 'the first prediction runs');
    const second = post(url);
    await until(async () => (await metric(url, 'happysad_queue_depth')) === 1, 'the second request waits in the queue');
    // Both predictions accepted so far, and this scrape.
    assert.equal(await metric(url, 'happysad_http_requests_in_flight'), 3);
    const third = await post(url);
    // Answered while the model is still held: the refusal did not wait for a slot to free up.
    assert.deepEqual([await settled(first), await settled(second), model.started], [false, false, before + 1]);
    assert.equal(third.status, 503);
    const retry = third.headers.get('retry-after');
    assert.match(retry ?? '', /^[1-9]\d*$/, `Retry-After is whole seconds: ${retry}`);
    const body = await third.json();
    assert.equal(body.error.code, 'queue-full');
    assert.match(body.error.message, /busy.*retry in \d+ s/);
    // An image refused from its header never asks for a slot, so a full queue does not hide why.
    const bomb = await post(url, undefined, bytes(pngBombHeader(60_000, 60_000)));
    assert.equal(bomb.status, 413);
    assert.equal((await bomb.json()).error.code, 'image-too-large');
    assert.equal(model.started, before + 1, 'the model never saw it');
    model.release();
    assert.equal((await first).status, 200);
    assert.equal((await second).status, 200);
    assert.equal((await post(url)).status, 200, 'recovers once the backlog is gone');
    assert.equal(await metric(url, 'happysad_queue_depth'), 0);
    assert.equal(await metric(url, 'happysad_http_requests_total', { method: 'POST', route: '/v1/predict', status: '503' }), 1);
    assert.equal(await metric(url, 'happysad_errors_total', { code: 'queue-full' }), 1);
    assert.equal(await metric(url, 'happysad_http_requests_in_flight'), 1, 'only this scrape');
  } finally {
    model.release();
    await app.close();
  }
});

test('per-request timeout: 503 timeout with Retry-After; the stuck slot frees when the work ends', async () => {
  const { app, url } = await startServer({ model, concurrency: 1, queue: 4, timeoutMs: 300, warmup: false });
  try {
    model.hold();
    const stuck = await post(url);
    assert.equal(stuck.status, 503);
    assert.ok(Number(stuck.headers.get('retry-after')) >= 1);
    const body = await stuck.json();
    assert.equal(body.error.code, 'timeout');
    assert.match(body.error.message, /0\.3 s/);
    // The held prediction keeps its slot (the model cannot be interrupted), so the next one times
    // out waiting for it, and leaves the queue when it does.
    const waiting = await post(url);
    assert.equal(waiting.status, 503);
    assert.equal(await metric(url, 'happysad_queue_depth'), 0);
    model.release();
    await until(async () => (await metric(url, 'happysad_queue_active')) === 0, 'the held prediction ends');
    assert.equal((await post(url)).status, 200);
  } finally {
    model.release();
    await app.close();
  }
});

test('a client that gives up while queued leaves the queue', async () => {
  const { app, url } = await startServer({ model, concurrency: 1, queue: 4, warmup: false });
  try {
    model.hold();
    const before = model.started;
    const first = post(url);
    await until(() => model.started === before + 1, 'the first prediction runs');
    const controller = new AbortController();
    const gaveUp = post(url, controller.signal).catch((err: unknown) => err);
    await until(async () => (await metric(url, 'happysad_queue_depth')) === 1, 'the second request is queued');
    controller.abort();
    assert.equal((await gaveUp as Error).name, 'AbortError');
    await until(async () => (await metric(url, 'happysad_queue_depth')) === 0, 'the abandoned request leaves the queue');
    model.release();
    assert.equal((await first).status, 200);
  } finally {
    model.release();
    await app.close();
  }
});

test('rate limit (opt-in): 429 rate-limited in the usual error shape, with Retry-After; other routes unaffected', async () => {
  const { app, url } = await startServer({ model, rateLimit: 2, warmup: false });
  try {
    assert.equal((await post(url)).status, 200);
    assert.equal((await post(url)).status, 200);
    const limited = await post(url);
    assert.equal(limited.status, 429);
    assert.ok(Number(limited.headers.get('retry-after')) >= 1);
    const body = await limited.json();
    assert.equal(body.error.code, 'rate-limited');
    assert.match(body.error.message, /more than 2 predictions a minute/);
    assert.equal((await fetch(`${url}/healthz`)).status, 200);
  } finally {
    await app.close();
  }
});
