import type { FaceDecoded } from './faceCropper.js';
import type { ImageLimits } from '../input/imageLimits.js';
import type { FaceCropSpec, PreprocessSpec } from '../input/preprocessSpec.js';

export type FaceCropRequest =
  | { type: 'init'; faces: FaceCropSpec }
  | { type: 'decode'; id: number; input: Uint8Array | string; spec: PreprocessSpec; limits?: ImageLimits; name?: string };

export type FaceCropReply =
  | { type: 'ready' }
  | { type: 'failed'; message: string }
  | { type: 'decoded'; id: number; decoded: FaceDecoded }
  | { type: 'error'; id: number; code?: string; message: string };
