import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inShard, parseShard, shardFromEnvironment } from '../../src/batch/shard.js';

const files = Array.from({ length: 3000 }, (_, i) => `photos/batch-${i % 7}/img_${String(i).padStart(5, '0')}.jpg`);

test('shards 1/3..3/3 are disjoint, cover every file, are near even, and ignore listing order', () => {
  const parts = [1, 2, 3].map((i) => files.filter((f) => inShard(f, parseShard(`${i}/3`))));
  assert.equal(parts.reduce((n, p) => n + p.length, 0), files.length);
  assert.equal(new Set(parts.flat()).size, files.length);
  for (const p of parts) assert.ok(p.length > 900 && p.length < 1100, `shard of ${p.length}`);
  const reversed = [...files].reverse().filter((f) => inShard(f, parseShard('2/3')));
  assert.deepEqual(new Set(reversed), new Set(parts[1]));
});

test('--shard is checked: i/N with 1 <= i <= N', () => {
  for (const bad of ['0/3', '4/3', '3', 'a/b', '1/0']) assert.throws(() => parseShard(bad), /expected i\/N/, bad);
});

test('--shard auto takes the shard from array jobs: SLURM (with steps), Kubernetes Indexed Jobs, AWS Batch, HAPPYSAD_SHARD', () => {
  const at = (env: Record<string, string>) => {
    const s = shardFromEnvironment(env);
    return `${s.index}/${s.count} ${s.source}`;
  };
  assert.throws(() => at({}), /--shard auto: no array-job variables are set/);
  // A stepped SLURM array (--array=0-20:10): tasks 0, 10, 20 are shards 1, 2, 3 of 3.
  assert.equal(at({ SLURM_ARRAY_TASK_ID: '10', SLURM_ARRAY_TASK_MIN: '0', SLURM_ARRAY_TASK_STEP: '10', SLURM_ARRAY_TASK_COUNT: '3' }), '2/3 SLURM_ARRAY_TASK_ID');
  assert.equal(at({ SLURM_ARRAY_TASK_ID: '20', SLURM_ARRAY_TASK_MIN: '0', SLURM_ARRAY_TASK_STEP: '10', SLURM_ARRAY_TASK_COUNT: '3' }), '3/3 SLURM_ARRAY_TASK_ID');
  assert.equal(at({ SLURM_ARRAY_TASK_ID: '7', SLURM_ARRAY_TASK_MIN: '5', SLURM_ARRAY_TASK_COUNT: '4' }), '3/4 SLURM_ARRAY_TASK_ID');
  assert.equal(at({ SLURM_ARRAY_TASK_ID: '0', SLURM_ARRAY_TASK_COUNT: '2' }), '1/2 SLURM_ARRAY_TASK_ID');
  assert.equal(at({ JOB_COMPLETION_INDEX: '0', HAPPYSAD_SHARD_COUNT: '10' }), '1/10 JOB_COMPLETION_INDEX');
  assert.equal(at({ AWS_BATCH_JOB_ARRAY_INDEX: '9', AWS_BATCH_JOB_ARRAY_SIZE: '10' }), '10/10 AWS_BATCH_JOB_ARRAY_INDEX');
  assert.equal(at({ HAPPYSAD_SHARD: '2/5', SLURM_ARRAY_TASK_ID: '0', SLURM_ARRAY_TASK_COUNT: '2' }), '2/5 HAPPYSAD_SHARD');
  assert.throws(() => shardFromEnvironment({ JOB_COMPLETION_INDEX: '3' }), /set HAPPYSAD_SHARD_COUNT/);
  assert.throws(() => shardFromEnvironment({ AWS_BATCH_JOB_ARRAY_INDEX: '12', AWS_BATCH_JOB_ARRAY_SIZE: '10' }), /expected i\/N/);
});
