import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import { packageRoot } from '../base/packageRoot.js';

/** The page's folder: web/ at the package root, found the same way from src/ (tsx) and dist/src/ (built). */
export function defaultWebRoot(): string {
  return join(packageRoot().dir, 'web');
}

/**
 * The page at / and its files. @fastify/send resolves every path inside `root` and refuses `..`
 * (403), and dotfiles are hidden (404) rather than served as this plugin's default would. A
 * missing file falls through to the server's JSON 404.
 */
export async function registerStaticPage(app: FastifyInstance, root: string): Promise<void> {
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
