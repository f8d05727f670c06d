/**
 * The README's video demo: 6 s at 10 frames/s, 640x360, built from the example faces (Apache-2.0,
 * examples/ATTRIBUTION.md). On the left a happy face gives way to a sad one at 2 s and comes back at
 * 4.5 s (two photos spliced in one place: one track, whose score drops and recovers); on the right
 * a second person sways, smiling throughout.
 *
 *   node --import tsx scripts/makeDemoVideo.ts OUT.mp4
 *   npx happysad predict OUT.mp4 --smooth 1 --report demo-report/
 */
import { resolve } from 'node:path';
import { makeVideo } from '../testkit/makeVideo.js';

const out = resolve(process.argv[2] ?? 'demo.mp4');
const away = { left: -400, top: -400, size: 200 };
await makeVideo(out, { width: 640, height: 360, fps: 10, frames: 60, faces: [
  { photo: 'happy/Tom_Watson_0003.jpg', at: (i) => (i < 20 || i >= 45 ? { left: 60, top: 80, size: 200 } : away) },
  { photo: 'sad/Avinash_13.jpg', at: (i) => (i >= 20 && i < 45 ? { left: 60, top: 80, size: 200 } : away) },
  { photo: 'happy/Azra_Akin_0003.jpg', at: (i) => ({ left: 380 + Math.round(20 * Math.sin(i / 8)), top: 70, size: 200 }) },
] });
console.log(out);
