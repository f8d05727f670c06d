import { existsSync } from 'node:fs';
import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import { packageRoot } from '../base/packageRoot.js';
import { ApiError } from './apiError.js';

/**
 * The page's folder: dist/page at the package root (web/ built by `npm run build`: its TypeScript
 * compiled over happysad/browser), found the same way from src/ (tsx) and dist/src/ (built).
 */
export function defaultWebRoot(): string {
  return join(packageRoot().dir, 'dist', 'page');
}

/**
 * The page at / and its files. @fastify/send resolves every path inside `root` and refuses `..`
 * (403), and dotfiles are hidden (404) rather than served as this plugin's default would. A
 * missing file falls through to the server's JSON 404. Without a built page the API still works,
 * and / says how to build the page.
 */
export async function registerStaticPage(app: FastifyInstance, root: string): Promise<void> {
  if (!existsSync(join(root, 'index.html'))) {
    app.get('/', async () => {
      throw new ApiError('not-found', `the page is not built (${join(root, 'index.html')} is missing); run \`npm run build\` in the happysad package. The API works meanwhile: POST /v1/predict, GET /v1/model.`);
    });
    return;
  }
  await app.register(fastifyStatic, {
    root,
    prefix: '/',
    index: ['index.html'],
    dotfiles: 'ignore',
    list: false,
    decorateReply: false,
    // The page changes with the package version; a short cache keeps reloads cheap without
    // leaving an old app.js against a new API for long.
    maxAge: 60_000,
  });
}
