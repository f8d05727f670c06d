import { packageRoot } from '../base/packageRoot.js';

/**
 * The version of what producers and workers say to each other through Redis: a job's data, its
 * result, a video's row chunks, the model announcement. Bumped whenever one of them changes
 * meaning, so that a producer and a worker of different happysad versions refuse each other by
 * name instead of misreading each other (a worker ignores a job field it does not know: an option
 * added later would be silently dropped). Jobs and announcements without one come from versions
 * before it existed, whose format is protocol 1's.
 */
export const QUEUE_PROTOCOL = 1;

/** What this side says it speaks, for messages: the protocol and the happysad version. */
const speaks = () => `queue protocol ${QUEUE_PROTOCOL} (happysad ${packageRoot().version})`;

/** Why this worker cannot take a job with this data, or undefined when it can. */
export function jobProtocolProblem(data: unknown): string | undefined {
  const protocol = typeof data === 'object' && data !== null ? (data as Record<string, unknown>).protocol : undefined;
  if (protocol === undefined || protocol === QUEUE_PROTOCOL) return undefined;
  return `the job was queued by a producer speaking queue protocol ${JSON.stringify(protocol)}, this worker speaks ${speaks()}; run the same happysad version for the producer (happysad predict --redis) and the workers`;
}

/** Why this producer cannot use workers announcing this protocol, or undefined when it can. */
export function workerProtocolProblem(announced: string | null, queue: string): string | undefined {
  if (announced === null || Number(announced) === QUEUE_PROTOCOL) return undefined;
  return `the workers on queue "${queue}" speak queue protocol ${announced}, this producer speaks ${speaks()}; run the same happysad version for the producer and the workers (happysad worker)`;
}
