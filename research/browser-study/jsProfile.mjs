// Where the JS preprocessing time goes (V8 in Node ~ V8 in Chromium): node jsProfile.mjs
import sharp from 'sharp';
import { resizeFill, srgbToGray, toModelInput } from './vipsResample.mjs';
const { data, info } = await sharp('frame.png').removeAlpha().raw().toBuffer({ resolveWithObject: true });
const frame = { data: new Uint8Array(data), width: info.width, height: info.height, channels: 3 };
const crop = { data: new Uint8Array(339 * 339 * 3).map((_, i) => (i * 7) & 255), width: 339, height: 339, channels: 3 };
const t = (name, fn, n = 50) => { for (let i = 0; i < 5; i++) fn(); const s = performance.now(); for (let i = 0; i < n; i++) fn(); console.log(name, ((performance.now() - s) / n).toFixed(2), 'ms'); };
t('letterbox resize 640x480->109x82 lanczos3', () => resizeFill(frame, 109, 82, 'lanczos3'));
t('letterbox resize 640x480->256x192 lanczos3', () => resizeFill(frame, 256, 192, 'lanczos3'));
t('gray 339x339', () => srgbToGray(crop));
const g = srgbToGray(crop);
t('resize gray 339->48 linear', () => resizeFill(g, 48, 48, 'linear'));
t('toModelInput 339', () => toModelInput(crop, { width: 48, height: 48, channels: 1, kernel: 'linear' }));
t('sharp-equivalent via sharp (ref, async)', () => 0, 1);
