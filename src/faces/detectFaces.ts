import sharp from 'sharp';
import { tf } from '../engine/engine.js';
import { OptionError } from '../base/errors.js';
import { asNetInput, loadFaceNet } from './faceModels.js';
import { assertRgbPixels, type Candidate, compareCandidates, copyRegion, mergeCandidates, toPixelBox } from './geometry.js';
import type { DetectedFace, EyeLandmarks, FaceBox, Point } from './types.js';
import { FACE_DETECTORS, type FaceDetectorKind } from '../input/preprocessSpec.js';
import { loadBlazeFace } from './blazeFace.js';
import { blazeFaceFinder } from './blazeFaceCore.js';
import { letterbox } from './letterbox.js';
import type { Pixels } from '../pixels/pixels.js';
import { DEFAULT_FACE_DETECTOR, defaultMinScore } from './faceCropDefaults.js';

export interface FaceDetectorOptions {
  /**
   * 'blazeface' (default): see blazeFace.ts; a face in 89% of web-happysad images at 0.5 and
   * 99% of FER2013 crops, ~40-50 ms per web photo with decoding. 'ssd': SSD MobileNet v1 at
   * 512x512 (68% of web-happysad, ~300-500 ms). 'tiny': Tiny Face Detector, faster than ssd,
   * looser boxes. 'blazeface-front': the short-range BlazeFace, for webcam-style close-ups.
   */
  detector?: FaceDetectorKind;
  /**
   * Minimum detector score, in (0, 1). Default 0.5 for BlazeFace (below it, letters, balloons
   * and hands), 0.3 for ssd and tiny (on web photos nearly every ssd/tiny detection scoring
   * 0.3-0.5 is a real small, blurred or turned face; below 0.3 ssd returns ears and texture).
   */
  minScore?: number;
  /** Keep at most this many faces (best first). Default 20. */
  maxFaces?: number;
  /**
   * Also locate the eyes, needed for `cropFace({ align: true })`: BlazeFace gives them with the
   * box; ssd and tiny run face-api's 68-point landmark net on each face.
   */
  landmarks?: boolean;
  /**
   * Extra pass on the image shrunk to a third of the detector input and centred on gray.
   * Both detectors miss faces that fill the frame (tight face crops, close portraits: ssd finds
   * 1 of the 6 example photos without it, 6 with it) and find them once there is context around
   * them. 'auto' (default) runs it only when the first pass finds nothing; 'always' merges all
   * passes (in group photos that adds some missed faces but also hands and shifted duplicates,
   * at twice the cost); 'never' skips it.
   */
  context?: 'auto' | 'always' | 'never';
  /** Tiny detector input side, a multiple of 32. Default 416. (ssd is fixed at 512.) */
  inputSize?: number;
}

export interface FaceDetector {
  readonly options: Readonly<Required<FaceDetectorOptions>>;
  /** Faces sorted by score, ties largest first. Never throws for a face-free image: returns []. */
  detect(image: Pixels<3>): Promise<DetectedFace[]>;
  /**
   * The faces at `near` (boxes from an earlier video frame) found again in the regions around
   * them, or null when one is not there: then detect(). Only BlazeFace has it.
   */
  detectNear?(image: Pixels<3>, near: readonly FaceBox[]): Promise<DetectedFace[] | null>;
}

const SSD_INPUT = 512;
/**
 * Mid-gray rather than black: on the example photos ssd scored the padded faces higher on gray,
 * and a flat mid value is the least like hair or a dark backdrop at the face's edge.
 */
const CONTEXT_FILL = [128, 128, 128] as const;
/** The image occupies 1/(1 + 2 * CONTEXT_PAD) of the context canvas side. */
const CONTEXT_PAD = 1;
/**
 * The tiny detector's context pass runs at its input size and then, if that found nothing, at
 * 224: at 416 it finds more sad close-ups in web photos (62% vs 57% of web-happysad images get a
 * face), at 224 more tight crops (6/6 vs 5/6 example photos, 91% vs 84% of a FER2013 happy
 * sample); the two together beat either (93% FER happy, 87% FER sad at score 0.3).
 */
