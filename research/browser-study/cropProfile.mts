// Cost of the repo's cropFaceSync (aligned) on the 640x480 frame: cd /work/main && node --import tsx /work/scratch/browser-study/cropProfile.mts
import sharp from 'sharp';
import { cropFaceSync } from '../../main/src/faces/cropFace.ts';
import { toModelInput } from './vipsResample.mjs';
const { data, info } = await sharp('/work/scratch/browser-study/frame.png').removeAlpha().raw().toBuffer({ resolveWithObject: true });
const frame = { data: new Uint8Array(data), width: info.width, height: info.height, channels: 3 as const };
const face = { box: [173, 127, 308, 307] as [number, number, number, number], score: 0.95, landmarks: { leftEye: [270, 230] as [number, number], rightEye: [380, 236] as [number, number] } };
const t = (name: string, fn: () => unknown, n = 50) => { for (let i = 0; i < 5; i++) fn(); const s = performance.now(); for (let i = 0; i < n; i++) fn(); console.log(name, ((performance.now() - s) / n).toFixed(2), 'ms'); };
t('cropFaceSync aligned (339 px)', () => cropFaceSync(frame, face, { margin: 0.1, align: true }));
t('cropFaceSync unaligned', () => cropFaceSync(frame, { ...face, landmarks: undefined }, { margin: 0.1, align: true }));
const crop = cropFaceSync(frame, face, { margin: 0.1, align: true });
t('toModelInput', () => toModelInput(crop, { width: 48, height: 48, channels: 1, kernel: 'linear' }));
