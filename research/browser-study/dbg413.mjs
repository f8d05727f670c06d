import sharp from 'sharp';
import { resizeFill } from '/work/scratch/browser-study/vipsResample.mjs';
function randomImage(w, h, c, seed) { let s = seed >>> 0; const rnd = () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32); const data = new Uint8Array(w * h * c); for (let i = 0; i < data.length; i++) data[i] = Math.floor(rnd() * 256); return { data, width: w, height: h, channels: c }; }
for (const [W,H,w,h] of [[413,413,413,48],[413,413,48,413],[413,413,48,48],[413,50,48,50],[50,413,50,48]]) {
  const img = randomImage(W, H, 3, 22);
  const a = resizeFill(img, w, h, 'linear');
  const { data } = await sharp(img.data, { raw: { width: W, height: H, channels: 3 } }).resize(w, h, { fit: 'fill', kernel: 'linear' }).raw().toBuffer({ resolveWithObject: true });
  const rows = new Set(), cols = new Set(); let n = 0;
  for (let i = 0; i < data.length; i++) if (data[i] !== a.data[i]) { n++; const p = Math.floor(i / 3); rows.add(Math.floor(p / w)); cols.add(p % w); }
  console.log(W,H,'->',w,h,'diff',n,'rows',[...rows].slice(0,10),'cols',[...cols].slice(0,10));
}
