import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { collectDefaultMetrics, register } from 'prom-client';
import { loadModel, type Classifier } from '../../src/predict/classifier.js';
import { makeModel, scrapeMetrics, startServer } from '../../testkit/serveFixtures.js';

// A model loaded here and lent to each server: no inference threads to start, and closing a
// server leaves it open for the next test.
let model: Classifier;
before(async () => {
  model = await loadModel(await makeModel({ faces: false }));
});
after(async () => {
  await model?.close();
});

test('a request is counted once, under its method, route pattern and status; an unknown URL gets no series of its own', async () => {
  const { app, url } = await startServer({ model, warmup: false });
  try {
    assert.equal((await fetch(`${url}/healthz`)).status, 200);
    assert.equal((await fetch(`${url}/no/such/page-7f3a?x=1`)).status, 404);
    const m = await scrapeMetrics(url);
    assert.equal(m.get('happysad_http_requests_total', { method: 'GET', route: '/healthz', status: '200' }), 1);
    assert.equal(m.get('happysad_http_request_duration_seconds_count', { route: '/healthz' }), 1);
    const notFound = m.series('happysad_http_requests_total').filter((s) => s.labels.status === '404');
    assert.deepEqual(notFound.map((s) => s.value), [1], JSON.stringify(notFound));
    const routes = m.series('happysad_http_requests_total').map((s) => s.labels.route);
    assert.ok(routes.every((r) => !r.includes('7f3a')), `a raw URL became a label: ${routes}`);
    assert.equal(m.get('happysad_errors_total', { code: 'not-found' }), 1);
  } finally {
    await app.close();
  }
});

test('Node process metrics are reported, event-loop lag included', async () => {
  const { app, url } = await startServer({ model, warmup: false });
  try {
    const m = await scrapeMetrics(url);
    for (const name of ['nodejs_eventloop_lag_seconds', 'nodejs_eventloop_lag_p99_seconds', 'nodejs_eventloop_lag_max_seconds']) {
      assert.equal(m.type(name), 'gauge', name);
      assert.ok((m.get(name) ?? -1) >= 0, `${name}: ${m.get(name)}`);
    }
    assert.equal(m.type('process_cpu_seconds_total'), 'counter');
    assert.ok((m.get('process_resident_memory_bytes') ?? 0) > 10e6);
    assert.ok((m.get('nodejs_heap_size_used_bytes') ?? 0) > 0);
    assert.equal(m.type('nodejs_gc_duration_seconds'), 'histogram');
    const start = m.get('process_start_time_seconds') ?? 0;
    const now = Date.now() / 1000;
    assert.ok(Math.abs(start - (now - process.uptime())) < 5, `the process's start, not the server's: ${start} vs now ${now}`);
  } finally {
    await app.close();
  }
});

test('two servers in one process keep their own counts and leave the host application\'s registry alone', async () => {
  // The host application's own default metrics, on prom-client's global registry.
  collectDefaultMetrics();
  const a = await startServer({ model, warmup: false, queue: 3 });
  const b = await startServer({ model, warmup: false, queue: 5 });
  try {
    for (const url of [a.url, a.url, b.url]) assert.equal((await fetch(`${url}/healthz`)).status, 200);
    const healthz = { method: 'GET', route: '/healthz', status: '200' };
    const [ma, mb] = [await scrapeMetrics(a.url), await scrapeMetrics(b.url)];
    assert.equal(ma.get('happysad_http_requests_total', healthz), 2);
    assert.equal(mb.get('happysad_http_requests_total', healthz), 1);
    assert.equal(ma.get('happysad_queue_limit', { kind: 'queue' }), 3);
    assert.equal(mb.get('happysad_queue_limit', { kind: 'queue' }), 5);
    for (const m of [ma, mb]) assert.ok((m.get('process_resident_memory_bytes') ?? 0) > 10e6);
    assert.equal(register.getSingleMetric('happysad_http_requests_total'), undefined, 'nothing of ours in the global registry');
    assert.ok(register.getSingleMetric('process_resident_memory_bytes'), 'the host\'s own metrics are still there');
  } finally {
    await a.app.close();
    await b.app.close();
  }
});
