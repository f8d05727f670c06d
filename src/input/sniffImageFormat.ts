/**
 * Names an image format from its first bytes. Extensions lie (the web set has PNGs named .jpg), so
 * every check starts from content.
 */
export type SniffedFormat = 'jpeg' | 'png' | 'gif' | 'webp' | 'tiff' | 'avif' | 'heif' | 'bmp' | 'ico' | 'psd' | 'svg' | 'unknown';

/** Formats our decoder (sharp's bundled libvips) reads. */
export const SUPPORTED_FORMATS: ReadonlySet<SniffedFormat> = new Set(['jpeg', 'png', 'gif', 'webp', 'tiff', 'avif', 'heif']);

export function sniffImageFormat(bytes: Uint8Array): SniffedFormat {
  const b = bytes;
  const ascii = (start: number, s: string) => s.split('').every((ch, i) => b[start + i] === ch.charCodeAt(0));
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'jpeg';
  if (b.length >= 8 && b[0] === 0x89 && ascii(1, 'PNG')) return 'png';
  if (ascii(0, 'GIF8')) return 'gif';
  if (ascii(0, 'RIFF') && ascii(8, 'WEBP')) return 'webp';
  if ((ascii(0, 'II') && b[2] === 42 && b[3] === 0) || (ascii(0, 'MM') && b[2] === 0 && b[3] === 42)) return 'tiff';
  if (ascii(4, 'ftyp')) {
    if (ascii(8, 'avif') || ascii(8, 'avis')) return 'avif';
    if (['heic', 'heix', 'hevc', 'mif1', 'msf1'].some((brand) => ascii(8, brand))) return 'heif';
  }
  if (ascii(0, 'BM') && b.length > 14) return 'bmp';
  if (b.length >= 4 && b[0] === 0 && b[1] === 0 && b[2] === 1 && b[3] === 0) return 'ico';
  if (ascii(0, '8BPS')) return 'psd';
  const head = Buffer.from(b.subarray(0, 256)).toString('utf8').trimStart().toLowerCase();
  if (head.startsWith('<svg') || (head.startsWith('<?xml') && head.includes('<svg'))) return 'svg';
  return 'unknown';
}
