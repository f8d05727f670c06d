import type { FaceDecoded, PhotoRequest } from './faceCropper.js';
import type { PreprocessSpec } from '../input/preprocessSpec.js';
import type { Pixels } from '../pixels/pixels.js';
import type { FaceBox } from './types.js';

export type FaceCropRequest =
  | { type: 'init'; spec: PreprocessSpec }
  | { type: 'photo'; id: number; request: PhotoRequest }
  | { type: 'frame'; id: number; image: Pixels<3>; near?: readonly FaceBox[] };

export type FaceCropReply =
  | { type: 'ready' }
  | { type: 'failed'; message: string }
  | { type: 'decoded'; id: number; decoded: FaceDecoded }
  | { type: 'error'; id: number; code?: string; message: string };
