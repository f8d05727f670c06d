import { createServer } from '../../src/serve/createServer.js';
import { DEFAULT_SERVE_OPTIONS as D } from '../../src/serve/serveOptions.js';
import { formatBytes } from '../../src/serve/apiError.js';
import { DEFAULT_IMAGE_LIMITS } from '../../src/data/imageLimits.js';
import { OptionError } from '../../src/errors.js';
import { parseCommand, parseNumber, parseThreads } from '../parseCommand.js';
import { resolveModelDir } from '../resolveModel.js';

export const serveHelp = `happysad serve [--model MODEL_DIR] [--port 8080] [--host 127.0.0.1] [options]

Serves MODEL_DIR (or the default model) over HTTP: a page at / to drop photos or point a webcam at
faces, and a JSON API. Ctrl-C stops it.
  POST /v1/predict   an image as the raw body (any Content-Type: the bytes are sniffed), or
                     multipart/form-data with one or more files; ?faces=false classifies whole
                     images. Answers {"results":[row,...]} (one row per image, in order, even for
                     one image; each row is a \`predict --json\` line). When no image could be used,
                     the status is the first image's problem and {"error":{code,message},"results"}.
  GET  /v1/model     the model's happysad.json      GET /healthz     {"status":"ok",...}
  GET  /metrics      Prometheus text: requests by route and status, latency, faces, queue depth
Errors are always {"error":{"code","message"}} with a stable code (e.g. image-not-image 415,
image-corrupt 422, image-too-large 413, body-too-large 413, queue-full 503 + Retry-After).

${[
  ['--port N', 'TCP port (0 picks a free one)', '8080'],
  ['--host ADDR', 'address to listen on; 0.0.0.0 exposes it to the network', '127.0.0.1'],
  ['--concurrency N', 'predictions at once, each in its own thread   [cores, max 4]', ''],
  ['--queue N', 'predictions waiting; beyond that 503 + Retry-After', D.queue],
  ['--timeout S', 'seconds a prediction request may take, waiting included', D.timeoutMs / 1000],
  ['--body-limit MB', 'largest request body (all files of a multipart request)', D.bodyLimit / 2 ** 20],
  ['--max-files N', 'most files in one multipart request', D.maxFiles],
  ['--max-pixels N', 'largest image (width x height), checked before decoding', DEFAULT_IMAGE_LIMITS.maxPixels],
  ['--min-side PX', 'smallest image side', DEFAULT_IMAGE_LIMITS.minSide],
  ['--rate-limit N', 'predictions per minute per client address; 0 = off', D.rateLimit],
  ['--log', 'log every request as JSON lines on stdout', ''],
].map(([flag, text, def]) => `  ${String(flag).padEnd(17)} ${String(text).padEnd(58)}${def === '' ? '' : ` [${def}]`}`.trimEnd()).join('\n')}`;

export async function serveCommand(argv: string[]): Promise<number> {
  const { values } = parseCommand(argv, serveHelp, {
    model: { type: 'string', short: 'm' },
    port: { type: 'string', default: '8080' },
    host: { type: 'string', default: '127.0.0.1' },
    concurrency: { type: 'string' },
    queue: { type: 'string' },
    timeout: { type: 'string' },
    'body-limit': { type: 'string' },
    'max-files': { type: 'string' },
    'max-pixels': { type: 'string' },
    'min-side': { type: 'string' },
    'rate-limit': { type: 'string' },
    log: { type: 'boolean', default: false },
  });
  const port = parseNumber(values.port, 'port', { integer: true, min: 0, max: 65535 })!;
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
    logger: values.log ? { level: 'info' } : { level: 'warn' },
  });
  let address: string;
  try {
    address = await app.listen({ port, host: values.host });
  } catch (err) {
    // The model's inference threads would keep the process alive after the error.
    await app.close();
    throw listenError(err, values.host, port);
  }
  const local = values.host === '127.0.0.1' || values.host === 'localhost' || values.host === '::1';
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
