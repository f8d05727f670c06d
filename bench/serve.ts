/**
 * node --import tsx bench/serve.ts [--json] [--model DIR] [--duration 15] [--connections 1,8,64]
 *                                  [--overload-seconds 15] [--overload-factor 4]
 *                                  [--server-concurrency N] [--server-queue N]
 *
 * Load-tests `happysad serve` on loopback with autocannon, posting one 640x480 JPEG (an example
 * face placed on a plain backdrop, a webcam-sized frame) to POST /v1/predict:
 *   1. requests/s and p50/p99 latency at each connection count (2xx and 503 timed separately:
 *      a fast 503 would otherwise flatter the percentiles);
 *   2. overload: open-loop arrivals at --overload-factor x the sustainable rate (the best 2xx rate
 *      at a connection count that shed nothing), each request sent on schedule whether or not
 *      earlier ones were answered, as independent clients would (autocannon's connections wait
 *      for their answer, so a slow server would quietly lower its arrival rate); the server should
 *      shed the excess as 503 + Retry-After, quickly, and keep answering the rest;
 *   3. recovery: once the queue has drained, one connection again, compared with step 1;
 * with the server's RSS before, at its peak during overload, and after.
 *
 * The server runs in a child process (this file with --child) so the load generator does not
 * share its event loop. Without --model it serves models/default when present, else an untrained
 * seed-a face model at 128x128 (per-request cost is the face detector's and the architecture's,
 * not the weights').
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import sharp from 'sharp';

const { values } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    child: { type: 'boolean', default: false },
    model: { type: 'string' },
    duration: { type: 'string', default: '15' },
    connections: { type: 'string', default: '1,8,64' },
    'overload-seconds': { type: 'string', default: '15' },
    'overload-factor': { type: 'string', default: '4' },
    'server-concurrency': { type: 'string' },
    'server-queue': { type: 'string' },
  },
});

const root = fileURLToPath(new URL('..', import.meta.url));

/** The server side: listen on a free port and say which on stdout. */
async function runChild(): Promise<void> {
  const { createServer } = await import('../src/serve/createServer.js');
  const app = await createServer({
    model: values.model!,
    logger: false,
    concurrency: values['server-concurrency'] ? Number(values['server-concurrency']) : undefined,
    queue: values['server-queue'] ? Number(values['server-queue']) : undefined,
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  console.log(`READY ${typeof address === 'object' && address ? address.port : 0}`);
  process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
}

// ------------------------------------------------------------------ load generator side

interface AutocannonInstance {
  on(event: 'response', fn: (client: unknown, status: number, bytes: number, ms: number) => void): void;
  then: Promise<AutocannonResult>['then'];
}
interface AutocannonResult {
  duration: number;
  errors: number;
  timeouts: number;
  non2xx: number;
  statusCodeStats: Record<string, { count: number }>;
}
// autocannon ships no types; this is the part of its API used here.
const autocannon = createRequire(import.meta.url)('autocannon') as (opts: Record<string, unknown>) => AutocannonInstance;

interface Phase {
  phase: string;
  /** Concurrent connections (closed loop), or 'open' for scheduled arrivals. */
  connections: number | 'open';
  rate?: number;
  seconds: number;
  ok_per_s: number;
  shed_per_s: number;
  ok: number;
  shed: number;
  other: number;
  errors: number;
  p50_ms: number | null;
  p99_ms: number | null;
  shed_p50_ms: number | null;
  shed_p99_ms: number | null;
  rss_mb: number;
  rss_peak_mb?: number;
  /** Open loop only: the most requests seen waiting in the server's queue. */
  queue_peak?: number;
}

async function runBench(): Promise<void> {
  const model = values.model ?? (existsSync(join(root, 'models/default/happysad.json')) ? join(root, 'models/default') : await untrainedFaceModel());
  const photo = await webcamSizedPhoto();
  const server = await startChild(model);
  const url = `http://127.0.0.1:${server.port}/v1/predict`;
  const metricsUrl = `http://127.0.0.1:${server.port}/metrics`;
  const out: Phase[] = [];
  const emit = (p: Phase) => {
    out.push(p);
    if (values.json) console.log(JSON.stringify(p));
    else console.error(`  ${p.phase} c=${p.connections}: ${p.ok_per_s.toFixed(2)} ok/s, ${p.shed} shed`);
  };
  try {
    const meta = await (await fetch(`http://127.0.0.1:${server.port}/v1/model`)).json() as { name: string; arch: string; preprocessing: { faces?: unknown } };
    const first = await (await fetch(url, { method: 'POST', body: new Uint8Array(photo) })).json() as { results: { faces?: unknown[] }[] };
    const info = { model: model, name: meta.name, arch: meta.arch, face_model: Boolean(meta.preprocessing.faces), faces_in_photo: first.results[0].faces?.length ?? 0, photo_bytes: photo.length, cores: (await import('node:os')).availableParallelism() };
    if (values.json) console.log(JSON.stringify({ phase: 'setup', ...info }));
    else console.error(`serving ${info.name} (${info.arch}${info.face_model ? ', face model' : ''}) from ${model}; photo 640x480 JPEG ${photo.length} bytes, ${info.faces_in_photo} face(s) found`);
    const rssStart = rssMb(server.pid);

    const duration = Number(values.duration);
    for (const c of values.connections.split(',').map(Number)) {
      emit(await load(url, photo, { phase: 'steady', connections: c, seconds: duration, pid: server.pid }));
      await drained(metricsUrl);
    }
    // Sustainable = the best 2xx rate seen without shedding (falling back to the best at all).
    const steady = out.filter((p) => p.phase === 'steady');
    const clean = steady.filter((p) => p.shed === 0);
    const sustainable = Math.max(...(clean.length ? clean : steady).map((p) => p.ok_per_s));
    const rate = Math.max(1, Math.ceil(sustainable * Number(values['overload-factor'])));
    const overload = await openLoop(url, metricsUrl, photo, { seconds: Number(values['overload-seconds']), rate, pid: server.pid });
    emit(overload);
    const drainMs = await drained(metricsUrl);
    const recovery = await load(url, photo, { phase: 'recovery', connections: 1, seconds: Math.min(duration, 5), pid: server.pid });
    emit(recovery);
    const baseline = steady.find((p) => p.connections === 1) ?? steady[0];
    const summary = {
      phase: 'summary',
      sustainable_ok_per_s: round(sustainable),
      overload_rate: rate,
      overload_ok_per_s: overload.ok_per_s,
      overload_shed_fraction: round(overload.shed / Math.max(1, overload.ok + overload.shed + overload.other)),
      overload_shed_p99_ms: overload.shed_p99_ms,
      overload_ok_p99_ms: overload.p99_ms,
      overload_queue_peak: overload.queue_peak,
      drain_ms: drainMs,
      recovered: recovery.shed === 0 && recovery.errors === 0 && recovery.p50_ms !== null && baseline.p50_ms !== null && recovery.p50_ms <= baseline.p50_ms * 1.5,
      recovery_p50_ms: recovery.p50_ms,
      baseline_p50_ms: baseline.p50_ms,
      rss_start_mb: rssStart,
      rss_peak_mb: Math.max(...out.map((p) => p.rss_peak_mb ?? p.rss_mb)),
      rss_end_mb: rssMb(server.pid),
    };
    if (values.json) console.log(JSON.stringify(summary));
    else printTable(out, summary);
  } finally {
    server.child.kill('SIGTERM');
  }
}

async function load(url: string, body: Buffer, o: { phase: string; connections: number; seconds: number; rate?: number; pid: number }): Promise<Phase> {
  const ok: number[] = [];
  const shed: number[] = [];
  let other = 0;
  let peak = rssMb(o.pid);
  const sampler = setInterval(() => (peak = Math.max(peak, rssMb(o.pid))), 250);
  const instance = autocannon({
    url, method: 'POST', body, headers: { 'content-type': 'image/jpeg' },
    connections: o.connections, duration: o.seconds, timeout: 60,
    ...(o.rate ? { overallRate: o.rate } : {}),
  });
  instance.on('response', (_client, status, _bytes, ms) => {
    if (status >= 200 && status < 300) ok.push(ms);
    else if (status === 503) shed.push(ms);
    else other++;
  });
  const result = await instance;
  clearInterval(sampler);
  const seconds = result.duration || o.seconds;
  return {
    phase: o.phase, connections: o.connections, ...(o.rate ? { rate: o.rate } : {}), seconds: round(seconds),
    ok_per_s: round(ok.length / seconds), shed_per_s: round(shed.length / seconds), ok: ok.length, shed: shed.length, other,
    errors: result.errors + result.timeouts,
    p50_ms: percentile(ok, 0.5), p99_ms: percentile(ok, 0.99), shed_p50_ms: percentile(shed, 0.5), shed_p99_ms: percentile(shed, 0.99),
    rss_mb: rssMb(o.pid), rss_peak_mb: Math.max(peak, rssMb(o.pid)),
  };
}

/** Sends `rate` requests a second for `seconds`, on schedule, then waits for the last answers. */
async function openLoop(url: string, metricsUrl: string, body: Buffer, o: { seconds: number; rate: number; pid: number }): Promise<Phase> {
  const ok: number[] = [];
  const shed: number[] = [];
  let other = 0;
  let errors = 0;
  let peak = rssMb(o.pid);
  let queuePeak = 0;
  const sampler = setInterval(() => {
    peak = Math.max(peak, rssMb(o.pid));
    fetch(metricsUrl).then((r) => r.text()).then((t) => (queuePeak = Math.max(queuePeak, Number(/^happysad_queue_depth (\S+)/m.exec(t)?.[1] ?? 0))), () => {});
  }, 250);
  const pending = new Set<Promise<void>>();
  const start = performance.now();
  for (let sent = 0; sent < o.seconds * o.rate; sent++) {
    const wait = start + (sent * 1000) / o.rate - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const t0 = performance.now();
    const request: Promise<void> = fetch(url, { method: 'POST', body: new Uint8Array(body), headers: { 'content-type': 'image/jpeg' }, signal: AbortSignal.timeout(60_000) })
      .then(async (res) => {
        await res.arrayBuffer();
        const ms = performance.now() - t0;
        if (res.ok) ok.push(ms);
        else if (res.status === 503) shed.push(ms);
        else other++;
      })
      .catch(() => void errors++)
      .finally(() => pending.delete(request));
    pending.add(request);
  }
  await Promise.all(pending);
  clearInterval(sampler);
  const seconds = (performance.now() - start) / 1000;
  return {
    phase: 'overload', connections: 'open', rate: o.rate, seconds: round(seconds),
    ok_per_s: round(ok.length / seconds), shed_per_s: round(shed.length / seconds), ok: ok.length, shed: shed.length, other, errors,
    p50_ms: percentile(ok, 0.5), p99_ms: percentile(ok, 0.99), shed_p50_ms: percentile(shed, 0.5), shed_p99_ms: percentile(shed, 0.99),
    rss_mb: rssMb(o.pid), rss_peak_mb: Math.max(peak, rssMb(o.pid)), queue_peak: queuePeak,
  };
}

/** Waits until the server's queue is empty and nothing runs (autocannon cuts in-flight requests at the end). */
async function drained(metricsUrl: string): Promise<number> {
  const started = Date.now();
  for (;;) {
    const text = await (await fetch(metricsUrl)).text();
    const depth = Number(/^happysad_queue_depth (\S+)/m.exec(text)?.[1]);
    const active = Number(/^happysad_queue_active (\S+)/m.exec(text)?.[1]);
    if (depth === 0 && active === 0) return Date.now() - started;
    if (Date.now() - started > 120_000) throw new Error('the server did not drain its queue within 2 minutes');
    await new Promise((r) => setTimeout(r, 100));
  }
}

function startChild(model: string): Promise<{ child: ChildProcess; port: number; pid: number }> {
  const args = ['--import', 'tsx', fileURLToPath(import.meta.url), '--child', '--model', model];
  if (values['server-concurrency']) args.push('--server-concurrency', values['server-concurrency']);
  if (values['server-queue']) args.push('--server-queue', values['server-queue']);
  const child = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.setEncoding('utf8').on('data', (c: string) => {
      out += c;
      const m = /READY (\d+)/.exec(out);
      if (m) resolve({ child, port: Number(m[1]), pid: child.pid! });
    });
    child.on('exit', (code) => reject(new Error(`server exited (${code}) before it was ready`)));
  });
}

