/**
 * Writes raw RGB frames as a YUV4MPEG2 (.y4m) file, the format Chromium's
 * --use-file-for-fake-video-capture plays as a camera: a text header, then per frame "FRAME\n"
 * and planar 4:2:0 YCbCr (full-range BT.601, which is what C420jpeg declares).
 */
export function rgbToY4m(frames: Uint8Array[], width: number, height: number, fps = 30): Buffer {
  if (width % 2 || height % 2) throw new Error(`y4m 4:2:0 needs even sides, got ${width}x${height}`);
  const header = Buffer.from(`YUV4MPEG2 W${width} H${height} F${fps}:1 Ip A1:1 C420jpeg\n`, 'ascii');
  const parts: Buffer[] = [header];
  for (const rgb of frames) {
    if (rgb.length !== width * height * 3) throw new Error(`frame has ${rgb.length} bytes, expected ${width * height * 3}`);
    const y = Buffer.alloc(width * height);
    const cb = Buffer.alloc((width / 2) * (height / 2));
    const cr = Buffer.alloc(cb.length);
    for (let i = 0; i < width * height; i++) {
      const [r, g, b] = [rgb[3 * i], rgb[3 * i + 1], rgb[3 * i + 2]];
      y[i] = clamp(0.299 * r + 0.587 * g + 0.114 * b);
    }
    for (let row = 0; row < height / 2; row++) {
      for (let col = 0; col < width / 2; col++) {
        let r = 0, g = 0, b = 0;
        for (const [dy, dx] of [[0, 0], [0, 1], [1, 0], [1, 1]]) {
          const p = 3 * ((2 * row + dy) * width + 2 * col + dx);
          r += rgb[p];
          g += rgb[p + 1];
          b += rgb[p + 2];
        }
        [r, g, b] = [r / 4, g / 4, b / 4];
        cb[row * (width / 2) + col] = clamp(128 - 0.168736 * r - 0.331264 * g + 0.5 * b);
        cr[row * (width / 2) + col] = clamp(128 + 0.5 * r - 0.418688 * g - 0.081312 * b);
      }
    }
    parts.push(Buffer.from('FRAME\n', 'ascii'), y, cb, cr);
  }
  return Buffer.concat(parts);
}

function clamp(v: number): number {
  return Math.max(0, Math.min(255, Math.round(v)));
}
