// Decode one file in Chromium every way and compare with sharp:
//   node research/browser-study/oneDecode.mjs /shared/datasets/...png   (or /main/examples/...jpg)
import sharp from 'sharp';
import { launch, REPO, SHARED, startServer } from './harness.mjs';
const urlPath = process.argv[2];
const file = urlPath.replace(/^\/shared\//, SHARED).replace(/^\/main\//, REPO);
const { data: ref } = await sharp(file).rotate().flatten({ background: '#ffffff' }).toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
const { server, url } = await startServer();
const browser = await launch();
const page = await browser.newPage();
await page.goto(`${url}/decode.html`);
const got = await page.evaluate(([u]) => window.decodeAll(u, ['bitmap-none', 'bitmap-default']), [urlPath]);
for (const [mode, g] of Object.entries(got)) {
  const rgba = Buffer.from(g.rgba, 'base64');
  let max = 0, n = 0, sum = 0;
  for (let i = 0, j = 0; j < ref.length; i += 4, j += 3) for (let c = 0; c < 3; c++) { const d = Math.abs(rgba[i + c] - ref[j + c]); max = Math.max(max, d); sum += d; if (d) n++; }
  console.log(mode, 'max', max, 'mean', (sum / ref.length).toFixed(4), 'differing', (n / ref.length).toFixed(4));
}
await browser.close();
server.close();
