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

/**
 * The shard an array job assigns, from the variables its scheduler sets: SLURM arrays
 * (SLURM_ARRAY_TASK_ID, from SLURM_ARRAY_TASK_MIN, of SLURM_ARRAY_TASK_COUNT), Kubernetes Indexed
 * Jobs (JOB_COMPLETION_INDEX, 0-based; the count is not set by Kubernetes: pass the Job's
 * `completions` as HAPPYSAD_SHARD_COUNT), AWS Batch array jobs (AWS_BATCH_JOB_ARRAY_INDEX, 0-based,
 * with the array size as AWS_BATCH_JOB_ARRAY_SIZE or HAPPYSAD_SHARD_COUNT), or HAPPYSAD_SHARD=i/N.
 */
export function shardFromEnvironment(env: NodeJS.ProcessEnv = process.env): Shard | undefined {
  if (env.HAPPYSAD_SHARD) return parseShard(env.HAPPYSAD_SHARD, 'HAPPYSAD_SHARD');
  const count = (names: string[], job: string): number => {
    for (const n of names) if (env[n]) return Number(env[n]);
    throw new OptionError(`${job} sets the index but not how many shards there are; set ${names.at(-1)} to the array's size`);
  };
  const zeroBased = (index: number, n: number, source: string) => parseShard(`${index + 1}/${n}`, source);
  if (env.SLURM_ARRAY_TASK_ID !== undefined) {
    const min = Number(env.SLURM_ARRAY_TASK_MIN ?? 0);
    return zeroBased(Number(env.SLURM_ARRAY_TASK_ID) - min, count(['SLURM_ARRAY_TASK_COUNT'], 'this SLURM array'), 'SLURM_ARRAY_TASK_ID');
  }
  if (env.JOB_COMPLETION_INDEX !== undefined) return zeroBased(Number(env.JOB_COMPLETION_INDEX), count(['HAPPYSAD_SHARD_COUNT'], 'this Kubernetes Indexed Job'), 'JOB_COMPLETION_INDEX');
  if (env.AWS_BATCH_JOB_ARRAY_INDEX !== undefined) return zeroBased(Number(env.AWS_BATCH_JOB_ARRAY_INDEX), count(['AWS_BATCH_JOB_ARRAY_SIZE', 'HAPPYSAD_SHARD_COUNT'], 'this AWS Batch array job'), 'AWS_BATCH_JOB_ARRAY_INDEX');
  return undefined;
}

/**
 * Whether `key` (a file's path as given) belongs to `shard`: by a hash of the key, so the split is
 * disjoint, covers every file, and does not depend on the order files are listed in (folders
 * listed on another node, or in another order, shard the same way).
 */
export function inShard(key: string, shard: Shard): boolean {
  if (shard.count === 1) return true;
  const h = createHash('sha256').update(key).digest();
  return h.readUInt32BE(0) % shard.count === shard.index - 1;
}