const TINY_CONTEXT_INPUT = 224;
/** Face regions larger than this are shrunk before the 112x112 landmark net. */
const LANDMARK_MAX_INPUT = 224;
/** A face-api NMS pass already ran; this only caps what a pathological image could return. */
const RAW_LIMIT = 100;

export function resolveDetectorOptions(options: FaceDetectorOptions = {}): Required<FaceDetectorOptions> {
  const detector = options.detector ?? DEFAULT_FACE_DETECTOR;
  if (!FACE_DETECTORS.includes(detector)) throw new OptionError(`face detector must be one of ${FACE_DETECTORS.join(', ')}; got '${String(detector)}'`);
  const minScore = options.minScore ?? defaultMinScore(detector);
  if (!(minScore > 0 && minScore < 1)) throw new OptionError(`face minScore must be between 0 and 1 (exclusive), got ${minScore}`);
  const maxFaces = options.maxFaces ?? 20;
  if (!Number.isInteger(maxFaces) || maxFaces < 1) throw new OptionError(`face maxFaces must be a positive integer, got ${maxFaces}`);
  const context = options.context ?? 'auto';
  if (!['auto', 'always', 'never'].includes(context)) throw new OptionError(`face context must be 'auto', 'always' or 'never', got '${String(context)}'`);
  const inputSize = options.inputSize ?? 416;
  if (!Number.isInteger(inputSize) || inputSize % 32 !== 0 || inputSize < 64 || inputSize > 1024) {
    throw new OptionError(`face inputSize must be a multiple of 32 between 64 and 1024, got ${inputSize}`);
  }
  return { detector, minScore, maxFaces, landmarks: options.landmarks ?? false, context, inputSize };
}

function isBlazeFace(kind: FaceDetectorKind): boolean {
  return kind === 'blazeface' || kind === 'blazeface-front';
}

