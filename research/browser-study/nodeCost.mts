// Cost in Node of sharp vs the JS resampler for the two steps a shared definition would move to JS.
// cd /work/main && node --import tsx /work/scratch/browser-study/nodeCost.mts
import sharp from 'sharp';
import { rawToModelInput } from '../../main/src/data/decodeImage.ts';
import { letterbox } from '../../main/src/faces/letterbox.ts';
import { toModelInput } from './vipsResample.mjs';
import { letterboxJs } from './portable/pipeline.ts';
const { data, info } = await sharp('/work/scratch/browser-study/frame.png').removeAlpha().raw().toBuffer({ resolveWithObject: true });
const frame = { data: new Uint8Array(data), width: info.width, height: info.height, channels: 3 as const };
const crop = { data: frame.data.slice(0, 339 * 339 * 3), width: 339, height: 339, channels: 3 as const };
const spec = { height: 48, width: 48, channels: 1 as const, resize: 'fill' as const, kernel: 'linear' as const, background: [255, 255, 255] as [number, number, number], scale: 1 / 255, offset: 0 };
async function t(name: string, fn: () => unknown, n = 100) { for (let i = 0; i < 10; i++) await fn(); const s = performance.now(); for (let i = 0; i < n; i++) await fn(); console.log(name.padEnd(44), ((performance.now() - s) / n).toFixed(2), 'ms'); }
await t('crop 339 -> 48 gray: sharp (rawToModelInput)', () => rawToModelInput(crop, spec));
await t('crop 339 -> 48 gray: JS', () => toModelInput(crop, spec));
await t('letterbox 640x480 -> 128 (0.85): sharp', () => letterbox(frame, 128, 108.8, { r: 128, g: 128, b: 128 }));
await t('letterbox 640x480 -> 128 (0.85): JS', () => letterboxJs(frame, 128, 108.8, { r: 128, g: 128, b: 128 }));
await t('letterbox 640x480 -> 256: sharp', () => letterbox(frame, 256, 256, { r: 128, g: 128, b: 128 }));
await t('letterbox 640x480 -> 256: JS', () => letterboxJs(frame, 256, 256, { r: 128, g: 128, b: 128 }));
