import { availableParallelism } from 'node:os';
import { OptionError } from '../../src/base/errors.js';
import { runPredictWorker, redisConnection } from '../../src/batch/predictQueue.js';
import { loadModel } from '../../src/predict/classifier.js';
import { parseCommand, parseNumber, parseThreads } from '../parseCommand.js';
import { resolveModelDir } from '../resolveModel.js';

export async function workerCommand(argv: string[]): Promise<number> {
  const { values } = parseCommand(argv, 'worker');
  if (!values.redis) throw new OptionError('worker needs --redis URL: the Redis its jobs come from (happysad help worker)');
  redisConnection(values.redis);
  const stallSeconds = parseNumber(values['stall-timeout'], 'stall-timeout', { min: 1 });
  const classifier = await loadModel(resolveModelDir(values.model), { workers: parseThreads(values.workers, 'workers') ?? availableParallelism() });
  const stop = new AbortController();
  const onSignal = () => {
    process.stderr.write('stopping: finishing the current batch\n');
    stop.abort();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  process.stderr.write(`worker ${process.pid}: model "${classifier.metadata.name}", ${classifier.workerCount} thread(s), queue "${values.queue ?? 'happysad'}" at ${values.redis}\n`);
  try {
    const done = await runPredictWorker({ redis: values.redis, queue: values.queue, classifier, stallSeconds, signal: stop.signal, log: (line) => process.stderr.write(`worker ${process.pid}: ${line}\n`) });
    process.stderr.write(`worker ${process.pid}: stopped after ${done.batches} batch(es), ${done.files} file(s)\n`);
  } finally {
    await classifier.close();
  }
  return 0;
}
