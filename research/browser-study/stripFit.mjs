import sharp from 'sharp';
import { resizeFill, setReducevStrip } from './vipsResample.mjs';
if (process.env.CONC) sharp.concurrency(Number(process.env.CONC));
function randomImage(w, h, c, seed) { let s = seed >>> 0; const rnd = () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32); const data = new Uint8Array(w * h * c); for (let i = 0; i < data.length; i++) data[i] = Math.floor(rnd() * 256); return { data, width: w, height: h, channels: c }; }
const strips = [8, 16, 32];
const bad = Object.fromEntries(strips.map((s) => [s, 0]));
let cases = 0;
for (let k = 0; k < 1500; k++) {
  const W = 49 + ((k * 7919) % 900), H = 49 + ((k * 104729) % 900);
  const w = 48 + (k % 3) * 30, h = 48 + (k % 5) * 20;
  const c = k % 2 ? 3 : 1;
  const img = randomImage(W, H, 3, k + 1);
  const ref = (await sharp(img.data, { raw: { width: W, height: H, channels: 3 } }).resize(w, h, { fit: 'fill', kernel: k % 4 < 2 ? 'linear' : 'lanczos3' }).raw().toBuffer());
  cases++;
  for (const s of strips) {
    setReducevStrip(s);
    const a = resizeFill(img, w, h, k % 4 < 2 ? 'linear' : 'lanczos3');
    if (Buffer.compare(Buffer.from(a.data), ref) !== 0) bad[s]++;
  }
}
console.log('cases', cases, 'mismatching cases per strip height', bad);
