/**
 * The page as a static site that runs the default model on the device, with no happysad server:
 * for app builders who only want the client. Any static file host serves it as it is.
 *
 *   npm run build:web [-- OUT]     (default dist/web)
 *
 * OUT gets the page (index.html, app.js, style.css, examples/: buildPage.ts), lib/ (happysad/browser: happysad.js, .wasm,
 * faces/) and model/ (the bundle: happysad.json, model.json, weights.bin). It is replaced as a
 * whole, and only if it is absent, empty or an earlier build: nothing else is ever overwritten.
 */
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { replaceDirAtomic } from '../src/io/atomicWrite.js';
import { buildBrowserLibrary } from './buildBrowser.js';
import { writePage } from './buildPage.js';
import { assertReplaceableBuild } from './replaceableBuild.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** Marks a folder as this script's output, so a rebuild may replace it. */
const MARKER = '.happysad-web';

export async function buildStaticSite(out = join(root, 'dist', 'web'), modelDir = join(root, 'models', 'default')): Promise<string> {
  out = resolve(out);
  await assertReplaceableBuild(out, MARKER, 'happysad web build');
  await replaceDirAtomic(out, async (tmp) => {
    await writePage(tmp);
    await markStaticHost(join(tmp, 'index.html'));
    await buildBrowserLibrary(join(tmp, 'lib'));
    await mkdir(join(tmp, 'model'));
    for (const f of ['happysad.json', 'model.json', 'weights.bin']) await copyFile(join(modelDir, f), join(tmp, 'model', f));
    if (existsSync(join(modelDir, 'NOTICE.md'))) await copyFile(join(modelDir, 'NOTICE.md'), join(tmp, 'model', 'NOTICE.md'));
    await writeFile(join(tmp, MARKER), 'Built by `npm run build:web`; a rebuild replaces this folder.\n');
  });
  return out;
}

/** The page then skips its `GET v1/model` probe for a server, which a static host answers with a 404. */
async function markStaticHost(indexHtml: string): Promise<void> {
  const page = await readFile(indexHtml, 'utf8');
  const server = '<meta name="happysad-host" content="server">';
  if (!page.includes(server)) throw new Error(`${indexHtml} has no ${server} to mark as static`);
  await writeFile(indexHtml, page.replace(server, '<meta name="happysad-host" content="static">'));
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    const out = await buildStaticSite(process.argv[2]);
    console.log(`static site built in ${out}: serve that folder with any static file host (e.g. \`python3 -m http.server -d ${out}\`)`);
  } catch (err) {
    console.error(`build:web: ${(err as Error).message}`);
    process.exitCode = 1;
  }
}