async function untrainedFaceModel(): Promise<string> {
  const { initEngine } = await import('../src/engine/engine.js');
  const { defaultPreprocessSpec } = await import('../src/input/preprocessSpec.js');
  const { getArchitecture } = await import('../src/model/architectures.js');
  const { BUNDLE_FORMAT, BUNDLE_FORMAT_VERSION } = await import('../src/model/bundleMetadata.js');
  const { saveBundle } = await import('../src/model/modelBundle.js');
  await initEngine();
  const dir = join(await mkdtemp(join(tmpdir(), 'happysad-bench-')), 'model');
  const model = getArchitecture('seed-a').build({ input: [128, 128, 3], numClasses: 2, seed: 1 });
  await saveBundle(dir, model, {
    format: BUNDLE_FORMAT, formatVersion: BUNDLE_FORMAT_VERSION, name: 'untrained-seed-a-face', arch: 'seed-a', classes: ['happy', 'sad'], output: 'sigmoid',
    positiveClass: 'happy', threshold: 0.5, preprocessing: { ...defaultPreprocessSpec([128, 128, 3]), faces: { detector: 'blazeface', margin: 0.2, align: true, minScore: 0.5 } },
    seed: 1, training: null, dataset: null, metrics: null, versions: {}, createdAt: new Date().toISOString(),
  });
  model.dispose();
  return dir;
}

