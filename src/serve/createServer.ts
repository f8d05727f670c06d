import type { Socket } from 'node:net';
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import fastifyMultipart from '@fastify/multipart';
import fastifyRateLimit from '@fastify/rate-limit';
import { ApiError, toApiError } from './apiError.js';
import { registerPredictRoute } from './predictRoute.js';
import { resolveServeOptions, type ServeOptions } from './serveOptions.js';
import type { ServableModel } from './servableModel.js';
import { ServerMetrics } from './serverMetrics.js';
import { cutConnectionsWhenDrained } from './gracefulClose.js';
import { defaultWebRoot, registerStaticPage } from './staticPage.js';
import { defaultLibRoot, registerBrowserFiles } from './browserFiles.js';
import { ThreadedModel } from './threadedModel.js';
import { UploadFolder } from './uploadFolder.js';
import { warmUp } from './warmUp.js';
import { forcedChoicePair } from '../predict/forcedChoice.js';
import { WorkQueue } from './workQueue.js';

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'] as const;

/**
 * The page only talks to its own origin and draws camera frames and uploads from blob: URLs; the
 * policy makes an injected script or a framing page useless even if something slips through.
 * 'wasm-unsafe-eval' lets it compile the on-device model's WebAssembly, and nothing else.
 */
const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy': "default-src 'self'; script-src 'self' 'wasm-unsafe-eval' blob:; worker-src 'self' blob:; img-src 'self' blob: data:; media-src 'self' blob: mediastream:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'permissions-policy': 'camera=(self), microphone=()',
  // Cross-origin isolation: what lets the on-device model use WebAssembly threads (SharedArrayBuffer).
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-embedder-policy': 'require-corp',
  'cross-origin-resource-policy': 'same-origin',
};

/**
 * Builds the HTTP server on a model (loaded here when given a directory) without listening, so
 * a test can `listen({ port: 0 })` and the CLI its own port. Closing the server closes a model it
 * loaded; a model passed in stays the caller's.
 */
export async function createServer(options: ServeOptions): Promise<FastifyInstance> {
  const o = resolveServeOptions(options);
  const owned = typeof o.model === 'string';
  // One inference thread per concurrent prediction (each warms itself up before it is ready).
  const model: ServableModel = typeof o.model === 'string' ? await ThreadedModel.create(o.model, { threads: o.concurrency, warmup: o.warmup }) : o.model;
  let uploads: UploadFolder | undefined;
  try {
    // A server that would refuse every request is not started.
    if (o.forcedChoice) forcedChoicePair(model.metadata);
    if (o.warmup && !owned) await warmUp(model);
    uploads = await UploadFolder.create(o.uploadRoot);
    return await build(model, owned, uploads, o);
  } catch (err) {
    await uploads?.remove();
    if (owned) await model.close();
    throw err;
  }
}

