// A tiny static server on 127.0.0.1 (cross-origin isolated: COOP + COEP, so SharedArrayBuffer and
// wasm threads work) and Debian's Chromium through playwright-core. Never downloads a browser.
import http from 'node:http';
import { createReadStream, statSync } from 'node:fs';
import { dirname, extname, join, normalize, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.json': 'application/json', '.wasm': 'application/wasm', '.bin': 'application/octet-stream', '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.png': 'image/png', '.webp': 'image/webp', '.gif': 'image/gif', '.y4m': 'application/octet-stream' };
// Paths follow the checkout this file is in (any worktree): /main/ is the repo, /shared/ the datasets
// folder beside it (HAPPYSAD_SHARED to override), / this study folder.
export const STUDY = dirname(fileURLToPath(import.meta.url)) + '/';
export const REPO = resolve(STUDY, '../..') + '/';
export const SHARED = resolve(process.env.HAPPYSAD_SHARED ?? join(REPO, '../shared')) + '/';
const ROOTS = { '/main/': REPO, '/shared/': SHARED, '/': STUDY };

export function startServer({ isolated = true } = {}) {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    const path = decodeURIComponent(url.pathname);
    const prefix = Object.keys(ROOTS).find((p) => path.startsWith(p));
    const file = normalize(join(ROOTS[prefix], path.slice(prefix.length)));
    if (!file.startsWith(ROOTS[prefix])) return void res.writeHead(403).end();
    let st;
    try {
      st = statSync(file);
    } catch {
      if (process.env.LOG404) console.log('404', path);
      return void res.writeHead(404).end();
    }
    if (!st.isFile()) return void res.writeHead(404).end();
    const headers = { 'content-type': TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream', 'content-length': st.size, 'cache-control': 'no-store' };
    if (isolated) Object.assign(headers, { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp', 'cross-origin-resource-policy': 'same-origin' });
    if (process.env.LOGREQ) console.log('GET', path);
    res.writeHead(200, headers);
    createReadStream(file).pipe(res);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, url: `http://127.0.0.1:${server.address().port}` })));
}

export const BASE_ARGS = ['--headless', '--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

export async function launch(extraArgs = ['--disable-gpu']) {
  return chromium.launch({ executablePath: process.env.HAPPYSAD_CHROMIUM ?? '/usr/bin/chromium', args: [...BASE_ARGS, ...extraArgs] });
}
