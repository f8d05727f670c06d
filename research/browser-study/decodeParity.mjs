// 1. Decode parity: headless Chromium (createImageBitmap / <img> / ImageDecoder, read back as RGBA)
// vs sharp's decode as decodeFullImage does it (.rotate().flatten(white).toColourspace('srgb').raw()).
// Run from the repo root:  node research/browser-study/decodeParity.mjs [--web N]   (writes research/browser-study/out/)
import sharp from 'sharp';
import { mkdirSync, readdirSync, writeFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { launch, REPO, SHARED, STUDY, startServer } from './harness.mjs';

const WHITE = [255, 255, 255];
const webLimit = Number(process.argv[process.argv.indexOf('--web') + 1] || 0) || 0;

// EXIF-orientation variants of one example photo: same pixels, tag 1..8.
const OUT = join(STUDY, 'out');
mkdirSync(join(OUT, 'oriented'), { recursive: true });
const src = join(REPO, 'examples/sad/KatrinaKaif_92.jpg'); // 193x409: non-square, so a wrong rotation changes the size
for (let o = 1; o <= 8; o++) await sharp(src).withMetadata({ orientation: o }).jpeg({ quality: 95 }).toFile(join(OUT, `oriented/o${o}.jpg`));

const files = [];
for (const k of ['happy', 'sad']) for (const f of readdirSync(join(REPO, `examples/${k}`))) files.push({ set: 'examples', path: join(REPO, `examples/${k}/${f}`), url: `/main/examples/${k}/${f}` });
for (let o = 1; o <= 8; o++) files.push({ set: 'oriented', path: join(OUT, `oriented/o${o}.jpg`), url: `/out/oriented/o${o}.jpg` });
if (webLimit) {
  const web = [];
  for (const k of ['happy', 'sad']) for (const f of readdirSync(join(SHARED, `datasets/web-happysad/${k}`))) web.push({ set: 'web', path: join(SHARED, `datasets/web-happysad/${k}/${f}`), url: `/shared/datasets/web-happysad/${k}/${encodeURIComponent(f)}` });
  web.sort((a, b) => a.path.localeCompare(b.path));
  // Every k-th file up to webLimit, skipping huge ones (the pipeline resizes those to 1600 anyway).
  const step = Math.max(1, Math.floor(web.length / webLimit));
  for (let i = 0; i < web.length && files.filter((f) => f.set === 'web').length < webLimit; i += step) {
    const m = await sharp(web[i].path).metadata();
    if (Math.max(m.width, m.height) <= 1600) files.push({ ...web[i], meta: `${m.format} ${m.chromaSubsampling ?? ''} ${m.icc ? 'icc' : ''} ${m.hasAlpha ? 'alpha' : ''} ${m.isProgressive ? 'prog' : ''}`.replace(/\s+/g, ' ').trim() });
  }
}

async function reference(path) {
  const { data, info } = await sharp(path).rotate().flatten({ background: { r: WHITE[0], g: WHITE[1], b: WHITE[2] } }).toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}
/** The browser's RGBA flattened onto white as plain JS would (alpha-weighted mean, rounded). */
function flattenRgba(rgba, bg = WHITE) {
  const n = rgba.length / 4;
  const out = new Uint8Array(n * 3);
  for (let i = 0; i < n; i++) {
    const a = rgba[4 * i + 3];
    for (let c = 0; c < 3; c++) out[3 * i + c] = a === 255 ? rgba[4 * i + c] : Math.round((rgba[4 * i + c] * a + bg[c] * (255 - a)) / 255);
  }
  return out;
}
function stats(a, b) {
  let max = 0, sum = 0, n = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (d > max) max = d;
    sum += d;
    if (d) n++;
  }
  return { max, mean: +(sum / a.length).toFixed(4), differing: +(n / a.length).toFixed(4) };
}

const { server, url } = await startServer();
const browser = await launch();
const page = await browser.newPage();
await page.goto(`${url}/decode.html`);
const MODES = ['bitmap-none', 'bitmap-default', 'img', 'imagedecoder'];
const rows = [];
for (const f of files) {
  const ref = await reference(f.path);
  let got;
  try {
    got = await page.evaluate(([u, m]) => window.decodeAll(u, m), [f.url, MODES]);
  } catch (err) {
    rows.push({ ...f, error: String(err).slice(0, 200) });
    continue;
  }
  const row = { set: f.set, file: f.path.split('/').slice(-2).join('/'), meta: f.meta, size: `${ref.width}x${ref.height}` };
  for (const mode of MODES) {
    const g = got[mode];
    if (g.error) {
      row[mode] = { error: g.error, mismatch: true, size: 'error' };
      continue;
    }
    const rgba = Buffer.from(g.rgba, 'base64');
    if (g.width !== ref.width || g.height !== ref.height) {
      row[mode] = { size: `${g.width}x${g.height}`, mismatch: true };
      continue;
    }
    row[mode] = { ...stats(flattenRgba(rgba), ref.data), ms: +g.ms.toFixed(1) };
  }
  rows.push(row);
  console.log(row.set, row.file, row.size, row.meta ?? '', MODES.map((m) => `${m}: ${row[m].mismatch ? 'SIZE ' + row[m].size : `max ${row[m].max} mean ${row[m].mean}`}`).join(' | '));
}
await browser.close();
server.close();

// Summary per set and mode.
const summary = {};
for (const set of ['examples', 'oriented', 'web']) {
  const rs = rows.filter((r) => r.set === set && !r.error);
  if (!rs.length) continue;
  summary[set] = { files: rs.length };
  for (const mode of MODES) {
    const ok = rs.filter((r) => !r[mode].mismatch);
    summary[set][mode] = {
      sizeMismatch: rs.length - ok.length,
      exact: ok.filter((r) => r[mode].max === 0).length,
      maxOfMax: Math.max(0, ...ok.map((r) => r[mode].max)),
      meanOfMean: +(ok.reduce((s, r) => s + r[mode].mean, 0) / Math.max(1, ok.length)).toFixed(4),
      medianMax: ok.map((r) => r[mode].max).sort((a, b) => a - b)[Math.floor(ok.length / 2)],
    };
  }
}
console.log(JSON.stringify(summary, null, 1));
writeFileSync(join(OUT, `decodeParity${webLimit ? '-web' : ''}.json`), JSON.stringify({ summary, rows }, null, 1));
