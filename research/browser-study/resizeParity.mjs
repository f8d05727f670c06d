// Bit-parity of vipsResample.mjs against sharp on synthetic and real images.
// Run: node resizeParity.mjs   (from /work/scratch/browser-study; node_modules -> /work/main/node_modules)
import sharp from 'sharp';
import { readdirSync } from 'node:fs';
import { resizeFill, srgbToGray, toModelInput } from './vipsResample.mjs';

sharp.concurrency(1);

function diff(a, b) {
  if (a.length !== b.length) return { max: Infinity, mean: Infinity, n: 0 };
  let max = 0, sum = 0, n = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (d > max) max = d;
    sum += d;
    if (d) n++;
  }
  return { max, mean: sum / a.length, n, frac: n / a.length };
}

async function sharpResize(img, w, h, kernel, gray = false) {
  let s = sharp(img.data, { raw: { width: img.width, height: img.height, channels: img.channels } }).resize(w, h, { fit: 'fill', kernel });
  if (gray) s = s.grayscale();
  const { data, info } = await s.raw().toBuffer({ resolveWithObject: true });
  // A 1-band raw input comes back as sRGB (3 equal bands) unless grayscale() was asked: keep band 0.
  if (img.channels === 1 && info.channels === 3) return { data: Uint8Array.from({ length: info.width * info.height }, (_, i) => data[3 * i]), width: info.width, height: info.height, channels: 1 };
  return { data: new Uint8Array(data), width: info.width, height: info.height, channels: info.channels };
}

// Smooth-ish random image (a real photo's statistics matter less than coverage of values).
function randomImage(w, h, c, seed) {
  let s = seed >>> 0;
  const rnd = () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
  const data = new Uint8Array(w * h * c);
  for (let i = 0; i < data.length; i++) data[i] = Math.floor(rnd() * 256);
  return { data, width: w, height: h, channels: c };
}

const report = { synthetic: [], gray: null, crops: [] };
const summary = (name, rows) => {
  const max = Math.max(...rows.map((r) => r.max));
  const exact = rows.filter((r) => r.max === 0).length;
  const meanFrac = rows.reduce((s, r) => s + (r.frac ?? 0), 0) / rows.length;
  console.log(`${name}: ${rows.length} cases, ${exact} bit-exact, worst max |d| ${max}, mean fraction of differing values ${meanFrac.toExponential(2)}`);
  return { name, cases: rows.length, exact, worstMax: max, meanFrac };
};

// 1. grayscale alone, every RGB triple on a grid plus random
{
  const img = randomImage(256, 256, 3, 7);
  const { data } = await sharp(img.data, { raw: { width: 256, height: 256, channels: 3 } }).grayscale().raw().toBuffer({ resolveWithObject: true });
  const d = diff(srgbToGray(img).data, data);
  console.log('grayscale (65536 random RGB):', d);
  report.gray = d;
}

// 2. resize, synthetic, many sizes
for (const kernel of ['linear', 'lanczos3']) {
  for (const channels of [1, 3]) {
    const rows = [];
    let seed = 1;
    for (const [w, h, tw, th] of [
      [250, 250, 48, 48], [96, 96, 48, 48], [100, 100, 48, 48], [97, 97, 48, 48], [49, 49, 48, 48], [30, 30, 48, 48], [40, 40, 48, 48], [47, 47, 48, 48],
      [640, 480, 109, 82], [640, 480, 256, 192], [640, 480, 85, 64], [350, 350, 109, 109], [193, 203, 103, 109], [193, 203, 243, 256], [1000, 800, 48, 48],
      [333, 333, 48, 48], [512, 512, 48, 48], [144, 144, 48, 48], [200, 120, 48, 48], [61, 61, 48, 48], [1600, 1200, 256, 192], [413, 413, 48, 48],
    ]) {
      const img = randomImage(w, h, channels, seed++);
      const a = resizeFill(img, tw, th, kernel);
      const b = await sharpResize(img, tw, th, kernel);
      const d = diff(a.data, b.data);
      rows.push({ w, h, tw, th, ...d, size: `${a.width}x${a.height} vs ${b.width}x${b.height}` });
      if (d.max > 0) console.log(`  ${kernel} c${channels} ${w}x${h}->${tw}x${th}: max ${d.max} mean ${d.mean.toFixed(4)} differing ${d.n}/${a.data.length}`);
    }
    report.synthetic.push(summary(`resize ${kernel} ${channels}ch`, rows));
  }
}

// 3. real: random square crops of the example photos (as cropFace makes), grayscale + 48x48 linear
{
  const rows = [];
  const dirs = ['/work/main/examples/happy', '/work/main/examples/sad'];
  for (const dir of dirs) {
    for (const f of readdirSync(dir)) {
      const { data, info } = await sharp(`${dir}/${f}`).rotate().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
      const full = { data: new Uint8Array(data), width: info.width, height: info.height, channels: 3 };
      for (let k = 0; k < 12; k++) {
        const side = Math.min(full.width, full.height, 20 + Math.floor(((k * 37) % 100) / 100 * 300));
        const left = Math.floor((full.width - side) * ((k * 13) % 10) / 10);
        const top = Math.floor((full.height - side) * ((k * 7) % 10) / 10);
        const crop = new Uint8Array(side * side * 3);
        for (let y = 0; y < side; y++) crop.set(full.data.subarray(((top + y) * full.width + left) * 3, ((top + y) * full.width + left + side) * 3), y * side * 3);
        const rgb = { data: crop, width: side, height: side, channels: 3 };
        const a = toModelInput(rgb, { width: 48, height: 48, channels: 1, kernel: 'linear' });
        const b = await sharpResize(rgb, 48, 48, 'linear', true);
        const d = diff(a.data, b.data);
        rows.push({ file: f, side, ...d });
        if (d.max > 0) console.log(`  crop ${f} side ${side}: max ${d.max} differing ${d.n}/2304`);
      }
    }
  }
  report.crops.push(summary('example-photo crops -> 48x48 gray linear', rows));
}
console.log(JSON.stringify(report));
