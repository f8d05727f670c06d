import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import sharp from 'sharp';
import { initEngine } from '../src/engine/engine.js';
import { defaultPreprocessSpec } from '../src/input/preprocessSpec.js';
import { getArchitecture } from '../src/model/architectures.js';
import { BUNDLE_FORMAT, BUNDLE_FORMAT_VERSION, type BundleMetadata } from '../src/model/bundleMetadata.js';
import { saveBundle } from '../src/model/modelBundle.js';
import { createServer } from '../src/serve/createServer.js';
import type { ServeOptions } from '../src/serve/serveOptions.js';
import { tempDir } from './tempDir.js';
import { buildBrowserLibrary } from '../scripts/buildBrowser.js';
import { buildPage } from '../scripts/buildPage.js';

export const FACES_DIR = fileURLToPath(new URL('../examples/', import.meta.url));

/**
 * The page and happysad/browser built from the sources under test (not a possibly stale dist/),
 * into a folder of their own: what `happysad serve` serves at / and /lib/.
 */
export async function buildPageAndLibrary(): Promise<{ webRoot: string; libRoot: string }> {
  const dir = await tempDir('happysad-page-');
  const [webRoot, libRoot] = await Promise.all([buildPage(join(dir, 'page')), buildBrowserLibrary(join(dir, 'lib'))]);
  return { webRoot, libRoot };
}

/**
 * An untrained seed-a bundle at 32x32x3: serving does not care whether the weights are any good,
 * and building one takes milliseconds where training takes a minute. `faces` makes it a face
 * model (the detector is the real one, so boxes are real).
 */
export async function makeModel(options: { faces: boolean; name?: string }): Promise<string> {
  await initEngine();
  const dir = join(await tempDir('happysad-serve-'), 'model');
  const model = getArchitecture('seed-a').build({ input: [32, 32, 3], numClasses: 2, seed: 1 });
  const metadata: BundleMetadata = {
    format: BUNDLE_FORMAT, formatVersion: BUNDLE_FORMAT_VERSION, name: options.name ?? (options.faces ? 'test-face' : 'test-whole'), arch: 'seed-a',
    classes: ['happy', 'sad'], output: 'sigmoid', positiveClass: 'happy', threshold: 0.5,
    preprocessing: { ...defaultPreprocessSpec([32, 32, 3]), faces: options.faces ? { detector: 'ssd', margin: 0.2, align: true, minScore: 0.3 } : null },
    seed: 1, training: null, dataset: null, metrics: null, versions: {}, createdAt: new Date(0).toISOString(),
  };
  await saveBundle(dir, model, metadata);
  model.dispose();
  return dir;
}

export async function startServer(options: ServeOptions): Promise<{ app: FastifyInstance; url: string; port: number }> {
  const app = await createServer({ logger: false, ...options });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  if (!address || typeof address === 'string') throw new Error('server has no TCP address');
  return { app, url: `http://127.0.0.1:${address.port}`, port: address.port };
}

/** Bytes fetch and Blob accept as they are (a Buffer's type admits a SharedArrayBuffer, which they do not). */
export function bytes(data: Uint8Array): Uint8Array<ArrayBuffer> {
  return new Uint8Array(data);
}

export async function examplePhoto(kind: 'happy' | 'sad', file: string): Promise<Uint8Array<ArrayBuffer>> {
  return bytes(await readFile(join(FACES_DIR, kind, file)));
}

/** An example face placed on a 640x480 gray canvas: a webcam-sized frame with context around the face. */
export async function webcamFrame(format: 'jpeg' | 'raw' = 'jpeg'): Promise<{ data: Uint8Array<ArrayBuffer>; width: number; height: number }> {
  const face = await examplePhoto('happy', 'Kristanna_Loken_0001.jpg');
  const img = sharp({ create: { width: 640, height: 480, channels: 3, background: { r: 118, g: 124, b: 130 } } }).composite([{ input: Buffer.from(face), left: 145, top: 65 }]);
  const data = format === 'jpeg' ? await img.jpeg({ quality: 90 }).toBuffer() : await img.removeAlpha().raw().toBuffer();
  return { data: bytes(data), width: 640, height: 480 };
}

export type Labels = Record<string, string>;

/** One GET /metrics, parsed: series are found by their label set, whatever order the labels were written in. */
export interface Scrape {
  /** The value of the series of `name` with exactly these labels; undefined when it was not reported. */
  get(name: string, labels?: Labels): number | undefined;
  /** Every series of `name` (for a histogram, ask for `name_bucket`, `name_count` or `name_sum`). */
  series(name: string): Array<{ labels: Labels; value: number }>;
  /** The metric's `# TYPE` (counter, gauge, histogram, ...). */
  type(name: string): string | undefined;
}

const SAMPLE = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)/;
const LABEL = /([a-zA-Z_]\w*)="((?:[^"\\]|\\.)*)"/g;

/** Parses the Prometheus text exposition format, as far as the tests need it (no timestamps, no exemplars). */
export function parseMetrics(text: string): Scrape {
  const samples = new Map<string, Array<{ labels: Labels; value: number }>>();
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)/.exec(line);
    if (type) types.set(type[1], type[2]);
    const m = line.startsWith('#') ? null : SAMPLE.exec(line);
    if (!m) continue;
    const labels: Labels = {};
    for (const [, k, v] of (m[2] ?? '').matchAll(LABEL)) labels[k] = v.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    const value = m[3] === '+Inf' ? Infinity : m[3] === '-Inf' ? -Infinity : Number(m[3]);
    const series = samples.get(m[1]) ?? [];
    series.push({ labels, value });
    samples.set(m[1], series);
  }
  const sameLabels = (a: Labels, b: Labels) => Object.keys(a).length === Object.keys(b).length && Object.entries(b).every(([k, v]) => a[k] === v);
  return {
    get: (name, labels = {}) => samples.get(name)?.find((s) => sameLabels(s.labels, labels))?.value,
    series: (name) => samples.get(name) ?? [],
    type: (name) => types.get(name),
  };
}

export async function scrapeMetrics(url: string): Promise<Scrape> {
  const res = await fetch(`${url}/metrics`);
  if (res.status !== 200) throw new Error(`GET /metrics answered ${res.status}`);
  return parseMetrics(await res.text());
}
