import { createServer } from '../../src/serve/createServer.js';
import { DEFAULT_LISTEN, DEFAULT_SERVE_OPTIONS as D } from '../../src/serve/serveOptions.js';
import { formatBytes } from '../../src/base/formatBytes.js';
import { DEFAULT_IMAGE_LIMITS } from '../../src/input/imageLimits.js';
import { OptionError } from '../../src/base/errors.js';
import { parseCommand, parseNumber, parseThreads } from '../parseCommand.js';
import { resolveModelDir } from '../resolveModel.js';

export async function serveCommand(argv: string[]): Promise<number> {
  const { values } = parseCommand(argv, 'serve');
  // PORT and HOST as platforms (and `npm start`) set them; a flag wins.
  const host = values.host ?? process.env.HOST ?? DEFAULT_LISTEN.host;
  const port = parseNumber(values.port ?? process.env.PORT ?? String(DEFAULT_LISTEN.port), values.port === undefined && process.env.PORT !== undefined ? 'port (from $PORT)' : 'port', { integer: true, min: 0, max: 65535 })!;
  // Node's timers hold at most 2^31 - 1 ms (~24.8 days); a day is more than any request needs.
  const timeout = parseNumber(values.timeout, 'timeout', { min: 0.001, max: 86_400 });
  const bodyLimitMb = parseNumber(values['body-limit'], 'body-limit', { min: 0.001, max: 4096 });
  const modelDir = resolveModelDir(values.model);
  const app = await createServer({
    model: modelDir,
    concurrency: parseThreads(values.concurrency, 'concurrency'),
    queue: parseNumber(values.queue, 'queue', { integer: true, min: 0 }),
    timeoutMs: timeout === undefined ? undefined : Math.round(timeout * 1000),
    bodyLimit: bodyLimitMb === undefined ? undefined : Math.round(bodyLimitMb * 2 ** 20),
    maxFiles: parseNumber(values['max-files'], 'max-files', { integer: true, min: 1 }),
    limits: {
      maxPixels: parseNumber(values['max-pixels'], 'max-pixels', { integer: true, min: 1 }) ?? DEFAULT_IMAGE_LIMITS.maxPixels,
      minSide: parseNumber(values['min-side'], 'min-side', { integer: true, min: 1 }) ?? DEFAULT_IMAGE_LIMITS.minSide,
    },
    rateLimit: parseNumber(values['rate-limit'], 'rate-limit', { integer: true, min: 0 }),
    videoMaxSeconds: parseNumber(values['video-max-seconds'], 'video-max-seconds', { min: 0.1 }),
    videoMaxPixels: parseNumber(values['max-video-pixels'], 'max-video-pixels', { integer: true, min: 1 }),
    videoMaxFrames: parseNumber(values['video-max-frames'], 'video-max-frames', { integer: true, min: 1 }),
    forcedChoice: values['forced-choice'],
    logger: values.log ? { level: 'info' } : { level: 'warn' },
  });
  let address: string;
  try {
    address = await app.listen({ port, host });
  } catch (err) {
    // The model's inference threads would keep the process alive after the error.
    await app.close();
    throw listenError(err, host, port);
  }
  const local = host === '127.0.0.1' || host === 'localhost' || host === '::1';
  console.error(`happysad serve: ${modelDir} on ${address}/ (body limit ${formatBytes(app.initialConfig.bodyLimit ?? D.bodyLimit)})`);
  // Browsers only grant the camera to https pages and to localhost.
  if (!local) console.error('happysad serve: listening beyond loopback; the webcam mode needs https (put a TLS proxy in front) except on localhost');
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      console.error('happysad serve: stopping');
      app.close().then(resolve, resolve);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  return 0;
}

/** Says what to change for the listen errors an operator can cause; anything else is rethrown as is. */
function listenError(err: unknown, host: string, port: number): unknown {
  const code = (err as { code?: unknown } | undefined)?.code;
  switch (code) {
    case 'EADDRINUSE':
      return new OptionError(`port ${port} is in use on ${host}: choose another with --port, or --port 0 for a free one`);
    case 'EACCES':
      return new OptionError(`not allowed to listen on port ${port} (ports below 1024 need privileges): choose another with --port`);
    case 'EADDRNOTAVAIL':
      return new OptionError(`cannot listen on host ${host}: it is not an address of this machine; use one of its addresses, 127.0.0.1, or 0.0.0.0 for all`);
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_FAIL':
    case 'EAI_NONAME':
      return new OptionError(`cannot listen on host ${host}: address not found (getaddrinfo ${code}); use an IP address such as 127.0.0.1`);
    default:
      return err;
  }
}
