// Cost of giving up JPEG shrink-on-load in decodeFullImage (decode full size, then the same resize).
import sharp from 'sharp';
import { resizeInside } from './vipsResample.mjs';
const files = ['happy/7Y57w0983emdERAoQylUHIGkoEk1cIFvPkXDbeA2lVA.jpg', 'happy/dv2051009.jpg', 'sad/crying-at-work.jpg', 'sad/sad-man.jpg'].map((f) => `/work/shared/datasets/web-happysad/${f}`);
for (const f of files) {
  let t = performance.now();
  const a = await sharp(f).rotate().flatten({ background: '#fff' }).resize(1600, 1600, { fit: 'inside', withoutEnlargement: true }).toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  const tSol = performance.now() - t;
  t = performance.now();
  const full = await sharp(f).rotate().flatten({ background: '#fff' }).toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  const b = await sharp(full.data, { raw: { width: full.info.width, height: full.info.height, channels: 3 } }).resize(1600, 1600, { fit: 'inside', withoutEnlargement: true }).raw().toBuffer({ resolveWithObject: true });
  const tFull = performance.now() - t;
  t = performance.now();
  const js = resizeInside({ data: new Uint8Array(full.data), width: full.info.width, height: full.info.height, channels: 3 }, 1600, 1600, 'lanczos3');
  const tJs = performance.now() - t;
  let same = js.data.length === b.data.length; let max = 0;
  for (let i = 0; i < b.data.length; i++) { const d = Math.abs(js.data[i] - b.data[i]); if (d) same = false; max = Math.max(max, d); }
  let maxSol = 0, meanSol = 0; for (let i = 0; i < b.data.length; i++) { const d = Math.abs(a.data[i] - b.data[i]); maxSol = Math.max(maxSol, d); meanSol += d; }
  console.log(f.split('/').pop().slice(0, 24).padEnd(24), `${full.info.width}x${full.info.height}`, `shrink-on-load ${tSol.toFixed(0)} ms, full decode+resize ${tFull.toFixed(0)} ms, JS resize of full ${tJs.toFixed(0)} ms (JS==sharp(raw): ${same}, max ${max}); shrink-on-load vs full: max ${maxSol} mean ${(meanSol / b.data.length).toFixed(2)}`);
}
