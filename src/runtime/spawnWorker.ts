import { Worker } from 'node:worker_threads';

/**
 * Starts a worker thread on the module next to the caller. Built code runs the .js directly.
 * From TypeScript sources (tests, tsx) Node 20 does not carry tsx's loader into workers, so a
 * one-line bootstrap loads the .ts through tsx's API instead.
 *
 * @param jsUrl the worker module, as `new URL('./x.js', import.meta.url)`
 * @param callerUrl the caller's `import.meta.url` (tells source runs from built ones)
 */
export function spawnWorker(jsUrl: URL, callerUrl: string): Worker {
  if (!callerUrl.endsWith('.ts')) return new Worker(jsUrl);
  const tsUrl = jsUrl.href.replace(/\.js$/, '.ts');
  const api = import.meta.resolve('tsx/esm/api');
  return new Worker(`import(${JSON.stringify(api)}).then((m) => m.tsImport(${JSON.stringify(tsUrl)}, ${JSON.stringify(callerUrl)}))`, { eval: true });
}
