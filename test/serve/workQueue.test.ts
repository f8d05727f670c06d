import { test } from 'node:test';
import assert from 'node:assert/strict';
import { QueueFullError, WorkQueue } from '../../src/serve/workQueue.js';

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

test('work queue: at most `concurrency` run, FIFO after that, refuses beyond the queue', async () => {
  const q = new WorkQueue(2, 2);
  const gates = [deferred(), deferred(), deferred(), deferred()];
  const order: number[] = [];
  const runs = gates.map((g, i) => q.run(async () => {
    order.push(i);
    await g.promise;
    return i;
  }));
  await Promise.resolve();
  assert.deepEqual([q.active, q.depth], [2, 2]);
  await assert.rejects(q.run(async () => 99), (e: unknown) => e instanceof QueueFullError && e.retryAfterSeconds >= 1);
  gates[1].resolve();
  assert.equal(await runs[1], 1);
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(order, [0, 1, 2], 'the first waiting job took the free slot');
  for (const g of gates) g.resolve();
  assert.deepEqual(await Promise.all(runs), [0, 1, 2, 3]);
  assert.deepEqual([q.active, q.depth], [0, 0]);
});

test('work queue: an abandoned waiting job leaves the queue; an abandoned running one keeps its slot until it ends', async () => {
  const q = new WorkQueue(1, 4);
  const gate = deferred();
  const running = new AbortController();
  const first = q.run(() => gate.promise, running.signal);
  const waiting = new AbortController();
  let secondRan = false;
  const second = q.run(async () => {
    secondRan = true;
  }, waiting.signal);
  waiting.abort(new Error('gone'));
  await assert.rejects(second, /gone/);
  assert.equal(q.depth, 0);
  running.abort(new Error('timeout'));
  await assert.rejects(first, /timeout/);
  assert.equal(q.active, 1, 'the job is still running, so its slot is still taken');
  gate.resolve();
  await new Promise((r) => setImmediate(r));
  assert.equal(q.active, 0);
  assert.equal(secondRan, false);
});
