import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createCountProgress } from '../../cli/countProgress.js';
import { createProgressRenderer } from '../../cli/progressBar.js';
import type { EpochRecord } from '../../src/model/trainingHistory.js';
import { runCli } from '../../testkit/runCli.js';

/** A stand-in for process.stderr that records what is written, as a terminal or as a file/pipe. */
function fakeStream(isTTY: boolean): { stream: NodeJS.WriteStream; written: () => string } {
  const chunks: string[] = [];
  const stream = { isTTY, write: (s: string) => chunks.push(s) > 0 } as unknown as NodeJS.WriteStream;
  return { stream, written: () => chunks.join('') };
}

test('the file counter draws on a terminal only: nothing goes to a log file or pipe', () => {
  for (const isTTY of [true, false]) {
    const out = fakeStream(isTTY);
    const progress = createCountProgress(6, 'files', out.stream);
    for (let done = 1; done <= 6; done++) progress.update(done);
    progress.finish();
    if (isTTY) assert.match(out.written(), /\r\[=+\] 6\/6 files .* ETA /);
    else assert.equal(out.written(), '');
  }
});

test('training progress: the in-epoch bar on a terminal only; stages, warnings and epoch lines everywhere', () => {
  const record: EpochRecord = { epoch: 1, loss: 0.5, accuracy: 0.75, val_loss: 0.6, val_accuracy: 0.7, seconds: 2 };
  for (const isTTY of [true, false]) {
    const out = fakeStream(isTTY);
    const render = createProgressRenderer(out.stream);
    render({ type: 'stage', message: 'decoding 10 images' });
    render({ type: 'epoch-start', epoch: 1, epochs: 1, batches: 10 });
    for (let batch = 1; batch <= 10; batch++) render({ type: 'batch', epoch: 1, batch, batches: 10, loss: 0.5, accuracy: 0.75, seconds: batch * 0.2 });
    render({ type: 'warning', code: 'skipped', message: 'few images' });
    render({ type: 'epoch-end', record, improved: true, epochs: 1 });
    const text = out.written();
    assert.match(text, /decoding 10 images\n/);
    assert.match(text, /warning: few images\n/);
    assert.match(text, /Epoch 1\/1 {2}loss 0\.5000 .* \* best\n/);
    if (isTTY) assert.match(text, /\r\[=+\] Epoch 1 10\/10 loss/);
    else assert.doesNotMatch(text, /Epoch 1 \d+\/10|ETA|\r/);
  }
});

test('predict with stderr piped writes no progress lines', () => {
  const r = runCli(['predict', 'examples/', '--json']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim().split('\n').length, 6);
  assert.doesNotMatch(r.stderr, /files .*ETA|\r/);
});
