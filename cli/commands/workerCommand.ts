import { availableParallelism } from 'node:os';
import { OptionError } from '../../src/base/errors.js';
import { parseAllowedHost, resolveRoots } from '../../src/batch/jobReferences.js';
import { checkRedis, runPredictWorker } from '../../src/batch/predictQueue.js';
import { DEFAULT_QUEUE } from '../../src/batch/queueDefaults.js';
import { redisConnection, validateQueueName } from '../../src/batch/redisOptions.js';
import { loadModel } from '../../src/predict/classifier.js';
import { parseCommand, parseNumber, parseThreads } from '../parseCommand.js';
import { resolveModelDir } from '../resolveModel.js';

export async function workerCommand(argv: string[]): Promise<number> {
  const { values } = parseCommand(argv, 'worker');
  if (!values.redis) throw new OptionError('worker needs --redis URL: the Redis its jobs come from (happysad help worker)');
  redisConnection(values.redis);
  const queue = validateQueueName(values.queue ?? DEFAULT_QUEUE);
  const stallSeconds = parseNumber(values['stall-timeout'], 'stall-timeout', { min: 1 });
  const policy = { roots: await resolveRoots(values.root ?? []), hosts: (values['allow-host'] ?? []).map(parseAllowedHost) };
  if (!policy.roots.length && !policy.hosts.length) throw new OptionError('worker needs --root DIR (the shared folder the queued paths are under) or --allow-host HOST (for queued URLs), or both: a worker reads nothing it was not told it may (happysad help worker)');
  await checkRedis(values.redis);
  const log = (line: string) => process.stderr.write(`worker ${process.pid}: ${line}\n`);
  const classifier = await loadModel(resolveModelDir(values.model), { workers: parseThreads(values.workers, 'workers') ?? availableParallelism() });
  const stop = new AbortController();
  const onSignal = () => {
    log('stopping: finishing the current batch (a video in progress is handed back to the queue)');
    stop.abort();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  log(`model "${classifier.metadata.name}", ${classifier.workerCount} thread(s), queue "${queue}" at ${values.redis}`);
  log(`reads paths under: ${policy.roots.join(', ') || '(none)'}; fetches URLs from: ${policy.hosts.join(', ') || '(none)'}`);
  try {
    const done = await runPredictWorker({ redis: values.redis, queue, classifier, policy, stallSeconds, signal: stop.signal, log });
    log(`stopped after ${done.batches} batch(es), ${done.files} file(s)`);
  } finally {
    await classifier.close();
  }
  // Whatever a lost Redis connection still holds open, a stopped worker exits.
  setTimeout(() => process.exit(process.exitCode ?? 0), 2000).unref();
  return 0;
}
