/**
 * Builds the page (web/): its static files as they are, and web/app.ts bundled by esbuild into
 * app.js. The page is written against happysad/browser: its imports of src/browser/index.ts stay
 * an import of ./lib/happysad.js, the library built beside it (by buildBrowser.ts), so the page
 * runs the library's code rather than a second copy of it.
 *
 *   node --import tsx scripts/buildPage.ts [OUT]     (default dist/page, which `happysad serve` serves; npm run build runs it)
 */
import { cp, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'esbuild';
import { replaceDirAtomic } from '../src/io/atomicWrite.js';
import { assertReplaceableBuild } from './replaceableBuild.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const WEB = join(root, 'web');
const LIBRARY_ENTRY = join(root, 'src', 'browser', 'index.ts');
/** Where the page finds the library: lib/ beside index.html, under `happysad serve` and in a static build. */
export const PAGE_LIBRARY_IMPORT = './lib/happysad.js';

/**
 * The library's entry becomes an import of the built library; any other path into src/ is refused,
 * so the page cannot bundle its own copy of something the library has (or lacks: export it there).
 */
const libraryAsImport: Plugin = {
  name: 'happysad-browser-as-import',
  setup(b) {
    b.onResolve({ filter: /^\.\.?\// }, (args) => {
      const target = resolve(args.resolveDir, args.path).replace(/\.js$/, '.ts');
      if (target === LIBRARY_ENTRY) return { path: PAGE_LIBRARY_IMPORT, external: true };
      if (!target.startsWith(`${WEB}/`)) {
        return { errors: [{ text: `${relative(root, args.importer)} imports ${args.path}: the page may import only happysad/browser (src/browser/index.ts) and its own files in web/; export what it needs from src/browser/index.ts` }] };
      }
      return undefined;
    });
  },
};

/** Marks a folder as this script's output, so a rebuild may replace it. */
const MARKER = '.happysad-page';

/** Writes the page into `dir`, an empty folder (buildStaticSite fills its site with it). */
export async function writePage(dir: string): Promise<void> {
  // The page's sources are compiled below, not served.
  await cp(WEB, dir, { recursive: true, filter: (src) => !src.endsWith('.ts') });
  await build({
    entryPoints: [join(WEB, 'app.ts')],
    outfile: join(dir, 'app.js'),
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: ['chrome110', 'firefox115', 'safari16'],
    minifySyntax: true,
    sourcemap: false,
    logLevel: 'warning',
    plugins: [libraryAsImport],
  });
}

/**
 * The page in `out`, replaced as a whole, and only if it is absent, empty or an earlier build:
 * nothing else is ever overwritten.
 */
export async function buildPage(out = join(root, 'dist', 'page')): Promise<string> {
  out = resolve(out);
  await assertReplaceableBuild(out, MARKER, 'happysad page build');
  await replaceDirAtomic(out, async (tmp) => {
    await writePage(tmp);
    await writeFile(join(tmp, MARKER), 'Built by scripts/buildPage.ts (npm run build); a rebuild replaces this folder.\n');
  });
  return out;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    const out = await buildPage(process.argv[2] ? resolve(process.argv[2]) : undefined);
    console.log(`the page built in ${out}`);
  } catch (err) {
    console.error(`buildPage: ${(err as Error).message}`);
    process.exitCode = 1;
  }
}
