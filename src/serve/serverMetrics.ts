import type { Prediction } from '../predict/classifier.js';
import { Counter, Gauge, Histogram, Registry } from './prometheus.js';
import type { WorkQueue } from './workQueue.js';

/** Latency buckets in seconds: a face model answers in ~0.3-1.5 s on two cores, a queue adds multiples of that. */
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/** What GET /metrics reports. Routes are the registered patterns, never raw URLs, so label sets stay small. */
export class ServerMetrics {
  readonly registry = new Registry();
  readonly requests = this.registry.add(new Counter('happysad_http_requests_total', 'HTTP requests answered, by method, route pattern and status.'));
  readonly latency = this.registry.add(new Histogram('happysad_http_request_duration_seconds', 'Time from request received to response sent, by route pattern.', LATENCY_BUCKETS));
  readonly errors = this.registry.add(new Counter('happysad_errors_total', 'Error responses by error code.'));
  readonly images = this.registry.add(new Counter('happysad_images_total', 'Images received by POST /v1/predict, by result: faces (at least one face found), no-face (a face model found none and classified the whole image), whole (classified whole by request or model), error.'));
  readonly faces = this.registry.add(new Counter('happysad_faces_found_total', 'Faces found and classified.'));

  constructor(queue: WorkQueue, model: { name: string; arch: string }) {
    this.registry.add(new Gauge('happysad_queue_depth', 'Predictions waiting for a free slot.', () => queue.depth));
    this.registry.add(new Gauge('happysad_queue_active', 'Predictions running now.', () => queue.active));
    this.registry.add(new Gauge('happysad_queue_limit', 'Configured slots (concurrency) and waiting places (queue).', () => [
      { labels: { kind: 'concurrency' }, value: queue.concurrency },
      { labels: { kind: 'queue' }, value: queue.maxWaiting },
    ]));
    this.registry.add(new Gauge('happysad_model_info', 'The model being served (value is always 1).', () => [{ labels: { name: model.name, arch: model.arch }, value: 1 }]));
    this.registry.add(new Gauge('process_resident_memory_bytes', 'Resident set size of the server process.', () => process.memoryUsage.rss()));
    const started = Date.now() / 1000;
    this.registry.add(new Gauge('process_start_time_seconds', 'When the server process started, seconds since the epoch.', () => started));
  }

  countRows(rows: Prediction[]): void {
    for (const r of rows) {
      const result = r.error ? 'error' : r.faces ? 'faces' : r.face === 'none-found' ? 'no-face' : 'whole';
      this.images.inc({ result });
      if (r.faces) this.faces.inc({}, r.faces.length);
    }
  }
}