export async function createFaceDetector(options: FaceDetectorOptions = {}): Promise<FaceDetector> {
  const opts = Object.freeze(resolveDetectorOptions(options));
  if (isBlazeFace(opts.detector)) return blazeFaceDetector(opts);
  const side = opts.detector === 'ssd' ? SSD_INPUT : opts.inputSize;
  const contextSides = opts.detector === 'ssd' ? [SSD_INPUT] : [...new Set([opts.inputSize, TINY_CONTEXT_INPUT])];
  const [ssd, tiny, landmarkNet] = await Promise.all([
    opts.detector === 'ssd' ? loadFaceNet('ssd') : undefined,
    opts.detector === 'tiny' ? loadFaceNet('tiny') : undefined,
    opts.landmarks ? loadFaceNet('landmarks') : undefined,
  ]);

  /** Runs the net on a view no larger than netSide; returns boxes in that view's pixels. */
  async function locate(view: Pixels<3>, netSide: number): Promise<Candidate[]> {
    // float32 from the start: face-api would cast anyway, and the wasm backend has int32 kernel
    // gaps (ClipByValue ignores its upper bound on int32 in 4.22).
    const input = tf.tensor3d(view.data, [view.height, view.width, 3], 'float32');
    try {
      const found = ssd
        ? await ssd.locateFaces(asNetInput(input), { minConfidence: opts.minScore, maxResults: RAW_LIMIT })
        : await tiny!.locateFaces(asNetInput(input), { inputSize: netSide, scoreThreshold: opts.minScore });
      return found.slice(0, RAW_LIMIT).map((d) => ({ x: d.box.x, y: d.box.y, w: d.box.width, h: d.box.height, score: d.score }));
    } finally {
      input.dispose();
    }
  }

  async function plainPass(image: Pixels<3>): Promise<Candidate[]> {
    // Shrinking with sharp first (instead of face-api's bilinear resize of the full image)
    // keeps big photos cheap and antialiased; small images go in as they are.
    const longest = Math.max(image.width, image.height);
    if (longest <= side) return locate(image, side);
    const view = await resizeRgb(image, Math.max(1, Math.round((image.width * side) / longest)), Math.max(1, Math.round((image.height * side) / longest)));
    const sx = image.width / view.width;
    const sy = image.height / view.height;
    return (await locate(view, side)).map((c) => ({ x: c.x * sx, y: c.y * sy, w: c.w * sx, h: c.h * sy, score: c.score }));
  }

  async function contextPass(image: Pixels<3>, netSide: number): Promise<Candidate[]> {
    const { view, toImage } = await contextView(image, netSide);
    return (await locate(view, netSide)).map(toImage);
  }

  async function eyes(image: Pixels<3>, faces: DetectedFace[]): Promise<void> {
    if (!landmarkNet || faces.length === 0) return;
    const regions = await Promise.all(faces.map(async (f) => {
      const region = copyRegion(image, f.box);
      // The net sees 112x112; face-api's bilinear shrink of a big face would alias, sharp's does not.
      const longest = Math.max(region.width, region.height);
      if (longest <= LANDMARK_MAX_INPUT) return region;
      const k = LANDMARK_MAX_INPUT / longest;
      return resizeRgb(region, Math.max(1, Math.round(region.width * k)), Math.max(1, Math.round(region.height * k)));
    }));
    const crops = regions.map((r) => tf.tensor3d(r.data, [r.height, r.width, 3], 'float32'));
    try {
      // An array input makes face-api return one FaceLandmarks68 per face (a batch).
      const result = await landmarkNet.detectLandmarks(asNetInput(crops));
      const all = Array.isArray(result) ? result : [result];
      all.forEach((lm, i) => {
        const [bx, by, bw, bh] = faces[i]!.box;
        const sx = bw / regions[i]!.width;
        const sy = bh / regions[i]!.height;
        const centre = (pts: { x: number; y: number }[]): Point => [
          bx + (sx * pts.reduce((s, p) => s + p.x, 0)) / pts.length,
          by + (sy * pts.reduce((s, p) => s + p.y, 0)) / pts.length,
        ];
        const landmarks: EyeLandmarks = { leftEye: centre(lm.getLeftEye()), rightEye: centre(lm.getRightEye()) };
        faces[i]!.landmarks = landmarks;
      });
    } finally {
      crops.forEach((t) => t.dispose());
    }
  }

  async function detect(image: Pixels<3>): Promise<DetectedFace[]> {
    assertRgbPixels(image);
    let cands = await plainPass(image);
    for (const netSide of contextSides) {
      if (opts.context === 'never' || (opts.context === 'auto' && cands.length > 0)) break;
      cands = cands.concat(await contextPass(image, netSide));
    }
    const faces: DetectedFace[] = [];
    for (const c of mergeCandidates(cands)) {
      const box = toPixelBox(c, image.width, image.height);
      if (box) faces.push({ box, score: c.score });
      if (faces.length === opts.maxFaces) break;
    }
    // Re-sort on the clipped boxes so "largest first" ties refer to what the caller sees.
    faces.sort((a, b) => compareCandidates(
      { x: a.box[0], y: a.box[1], w: a.box[2], h: a.box[3], score: a.score },
      { x: b.box[0], y: b.box[1], w: b.box[2], h: b.box[3], score: b.score },
    ));
    await eyes(image, faces);
    return faces;
  }

  return { options: opts, detect };
}

/** BlazeFace behind the FaceDetector interface: its eye keypoints are the landmarks. */
async function blazeFaceDetector(opts: Readonly<Required<FaceDetectorOptions>>): Promise<FaceDetector> {
  const blaze = await loadBlazeFace(opts.detector === 'blazeface-front' ? 'front' : 'back', { minScore: opts.minScore, maxFaces: opts.maxFaces, context: opts.context });
  return { options: opts, ...blazeFaceFinder(blaze, opts.landmarks) };
}

/** The image shrunk to a third of side x side and centred on gray, plus the map back to image pixels. */
async function contextView(image: Pixels<3>, side: number): Promise<{ view: Pixels<3>; toImage: (c: Candidate) => Candidate }> {
  const { view, left, top, sx, sy } = await letterbox(image, side, side / (1 + 2 * CONTEXT_PAD), CONTEXT_FILL);
  return { view, toImage: (c) => ({ x: (c.x - left) * sx, y: (c.y - top) * sy, w: c.w * sx, h: c.h * sy, score: c.score }) };
}

async function resizeRgb(image: Pixels<3>, width: number, height: number): Promise<Pixels<3>> {
  const { data } = await sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } })
    .resize(width, height, { fit: 'fill' })
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width, height, channels: 3 };
}
