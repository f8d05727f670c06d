import type { Server } from 'node:http';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Prediction } from '../predict/classifier.js';
import type { WorkQueue } from './workQueue.js';

/** Latency buckets in seconds: a face model answers in ~0.3-1.5 s on two cores, a queue adds multiples of that. */
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/**
 * What GET /metrics reports. Routes are the registered patterns, never raw URLs, so label sets stay small.
 *
 * Each server has its own registry, never prom-client's global one: two servers in one process, or a
 * host application that collects default metrics itself, would otherwise register the same names
 * twice (prom-client throws) or count into each other's series.
 */
export class ServerMetrics {
  readonly registry = new Registry();
  private readonly registers = [this.registry];
  private inFlight = 0;

  readonly requests = new Counter({
    name: 'happysad_http_requests_total',
    help: 'HTTP requests answered, by method, route pattern and status.',
    labelNames: ['method', 'route', 'status'] as const,
    registers: this.registers,
  });
  readonly latency = new Histogram({
    name: 'happysad_http_request_duration_seconds',
    help: 'Time from request received to response sent, by route pattern.',
    labelNames: ['route'] as const,
    buckets: LATENCY_BUCKETS,
    registers: this.registers,
  });
  readonly errors = new Counter({
    name: 'happysad_errors_total',
    help: 'Error responses by error code.',
    labelNames: ['code'] as const,
    registers: this.registers,
  });
  readonly images = new Counter({
    name: 'happysad_images_total',
    help: 'Images received by POST /v1/predict, by result: faces (at least one face found), no-face (a face model found none and classified the whole image), whole (classified whole by request or model), error.',
    labelNames: ['result'] as const,
    registers: this.registers,
  });
  readonly faces = new Counter({
    name: 'happysad_faces_found_total',
    help: 'Faces found and classified.',
    registers: this.registers,
  });

  constructor(queue: WorkQueue, model: { name: string; arch: string }) {
    // Unprefixed, so process_resident_memory_bytes and process_start_time_seconds keep the names this
    // endpoint always had and the stock Node.js dashboards (nodejs_eventloop_lag_*, nodejs_gc_*) work
    // unchanged; Prometheus' job and instance labels already say which process a series is from.
    // nodejs_eventloop_lag_* matter to a server that sheds load: the queue bounds predictions, but a
    // blocked loop delays every answer, 503s included, and only the lag shows it.
    // prom-client offers no way to stop the event-loop monitor (a 10 ms timer) and GC observer this
    // starts, so they outlive a closed server: create servers once per process, not per test case.
    collectDefaultMetrics({ register: this.registry });

    // Read when scraped, so they are never stale and there is nothing to keep in sync.
    const readAtScrape = (name: string, help: string, read: () => number) => {
      const gauge: Gauge = new Gauge({ name, help, registers: this.registers, collect: () => gauge.set(read()) });
    };
    readAtScrape('happysad_queue_depth', 'Predictions waiting for a free slot.', () => queue.depth);
    readAtScrape('happysad_queue_active', 'Predictions running now.', () => queue.active);
    readAtScrape('happysad_http_requests_in_flight', 'HTTP requests received and not yet answered, this scrape included; unlike the queue gauges it counts uploads still being read and screened.', () => this.inFlight);
    const limit = new Gauge({
      name: 'happysad_queue_limit',
      help: 'Configured slots (concurrency) and waiting places (queue).',
      labelNames: ['kind'] as const,
      registers: this.registers,
    });
    limit.set({ kind: 'concurrency' }, queue.concurrency);
    limit.set({ kind: 'queue' }, queue.maxWaiting);
    new Gauge({
      name: 'happysad_model_info',
      help: 'The model being served (value is always 1).',
      labelNames: ['name', 'arch'] as const,
      registers: this.registers,
    }).set({ name: model.name, arch: model.arch }, 1);
  }

  /**
   * Counts in-flight requests at the HTTP server rather than in fastify hooks: a response's 'close'
   * fires once however the request ends (answered, timed out, client gone), where onResponse misses
   * an abandoned request and the gauge would drift upwards.
   */
  countInFlight(server: Server): void {
    server.on('request', (_request, response) => {
      this.inFlight++;
      response.once('close', () => this.inFlight--);
    });
  }

  countRows(rows: Prediction[]): void {
    for (const r of rows) {
      const result = r.error ? 'error' : r.faces ? 'faces' : r.face === 'none-found' ? 'no-face' : 'whole';
      this.images.inc({ result });
      if (r.faces) this.faces.inc(r.faces.length);
    }
  }
}
