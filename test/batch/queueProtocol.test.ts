import { test } from 'node:test';
import assert from 'node:assert/strict';
import { jobProtocolProblem, QUEUE_PROTOCOL, workerProtocolProblem } from '../../src/batch/queueProtocol.js';

test('a worker takes jobs of its own protocol and of producers from before it; another protocol is refused by name', () => {
  assert.equal(jobProtocolProblem({ files: ['a.jpg'], faces: true, batch: 1 }), undefined);
  assert.equal(jobProtocolProblem({ protocol: QUEUE_PROTOCOL, files: ['a.jpg'] }), undefined);
  // Not an object: the job's own validation says what is wrong with it.
  assert.equal(jobProtocolProblem(null), undefined);
  const other = jobProtocolProblem({ protocol: QUEUE_PROTOCOL + 1, files: ['a.jpg'] });
  assert.match(other ?? '', new RegExp(`queued by a producer speaking queue protocol ${QUEUE_PROTOCOL + 1}, this worker speaks queue protocol ${QUEUE_PROTOCOL} \\(happysad \\d+\\.\\d+\\.\\d+\\); run the same happysad version`));
  assert.match(jobProtocolProblem({ protocol: 'one' }) ?? '', /queue protocol "one"/);
});

test('a producer uses workers of its own protocol, or of versions before the announcement; another is refused by name', () => {
  assert.equal(workerProtocolProblem(null, 'q'), undefined);
  assert.equal(workerProtocolProblem(String(QUEUE_PROTOCOL), 'q'), undefined);
  assert.match(workerProtocolProblem('7', 'photos') ?? '', new RegExp(`the workers on queue "photos" speak queue protocol 7, this producer speaks queue protocol ${QUEUE_PROTOCOL} .*same happysad version`));
});