async function build(model: ServableModel, owned: boolean, uploads: UploadFolder, o: ReturnType<typeof resolveServeOptions>): Promise<FastifyInstance> {
  const queue = new WorkQueue(o.concurrency, o.queue);
  const metrics = new ServerMetrics(queue, model.metadata);
  let closing = false;

  const countResponse = (method: string, route: string, status: number, seconds: number) => {
    metrics.requests.inc({ method, route, status: String(status) });
    metrics.latency.observe({ route }, seconds);
  };

  const app = Fastify({
    logger: o.logger ?? false,
    bodyLimit: o.bodyLimit,
    // Receiving the request (slow uploads, slowloris) is bounded by Node; handling it by our timer.
    requestTimeout: o.timeoutMs,
    http: {
      requestTimeout: o.timeoutMs,
      // Node checks these only every connectionsCheckingInterval (30 s by default), and with its
      // default headersTimeout of 60 s a trickled body got its 408 after 60-90 s, not at the timeout.
      headersTimeout: Math.min(60_000, o.timeoutMs),
      connectionsCheckingInterval: Math.max(10, Math.min(1000, Math.floor(o.timeoutMs / 4))),
      // Node would answer a missing Host with an empty 400; the onRequest hook answers it in JSON.
      requireHostHeader: false,
    },
    return503OnClosing: false,
    clientErrorHandler: (err, socket) => {
      const code = answerClientError(err, socket);
      if (code) metrics.errors.inc({ code });
    },
    // A URL fastify cannot decode (e.g. `/%zz`) is answered before any hook runs, so the
    // headers and metrics that hooks add are added here.
    frameworkErrors: (err, request, genericReply) => {
      const reply = genericReply as FastifyReply;
      const started = performance.now();
      const api = toApiError(err, o.bodyLimit);
      metrics.errors.inc({ code: api.code });
      reply.raw.once('finish', () => countResponse(request.method, 'unmatched', api.status, (performance.now() - started) / 1000));
      return reply.code(api.status).headers({ ...SECURITY_HEADERS, ...api.headers }).send(api.body);
    },
  });

  // Every body is bytes to sniff, whatever Content-Type claims (no JSON or text parsing);
  // multipart, registered next, adds its own parser for multipart/form-data.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
  await app.register(fastifyMultipart, { throwFileSizeLimit: true });
  if (o.rateLimit > 0) await app.register(fastifyRateLimit, { global: false });

  app.addHook('onRequest', async (request) => {
    if (closing) throw new ApiError('shutting-down', 'the server is shutting down; retry shortly');
    // HTTP/1.1 requires Host (RFC 9112 §3.2); HTTP/1.0 clients may leave it out.
    if (request.headers.host === undefined && request.raw.httpVersion === '1.1') throw new ApiError('bad-request', 'missing Host header: HTTP/1.1 requests must send one');
  });
  app.addHook('onSend', async (_request, reply) => {
    reply.headers(SECURITY_HEADERS);
  });
  app.addHook('onResponse', async (request, reply) => {
    countResponse(request.method, request.routeOptions.url ?? 'unmatched', reply.statusCode, reply.elapsedTime / 1000);
  });
  metrics.countInFlight(app.server);
  const cutter = cutConnectionsWhenDrained(app.server, o.timeoutMs + 1000);
  app.addHook('preClose', async () => {
    closing = true;
    cutter.start();
  });
  app.addHook('onClose', async () => {
    if (owned) await model.close();
    await uploads.remove();
  });

  app.setErrorHandler((err, request, reply) => {
    const api = scrubbed(toApiError(err, o.bodyLimit), uploads);
    if (api.code === 'internal') request.log.error({ err }, 'unexpected error');
    metrics.errors.inc({ code: api.code });
    return reply.code(api.status).headers(api.headers).send(api.body);
  });
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0];
    const allowed = METHODS.filter((method) => method !== request.method && app.hasRoute({ url: path, method }));
    const api = allowed.length > 0
      ? new ApiError('method-not-allowed', `${request.method} ${path} is not supported; use ${allowed.join(' or ')}`, { headers: { allow: allowed.join(', ') } })
      : new ApiError('not-found', `no such page or endpoint: ${request.method} ${path} (the API is POST /v1/predict, GET /v1/model, GET /v1/model/files/NAME, GET /healthz, GET /metrics; the page is at /, the browser library at /lib/happysad.js)`);
    metrics.errors.inc({ code: api.code });
    return reply.code(api.status).headers(api.headers).send(api.body);
  });

  app.get('/healthz', async () => ({ status: 'ok', model: model.metadata.name, queue: { active: queue.active, waiting: queue.depth } }));
  app.get('/v1/model', async () => model.metadata);
  app.get('/metrics', async (_request, reply) => reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()));
  registerPredictRoute(app, { model, queue, metrics, options: o, uploadDir: uploads.dir });
  await registerBrowserFiles(app, o.libRoot ?? defaultLibRoot(), typeof o.model === 'string' ? o.model : model.bundleDir);
  await registerStaticPage(app, o.webRoot ?? defaultWebRoot());
  return app;
}

/** The error with no path of the server's upload folder in its message: whatever slipped through, clients never see server paths. */
function scrubbed(api: ApiError, uploads: UploadFolder): ApiError {
  const message = uploads.scrub(api.message);
  return message === api.message ? api : new ApiError(api.code, message, { headers: api.headers, results: api.results, cause: api });
}

/** Malformed HTTP never reaches a route; it still gets the same JSON error shape. Returns the code answered, if any. */
function answerClientError(err: Error & { code?: string }, socket: Socket): string | undefined {
  if (!socket.writable || err.code === 'ECONNRESET') {
    socket.destroy();
    return undefined;
  }
  const [status, code, message] = err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
    ? [408, 'request-timeout', 'the request was not received in time']
    : err.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'headers-too-large', 'request headers are too large']
      : [400, 'bad-request', 'malformed HTTP request'];
  const body = JSON.stringify({ error: { code, message } });
  socket.end(`HTTP/1.1 ${status} ${status === 408 ? 'Request Timeout' : status === 431 ? 'Request Header Fields Too Large' : 'Bad Request'}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
  return code;
}
