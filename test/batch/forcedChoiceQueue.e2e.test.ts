import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { realpath } from 'node:fs/promises';
import { join } from 'node:path';
import { predictThroughQueue, runPredictWorker } from '../../src/batch/predictQueue.js';
import { validateBatchJob } from '../../src/batch/jobReferences.js';
import { createClassifier, type Classifier, type Prediction } from '../../src/predict/classifier.js';
import { writeBytes } from '../../testkit/makeImages.js';
import { RedisServer } from '../../testkit/redisServer.js';
import { startCli, stopStartedClis } from '../../testkit/runCli.js';
import { tempDir } from '../../testkit/tempDir.js';
import { greyImage, threeClassBundle } from '../../testkit/threeClassModel.js';

// The job queue carries forced choice from the producer to the workers: a queued run answers as
// a local `predict --forced-choice` would.

let redis: RedisServer;
let photos: string;
let files: string[];

before(async () => {
  redis = await RedisServer.start();
  photos = await realpath(await tempDir());
  files = await Promise.all([0.85, 0.58, 0.42, 0.15].map(async (m, i) => writeBytes(join(photos, `${i}.png`), await greyImage(m, i + 1))));
});
after(async () => {
  // Workers a failed assertion left running go first: they would outlive the test (and its Redis).
  await stopStartedClis();
  await redis?.stop();
});

/** A worker in this process serving `queue` with `classifier` until the returned stop() is called. */
function worker(queue: string, classifier: Classifier): () => Promise<void> {
  const stop = new AbortController();
  const done = runPredictWorker({ redis: redis.url, queue, classifier, policy: { roots: [photos], hosts: [] }, signal: stop.signal });
  return async () => {
    stop.abort();
    await done;
  };
}

test('job data: forcedChoice is optional (older producers) and must be a boolean', () => {
  assert.deepEqual(validateBatchJob({ files: ['/a.png'], faces: true, batch: 1 }), { files: ['/a.png'], faces: true, batch: 1 });
  assert.deepEqual(validateBatchJob({ files: ['/a.png'], faces: true, batch: 1, forcedChoice: true }), { files: ['/a.png'], faces: true, batch: 1, forcedChoice: true });
  assert.match(validateBatchJob({ files: ['/a.png'], faces: true, batch: 1, forcedChoice: 'yes' }) as string, /"forcedChoice" must be true or false/);
});

test('a queued run with forcedChoice gets the workers\' forced answers; without it the model\'s own', async () => {
  const classifier = await createClassifier(await threeClassBundle());
  const stop = worker('forced', classifier);
  try {
    const local = await classifier.predict(files, { forcedChoice: true });
    for (const forcedChoice of [true, false]) {
      const rows: Prediction[] = [];
      await predictThroughQueue(files, { redis: redis.url, queue: 'forced', batch: 2, forcedChoice, onRows: async (r) => void rows.push(...r) });
      rows.sort((a, b) => a.file.localeCompare(b.file));
      if (forcedChoice) {
        assert.deepEqual(rows.map((r) => r.label), ['happy', 'happy', 'sad', 'sad']);
        assert.deepEqual(rows.map((r) => r.score), local.map((r) => r.score));
      } else {
        assert.deepEqual(rows.map((r) => r.label), ['happy', 'neutral', 'neutral', 'sad']);
      }
    }
  } finally {
    await stop();
    await classifier.close();
  }
});

test('predict --redis --forced-choice is refused when the workers\' model cannot be forced, before anything is queued', async () => {
  const pets = await createClassifier(await threeClassBundle({ name: 'pets', classes: ['cat', 'dog', 'fish'], positiveClass: 'dog' }));
  const stop = worker('pets', pets);
  try {
    // Started, not run to completion: this process's worker must keep answering meanwhile.
    const producer = startCli(['predict', photos, '--redis', redis.url, '--queue', 'pets', '--forced-choice']);
    assert.equal(await producer.exited, 2, producer.log.join('\n'));
    assert.match(producer.log.join('\n'), /forced choice: model "pets" has the classes cat, dog, fish/);
  } finally {
    await stop();
    await pets.close();
  }
});
