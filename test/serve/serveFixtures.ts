import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import sharp from 'sharp';
import { initEngine } from '../../src/engine/engine.js';
import { defaultPreprocessSpec } from '../../src/data/preprocessSpec.js';
import { getArchitecture } from '../../src/model/architectures.js';
import { BUNDLE_FORMAT, BUNDLE_FORMAT_VERSION, type BundleMetadata } from '../../src/model/bundleMetadata.js';
import { saveBundle } from '../../src/model/modelBundle.js';
import { createServer } from '../../src/serve/createServer.js';
import type { ServeOptions } from '../../src/serve/serveOptions.js';
import { tempDir } from '../fixtures/makeImages.js';

export const FACES_DIR = fileURLToPath(new URL('../../examples/', import.meta.url));

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

/** Parses Prometheus text into `name{labels}` → value, for assertions. */
export function parseMetrics(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    out.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return out;
}
