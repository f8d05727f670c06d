import sharp from 'sharp';
import { resizeFill, setReducevStrip } from './vipsResample.mjs';
function randomImage(w, h, c, seed) { let s = seed >>> 0; const rnd = () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32); const data = new Uint8Array(w * h * c); for (let i = 0; i < data.length; i++) data[i] = Math.floor(rnd() * 256); return { data, width: w, height: h, channels: c }; }
setReducevStrip(16);
for (let k = 0; k < 1500; k++) {
  const W = 49 + ((k * 7919) % 900), H = 49 + ((k * 104729) % 900);
  const w = 48 + (k % 3) * 30, h = 48 + (k % 5) * 20;
  const kernel = k % 4 < 2 ? 'linear' : 'lanczos3';
  const img = randomImage(W, H, 3, k + 1);
  const ref = (await sharp(img.data, { raw: { width: W, height: H, channels: 3 } }).resize(w, h, { fit: 'fill', kernel }).raw().toBuffer());
  const a = resizeFill(img, w, h, kernel);
  let n = 0, max = 0; const rows = new Set(), cols = new Set();
  for (let i = 0; i < ref.length; i++) if (ref[i] !== a.data[i]) { n++; max = Math.max(max, Math.abs(ref[i] - a.data[i])); const p = Math.floor(i / 3); rows.add(Math.floor(p / w)); cols.add(p % w); }
  if (n) console.log(k, kernel, W, H, '->', w, h, 'n', n, 'max', max, 'rows', [...rows].slice(0, 8), 'cols', [...cols].slice(0, 8));
}
