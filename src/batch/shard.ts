import { createHash } from 'node:crypto';
import { OptionError } from '../base/errors.js';

/** Shard `index` of `count` (1-based, as `--shard 2/4` writes it). */
export interface Shard {
  index: number;
  count: number;
  /** Where it came from: the flag, or the array-job variables that set it. */
  source: string;
}

export function parseShard(text: string, source = '--shard'): Shard {
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  const index = Number(m?.[1]);
  const count = Number(m?.[2]);
  if (!m || !(count >= 1) || !(index >= 1 && index <= count)) throw new OptionError(`${source} "${text}": expected i/N with 1 <= i <= N, e.g. 2/4`);
  return { index, count, source };
}

/** The array-job variable this process was started with, if any (sharding by it is opt-in: --shard auto). */
export function arrayJobVariable(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return ['HAPPYSAD_SHARD', 'SLURM_ARRAY_TASK_ID', 'JOB_COMPLETION_INDEX', 'AWS_BATCH_JOB_ARRAY_INDEX'].find((n) => env[n] !== undefined);
}

/**
 * `--shard auto`: the shard an array job assigns, from the variables its scheduler sets: SLURM
 * arrays (SLURM_ARRAY_TASK_ID from SLURM_ARRAY_TASK_MIN in steps of SLURM_ARRAY_TASK_STEP, of
 * SLURM_ARRAY_TASK_COUNT), Kubernetes Indexed Jobs (JOB_COMPLETION_INDEX, 0-based; Kubernetes does
 * not set the count: pass the Job's `completions` as HAPPYSAD_SHARD_COUNT), AWS Batch array jobs
 * (AWS_BATCH_JOB_ARRAY_INDEX, 0-based, with AWS_BATCH_JOB_ARRAY_SIZE or HAPPYSAD_SHARD_COUNT), or
 * HAPPYSAD_SHARD=i/N. Never implicit: an array job that splits its work by folder must not lose
 * three quarters of each folder to a shard it did not ask for.
 */
export function shardFromEnvironment(env: NodeJS.ProcessEnv = process.env): Shard {
  if (env.HAPPYSAD_SHARD) return parseShard(env.HAPPYSAD_SHARD, 'HAPPYSAD_SHARD');
  const whole = (name: string): number => {
    const n = Number(env[name]);
    if (env[name] === undefined || !Number.isInteger(n) || n < 0) throw new OptionError(`--shard auto: ${name}=${env[name] ?? '(unset)'} is not a whole number`);
    return n;
  };
  const count = (names: string[], job: string): number => {
    for (const n of names) if (env[n]) return whole(n);
    throw new OptionError(`--shard auto: ${job} sets the index but not how many shards there are; set ${names.at(-1)} to the array's size`);
  };
  const zeroBased = (index: number, n: number, source: string) => parseShard(`${index + 1}/${n}`, source);
  if (env.SLURM_ARRAY_TASK_ID !== undefined) {
    const min = env.SLURM_ARRAY_TASK_MIN !== undefined ? whole('SLURM_ARRAY_TASK_MIN') : 0;
    const step = env.SLURM_ARRAY_TASK_STEP !== undefined ? whole('SLURM_ARRAY_TASK_STEP') || 1 : 1;
    const offset = whole('SLURM_ARRAY_TASK_ID') - min;
    if (offset % step !== 0) throw new OptionError(`--shard auto: SLURM_ARRAY_TASK_ID ${env.SLURM_ARRAY_TASK_ID} is not on the array's steps (from ${min} by ${step}); use --shard i/N`);
    return zeroBased(offset / step, count(['SLURM_ARRAY_TASK_COUNT'], 'this SLURM array'), 'SLURM_ARRAY_TASK_ID');
  }
  if (env.JOB_COMPLETION_INDEX !== undefined) return zeroBased(whole('JOB_COMPLETION_INDEX'), count(['HAPPYSAD_SHARD_COUNT'], 'this Kubernetes Indexed Job'), 'JOB_COMPLETION_INDEX');
  if (env.AWS_BATCH_JOB_ARRAY_INDEX !== undefined) return zeroBased(whole('AWS_BATCH_JOB_ARRAY_INDEX'), count(['AWS_BATCH_JOB_ARRAY_SIZE', 'HAPPYSAD_SHARD_COUNT'], 'this AWS Batch array job'), 'AWS_BATCH_JOB_ARRAY_INDEX');
  throw new OptionError('--shard auto: no array-job variables are set (SLURM_ARRAY_TASK_ID, JOB_COMPLETION_INDEX, AWS_BATCH_JOB_ARRAY_INDEX or HAPPYSAD_SHARD); give --shard i/N');
}

/**
 * Whether `key` (a file's absolute path: `data` and `/abs/data` must shard alike) belongs to `shard`: by a hash of the key, so the split is
 * disjoint, covers every file, and does not depend on the order files are listed in (folders
 * listed on another node, or in another order, shard the same way).
 */
export function inShard(key: string, shard: Shard): boolean {
  if (shard.count === 1) return true;
  const h = createHash('sha256').update(key).digest();
  return h.readUInt32BE(0) % shard.count === shard.index - 1;
}
