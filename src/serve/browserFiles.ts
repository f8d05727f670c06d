import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { packageRoot } from '../base/packageRoot.js';
import { defaultModelDir } from '../model/defaultModel.js';
import { METADATA_FILE, MODEL_FILE } from '../model/modelBundle.js';
import { ApiError } from './apiError.js';

/** The browser build (happysad.js, its .wasm files, faces/): dist/browser at the package root, made by `npm run build`. */
export function defaultLibRoot(): string {
  return join(packageRoot().dir, 'dist', 'browser');
}

/**
 * The library is not content-addressed, so caches keep it briefly and revalidate by ETag after
 * an upgrade; a model's files can change under the same name when the server is restarted on
 * another bundle, so they are always revalidated (a 304 costs nothing).
 */
const LIB_CACHE = 'public, max-age=300';
const MODEL_CACHE = 'no-cache';

/**
 * GET /lib/* serves happysad/browser, GET /v1/model/files/<name> the served bundle's own files
 * (happysad.json, model.json and the weight files it names; nothing else in its folder), so a page
 * can run the model on the device with the server's exact bundle, and GET /model/<name> the
 * package's default model.
 */
export async function registerBrowserFiles(app: FastifyInstance, libRoot: string, bundleDir: string | undefined): Promise<void> {
  if (existsSync(join(libRoot, 'happysad.js'))) {
    await app.register(fastifyStatic, {
      root: libRoot,
      prefix: '/lib/',
      dotfiles: 'ignore',
      list: false,
      decorateReply: false,
      index: false,
      cacheControl: false,
      setHeaders: (reply) => {
        reply.header('cache-control', LIB_CACHE);
      },
    });
  } else {
    app.get('/lib/*', async () => {
      throw new ApiError('not-found', `the browser build is missing (${join(libRoot, 'happysad.js')}); run \`npm run build\` in the happysad package (the page at / runs on it; the API works meanwhile).`);
    });
  }

  // Read once, at start: the files must be the bundle this server loaded, even if its folder is
  // replaced on disk while it runs.
  const files = bundleDir ? await readBundleFiles(bundleDir) : new Map<string, ServedFile>();
  app.get<{ Params: { name: string } }>('/v1/model/files/:name', async (request, reply) => {
    if (!bundleDir) throw new ApiError('not-found', 'this server was given a model in memory, not a bundle folder, so it has no model files to serve; use the page in server mode');
    return sendModelFile(files, request.params.name, request.headers['if-none-match'], reply);
  });

  // The package's default model beside /lib/, where happysad/browser's loadModel() with no URL
  // looks (../model/ from the library, as in a static build), whichever model this server runs.
  const defaultDir = defaultModelDir();
  const defaults = existsSync(join(defaultDir, METADATA_FILE)) ? await readBundleFiles(defaultDir) : new Map<string, ServedFile>();
  app.get<{ Params: { name: string } }>('/model/:name', async (request, reply) => {
    if (defaults.size === 0) throw new ApiError('not-found', `the default model is not installed (${join(defaultDir, METADATA_FILE)} is missing); reinstall happysad`);
    return sendModelFile(defaults, request.params.name, request.headers['if-none-match'], reply);
  });
}

interface ServedFile {
  body: Buffer;
  etag: string;
}

async function readBundleFiles(dir: string): Promise<Map<string, ServedFile>> {
  const files = new Map<string, ServedFile>();
  for (const name of await bundleFiles(dir)) {
    const body = await readFile(join(dir, name));
    files.set(name, { body, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"` });
  }
  return files;
}

function sendModelFile(files: Map<string, ServedFile>, name: string, ifNoneMatch: string | undefined, reply: FastifyReply): FastifyReply {
  const file = files.get(name);
  if (!file) throw new ApiError('not-found', `no model file "${name}": the files are ${[...files.keys()].join(', ')}`);
  reply.header('cache-control', MODEL_CACHE).header('etag', file.etag).type(name.endsWith('.json') ? 'application/json; charset=utf-8' : 'application/octet-stream');
  if (ifNoneMatch === file.etag) return reply.code(304).send();
  return reply.send(file.body);
}

/** happysad.json, model.json and the weight files model.json names: what loadModel(url) fetches. */
async function bundleFiles(dir: string): Promise<Set<string>> {
  const files = new Set([METADATA_FILE, MODEL_FILE]);
  const modelJson = JSON.parse(await readFile(join(dir, MODEL_FILE), 'utf8')) as { weightsManifest?: { paths?: string[] }[] };
  for (const group of modelJson.weightsManifest ?? []) for (const p of group.paths ?? []) if (p === basename(p)) files.add(p);
  return files;
}