async function webcamSizedPhoto(): Promise<Buffer> {
  const face = await readFile(join(root, 'examples/happy/Kristanna_Loken_0001.jpg'));
  return sharp({ create: { width: 640, height: 480, channels: 3, background: { r: 118, g: 124, b: 130 } } })
    .composite([{ input: face, left: 145, top: 65 }])
    .jpeg({ quality: 90 })
    .toBuffer();
}

function rssMb(pid: number): number {
  try {
    const kb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
    return Math.round(kb / 1024);
  } catch {
    return NaN;
  }
}

function percentile(xs: number[], q: number): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  return round(s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)]);
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}

function printTable(rows: Phase[], summary: Record<string, unknown>): void {
  const head = ['phase', 'conns', 'rate/s', 'ok/s', 'p50 ms', 'p99 ms', '503/s', '503 p99 ms', 'other', 'errors', 'RSS MB', 'peak MB'];
  const cells = rows.map((p) => [p.phase, p.connections, p.rate ?? '-', p.ok_per_s, p.p50_ms ?? '-', p.p99_ms ?? '-', p.shed_per_s, p.shed_p99_ms ?? '-', p.other, p.errors, p.rss_mb, p.rss_peak_mb ?? '-'].map(String));
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  console.log(line(head));
  for (const r of cells) console.log(line(r));
  console.log('');
  for (const [k, v] of Object.entries(summary)) if (k !== 'phase') console.log(`${k.padEnd(24)} ${v}`);
}

// Last, so that every declaration above is initialised before either side runs.
if (values.child) await runChild();
else await runBench();
