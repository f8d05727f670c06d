import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { makeModel, scrapeMetrics, startServer } from '../../testkit/serveFixtures.js';

/** Requests that never reach a route, or break HTTP, still get `{"error":{"code","message"}}`. */
const TIMEOUT_MS = 1500;
let app: FastifyInstance;
let url: string;
let port: number;

before(async () => {
  ({ app, url, port } = await startServer({ model: await makeModel({ faces: false }), concurrency: 1, timeoutMs: TIMEOUT_MS, warmup: false }));
});
after(async () => {
  await app?.close();
});

/** Raw bytes over TCP (fetch always sends Host); `trickle` then sends one body byte per 200 ms. */
function rawRequest(head: string, options: { trickle?: boolean } = {}): Promise<{ status: number; headers: string; json: any; ms: number }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    const socket = connect(port, '127.0.0.1', () => {
      socket.write(head);
      if (options.trickle) timer = setInterval(() => socket.writable && socket.write('x'), 200);
    });
    let data = '';
    socket.setEncoding('utf8').on('data', (c: string) => (data += c)).on('error', reject).on('close', () => {
      clearInterval(timer);
      const [headers, body] = data.split('\r\n\r\n');
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(headers)?.[1]);
      try {
        resolve({ status, headers, json: JSON.parse(body), ms: performance.now() - started });
      } catch {
        reject(new Error(`not a JSON answer: ${JSON.stringify(data)}`));
      }
    });
  });
}

function assertErrorShape(json: any, code: string): void {
  assert.deepEqual(Object.keys(json), ['error'], JSON.stringify(json));
  assert.equal(json.error.code, code, JSON.stringify(json));
  assert.ok(typeof json.error.message === 'string' && json.error.message.length > 10, 'the message says something readable');
}

test('a URL with bad percent-encoding: JSON 400 bad-url, counted in /metrics', async () => {
  const res = await fetch(`${url}/%zz`);
  assert.equal(res.status, 400);
  assert.match(res.headers.get('content-type') ?? '', /application\/json/);
  assert.match(res.headers.get('content-security-policy') ?? '', /default-src 'self'/, 'the security headers too');
  assertErrorShape(await res.json(), 'bad-url');
  const m = await scrapeMetrics(url);
  assert.equal(m.get('happysad_errors_total', { code: 'bad-url' }), 1);
  assert.equal(m.get('happysad_http_requests_total', { method: 'GET', route: 'unmatched', status: '400' }), 1);
  assert.equal(m.get('happysad_http_request_duration_seconds_count', { route: 'unmatched' }), 1);
});

test('HTTP/1.1 without Host: JSON 400 saying so; HTTP/1.0 without Host is still answered', async () => {
  const r = await rawRequest('GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n');
  assert.equal(r.status, 400, r.headers);
  assert.match(r.headers, /content-type: application\/json/i);
  assertErrorShape(r.json, 'bad-request');
  assert.match(r.json.error.message, /Host header/);
  const old = await rawRequest('GET /healthz HTTP/1.0\r\n\r\n');
  assert.equal(old.status, 200, old.headers);
  assert.equal(old.json.status, 'ok');
});

test('a trickled body is answered 408 in JSON about the request timeout, not 30-90 s later', async () => {
  const r = await rawRequest('POST /v1/predict HTTP/1.1\r\nHost: localhost\r\nContent-Type: image/jpeg\r\nContent-Length: 1000\r\n\r\n', { trickle: true });
  assert.equal(r.status, 408, r.headers);
  assertErrorShape(r.json, 'request-timeout');
  assert.ok(r.ms >= TIMEOUT_MS - 100 && r.ms < 3 * TIMEOUT_MS, `answered after ${Math.round(r.ms)} ms with a ${TIMEOUT_MS} ms timeout`);
  const m = await scrapeMetrics(url);
  assert.equal(m.get('happysad_errors_total', { code: 'request-timeout' }), 1);
});
