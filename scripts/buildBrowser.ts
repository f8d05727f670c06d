/**
 * Builds happysad/browser: src/browser/index.ts bundled by esbuild with TensorFlow.js and its wasm
 * backend into one ES module, beside the .wasm binaries and the BlazeFace nets it loads at run time.
 *
 *   node --import tsx scripts/buildBrowser.ts [OUT]     (default dist/browser; npm run build runs it)
 */
import { copyFile, mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** The wasm binaries tfjs-backend-wasm picks from at run time (plain, SIMD, threaded SIMD). */
export const WASM_FILES = ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm-threaded-simd.wasm'];
export const FACE_FILES = ['blazeface-back.json', 'blazeface-back.bin', 'blazeface-front.json', 'blazeface-front.bin'];

export async function buildBrowserLibrary(out = join(root, 'dist', 'browser')): Promise<string> {
  await mkdir(join(out, 'faces'), { recursive: true });
  await build({
    entryPoints: [join(root, 'src', 'browser', 'index.ts')],
    outfile: join(out, 'happysad.js'),
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: ['chrome110', 'firefox115', 'safari16'],
    // Whitespace and syntax only: tfjs-backend-wasm starts its threads from the *source text* of its
    // emscripten factory (Function.toString into a worker blob), which breaks once identifiers are
    // renamed or wrapped (keepNames), so names stay as written. That also keeps error class names
    // (ImageError, BundleError) that callers test and users read.
    minifyWhitespace: true,
    minifySyntax: true,
    // No source map: 6.8 MB pointing at src/*.ts, which the package does not ship.
    sourcemap: false,
    legalComments: 'linked',
    logLevel: 'warning',
    // tfjs-backend-wasm's emscripten glue mentions Node modules behind runtime checks it never takes in a page.
    external: ['fs', 'path', 'worker_threads', 'perf_hooks', 'os', 'crypto'],
  });
  const wasmDir = dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));
  for (const f of WASM_FILES) await copyFile(join(wasmDir, f), join(out, f));
  for (const f of FACE_FILES) await copyFile(join(root, 'models', 'faces', f), join(out, 'faces', f));
  await copyFile(join(root, 'models', 'faces', 'NOTICE.md'), join(out, 'faces', 'NOTICE.md'));
  return out;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const out = await buildBrowserLibrary(process.argv[2] ? resolve(process.argv[2]) : undefined);
  console.log(`happysad/browser built in ${out}`);
}
