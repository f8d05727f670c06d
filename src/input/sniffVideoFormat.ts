/**
 * Names a video container from its first bytes, as images are named by content, not extension:
 * MP4/MOV (an ISO-BMFF 'ftyp' box of a video brand), WebM/Matroska (EBML), AVI (RIFF 'AVI ').
 */
export type VideoFormat = 'mp4' | 'mov' | 'webm' | 'mkv' | 'avi' | 'unknown';

const IMAGE_BRANDS = ['avif', 'avis', 'heic', 'heix', 'hevc', 'mif1', 'msf1'];

export function sniffVideoFormat(b: Uint8Array): VideoFormat {
  const ascii = (start: number, s: string) => s.split('').every((ch, i) => b[start + i] === ch.charCodeAt(0));
  if (ascii(4, 'ftyp')) {
    if (IMAGE_BRANDS.some((brand) => ascii(8, brand))) return 'unknown';
    return ascii(8, 'qt  ') ? 'mov' : 'mp4';
  }
  if (b[0] === 0x1a && b[1] === 0x45 && b[2] === 0xdf && b[3] === 0xa3) {
    const head = Buffer.from(b.subarray(0, 64)).toString('latin1');
    return head.includes('webm') ? 'webm' : 'mkv';
  }
  if (ascii(0, 'RIFF') && ascii(8, 'AVI ')) return 'avi';
  return 'unknown';
}
