/**
 * BlazeFace (MediaPipe's face detector, converted to a TensorFlow.js graph model): everything but
 * loading. Node (blazeFace.ts) and the browser (browser/) hand it the same nets, their TensorFlow.js
 * and a letterbox, and get the same boxes: anchors, decoding, suppression and the pass logic live
 * here once.
 *
 * Why it replaced SSD as the default face path: on this machine it decodes and detects a web
 * photo in ~40-50 ms against SSD's ~300-500 ms, finds a face in more of web-happysad (89% at
 * score 0.5 vs 68%) and of FER2013 crops (99% vs 67-85%), and gives the two eye centres with the
 * box, so alignment needs no second landmark net.
 *
 * Pipeline: the image is shrunk (antialiased) to fit the square input and letterboxed on
 * mid-gray, pixels go to [-1, 1], the net scores 896 anchors, boxes and six keypoints are decoded
 * here, then MediaPipe's weighted suppression. A "context" pass shrinks the whole image to a third
 * of the input on gray: the full-range model returns half faces on close-ups and tight crops.
 */
import type { GraphModel, Tensor } from '@tensorflow/tfjs';
import type * as TF from '@tensorflow/tfjs';
import type { Letterbox } from '../pixels/letterboxPixels.js';
import { assertRgbPixels as assertRgb, copyRegion, intersectionOverUnion } from './geometry.js';
import type { DetectedFace, FaceBox, Point } from './types.js';
import type { Pixels } from '../pixels/pixels.js';
import type { FaceFinder } from './faceStep.js';

/** The part of TensorFlow.js detection uses: Node's engine or the page's, passed in. */
export type BlazeTf = Pick<typeof TF, 'tidy' | 'tensor4d' | 'zeros' | 'dispose'>;

/** Makes the square net input: an Pixels<3> letterboxed on `fill` (sharp in Node, JavaScript in a page; the same bytes). */
export type LetterboxFn = (image: Pixels<3>, side: number, inner: number, fill: readonly [number, number, number]) => Letterbox | Promise<Letterbox>;

export class BlazeFaceModelError extends Error {
  override name = 'BlazeFaceModelError';
}

export type BlazeFaceVariant = 'back' | 'front';

/**
 * The six MediaPipe keypoints, named by where they appear in the image for an upright,
 * unmirrored face: `leftEye` is the eye on the LEFT of the image (the subject's right eye).
 */
export interface BlazeKeypoints {
  leftEye: Point;
  rightEye: Point;
  nose: Point;
  mouth: Point;
  leftEar: Point;
  rightEar: Point;
}

export interface BlazeDetection {
  /** Integer [x, y, w, h] in image pixels, clipped to the image. */
  box: FaceBox;
  /** Sigmoid score in (0, 1). */
  score: number;
  keypoints: BlazeKeypoints;
}

export interface BlazeFaceOptions {
  /** Minimum score kept. Default 0.5: below it web photos give letters, balloons and hands. */
  minScore?: number;
  /** Boxes overlapping a better one by more than this IoU are merged into it. Default 0.3 (MediaPipe). */
  iouThreshold?: number;
  /**
   * A detection whose area lies more than this fraction inside a better-scoring one is dropped.
   * Default 0.7: on close-ups the full-range model also fires on halves of the face. 1 disables it.
   */
  containThreshold?: number;
  /** 'weighted' (MediaPipe: score-weighted mean of the overlapping boxes) or 'hard' (plain greedy NMS). */
  nms?: 'weighted' | 'hard';
  maxFaces?: number;
  /**
   * Extra pass with the whole image shrunk to `contextScale` of the input side and centred on gray.
   * 'auto' runs it when the plain pass found nothing or found a big face (see `bigFace`);
   * 'always' merges both passes. Default 'auto'.
   */
  context?: 'never' | 'auto' | 'always';
  /**
   * With context 'auto', a plain-pass box whose longer side is at least this fraction of the
   * image's longer side also triggers the context pass, whose boxes then replace the big ones.
   * Default 0.4.
   */
  bigFace?: number;
  /** Fraction of the net input the image occupies in the context pass. Default 1/3. */
  contextScale?: number;
  /**
   * Fraction of the short-range net's input the image occupies in the close-up pass (see detect()).
   * Default 0.85: a face filling the whole frame is beyond what the selfie net was trained on. On
   * 100 one-face 250x250 photos it found a big face in 67 at 1 and in all 100 at 0.85 (so the
   * full-range pass is skipped: detection 20 -> 8 ms); web-happysad balanced accuracy 0.810 -> 0.815,
   * faces found 800 -> 800.
   */
  closeUpScale?: number;
}

export interface BlazeFaceDetector {
  readonly variant: BlazeFaceVariant;
  readonly options: Readonly<Required<BlazeFaceOptions>>;
  /** Faces, best first. Never throws for a face-free image: returns []. */
  detect(image: Pixels<3>): Promise<BlazeDetection[]>;
  /**
   * The faces of an earlier frame found again in this one, each searched for only in the region
   * around where it was (see detectNear below); null when one of them is not found there, or this
   * detector has no short-range net: the caller then runs detect().
   */
  detectNear(image: Pixels<3>, near: readonly FaceBox[]): Promise<BlazeDetection[] | null>;
}

/**
 * A face followed from an earlier frame is looked for in a square this many times its longer
 * side, centred where it was: it then fills about half the region, as a portrait fills the
 * short-range net's input, and may have moved by half its size.
 */
export const NEAR_REGION = 2;
/** A face found in the region must overlap where it was by at least this IoU to be the same face. */
const NEAR_MIN_IOU = 0.2;

/** Mid-gray: 127.5 maps to 0 after normalisation, the most neutral value for the net. */
const FILL = [128, 128, 128] as const;
const KEYPOINTS = 6;

/** Anchor centres in net-input pixels: 16x16 cells x 2 anchors, then 8x8 cells x 6 anchors. */
export function blazeAnchors(inputSize: number): Float32Array {
  const layers = [{ grid: 16, per: 2 }, { grid: 8, per: 6 }];
  const out = new Float32Array(896 * 2);
  let k = 0;
  for (const { grid, per } of layers) {
    const stride = inputSize / grid;
    for (let gy = 0; gy < grid; gy++) {
      for (let gx = 0; gx < grid; gx++) {
        for (let a = 0; a < per; a++) {
          out[k++] = (gx + 0.5) * stride;
          out[k++] = (gy + 0.5) * stride;
        }
      }
    }
  }
  return out;
}

interface Raw {
  /** x0, y0, x1, y1 in net-input pixels. */
  x0: number; y0: number; x1: number; y1: number;
  score: number;
  /** 6 keypoints, x,y interleaved, net-input pixels. */
  kp: Float64Array;
}

function intersection(a: Raw, b: Raw): number {
  const w = Math.min(a.x1, b.x1) - Math.max(a.x0, b.x0);
  const h = Math.min(a.y1, b.y1) - Math.max(a.y0, b.y0);
  return w > 0 && h > 0 ? w * h : 0;
}

const area = (a: Raw) => (a.x1 - a.x0) * (a.y1 - a.y0);

const iou = (a: Raw, b: Raw) => intersectionOverUnion(intersection(a, b), area(a), area(b));

/** Drops boxes (best first) lying mostly inside an earlier kept one: partial-face detections. */
function dropContained(sorted: Raw[], containThreshold: number): Raw[] {
  if (containThreshold >= 1) return sorted;
  const kept: Raw[] = [];
  for (const c of sorted) if (!kept.some((k) => intersection(k, c) > containThreshold * area(c))) kept.push(c);
  return kept;
}

/**
 * Greedy suppression, best first. 'weighted' replaces each kept box (and keypoints) by the
 * score-weighted mean of the candidates it suppresses, which steadies the box from frame to frame.
 */
function suppress(cands: Raw[], iouThreshold: number, mode: 'weighted' | 'hard', max: number): Raw[] {
  const rest = [...cands].sort((a, b) => b.score - a.score);
  const kept: Raw[] = [];
  while (rest.length > 0 && kept.length < max) {
    const best = rest[0]!;
    const group: Raw[] = [];
    const others: Raw[] = [];
    for (const c of rest) (c === best || iou(best, c) > iouThreshold ? group : others).push(c);
    rest.length = 0;
    rest.push(...others);
    if (mode === 'hard' || group.length === 1) {
      kept.push(best);
      continue;
    }
    const total = group.reduce((s, c) => s + c.score, 0);
    const mean = (f: (c: Raw) => number) => group.reduce((s, c) => s + c.score * f(c), 0) / total;
    const kp = new Float64Array(2 * KEYPOINTS);
    for (let i = 0; i < kp.length; i++) kp[i] = mean((c) => c.kp[i]!);
    kept.push({ x0: mean((c) => c.x0), y0: mean((c) => c.y0), x1: mean((c) => c.x1), y1: mean((c) => c.y1), score: best.score, kp });
  }
  return kept;
}

/** A loaded variant with what decoding its outputs needs. */
export interface BlazeNet {
  model: GraphModel;
  inputSize: number;
  anchors: Float32Array;
  /** Output names: scores 16x16 grid, scores 8x8 grid, regressors 16x16, regressors 8x8. */
  order: string[];
}

/**
 * A loaded graph model checked and labelled for decoding. The converted models keep their
 * signature where tfjs does not read it, so which output is which is learned from the shapes, on
 * one run on gray (which also warms the kernels up). `source` names the file in errors.
 */
export function prepareBlazeNet(tf: BlazeTf, model: GraphModel, source: string): BlazeNet {
  const inputShape = model.inputs[0]?.shape;
  const inputSize = inputShape?.[1] ?? -1;
  if (inputShape?.length !== 4 || inputShape[2] !== inputSize || !(inputSize > 0)) {
    throw new BlazeFaceModelError(`${source}: expected a square NHWC input, got ${JSON.stringify(inputShape)}`);
  }
  const outputNames = model.outputs.map((o) => o.name);
  const probe = tf.tidy(() => model.execute(tf.zeros([1, inputSize, inputSize, 3]), outputNames) as Tensor[]);
  const find = (anchorsN: number, width: number): string => {
    const i = probe.findIndex((t) => t.shape.length === 3 && t.shape[1] === anchorsN && t.shape[2] === width);
    if (i < 0) throw new BlazeFaceModelError(`${source}: no output of shape [1, ${anchorsN}, ${width}]; got ${probe.map((t) => JSON.stringify(t.shape)).join(' ')}`);
    return outputNames[i]!;
  };
  try {
    return { model, inputSize, anchors: blazeAnchors(inputSize), order: [find(512, 1), find(384, 1), find(512, 16), find(384, 16)] };
  } finally {
    tf.dispose(probe);
  }
}

export function resolveBlazeFaceOptions(options: BlazeFaceOptions = {}): Required<BlazeFaceOptions> {
  return Object.freeze({
    minScore: options.minScore ?? 0.5,
    iouThreshold: options.iouThreshold ?? 0.3,
    containThreshold: options.containThreshold ?? 0.7,
    nms: options.nms ?? 'weighted',
    maxFaces: options.maxFaces ?? 20,
    context: options.context ?? 'auto',
    contextScale: options.contextScale ?? 1 / 3,
    bigFace: options.bigFace ?? 0.4,
    closeUpScale: options.closeUpScale ?? 0.85,
  });
}

/** What a host supplies: its TensorFlow.js, its letterbox, the variant's net and (for 'back' with context 'auto') the short-range one. */
export interface BlazeFaceParts {
  tf: BlazeTf;
  letterbox: LetterboxFn;
  /**
   * The variant's net, or how to load it. Beside a close-up net, which answers most portraits and
   * face photos alone (all of 100 one-face photos), a loader defers the full-range net's loading
   * and first run (~50-80 ms per thread) to the first image that needs it.
   */
  net: BlazeNet | (() => Promise<BlazeNet>);
  closeUp?: BlazeNet;
}

/** The detector on loaded nets; `variant` names `parts.net`. */
export function createBlazeFace(parts: BlazeFaceParts, variant: BlazeFaceVariant, options: BlazeFaceOptions = {}): BlazeFaceDetector {
  const { tf, letterbox } = parts;
  const opts = resolveBlazeFaceOptions(options);
  const load = parts.net;
  let loaded: Promise<BlazeNet> | undefined = typeof load === 'function' ? undefined : Promise.resolve(load);
  // A failed load is not kept: the next image that needs the net tries again.
  const net = (): Promise<BlazeNet> => (loaded ??= (load as () => Promise<BlazeNet>)().catch((err: unknown) => {
    loaded = undefined;
    throw err;
  }));
  const closeUp = variant === 'back' && opts.context === 'auto' ? parts.closeUp : undefined;

  /** One run of a net on the image letterboxed at `fraction` of its input: candidates in image pixels. */
  async function pass(image: Pixels<3>, fraction: number, minScore: number, on: BlazeNet): Promise<Raw[]> {
    const { model, inputSize, anchors, order } = on;
    const { view, left, top, sx, sy } = await letterbox(image, inputSize, inputSize * fraction, FILL);
    const outs = tf.tidy(() => {
      const x = tf.tensor4d(view.data, [1, inputSize, inputSize, 3], 'float32').div(127.5).sub(1);
      return model.execute(x, order) as Tensor[];
    });
    let s16: Float32Array, s8: Float32Array, r16: Float32Array, r8: Float32Array;
    try {
      [s16, s8, r16, r8] = (await Promise.all(outs.map((t) => t.data()))) as Float32Array[];
    } finally {
      tf.dispose(outs);
    }
    // Net-input pixels to image pixels, so passes with different placements can be merged.
    const mx = (x: number) => (x - left) * sx;
    const my = (y: number) => (y - top) * sy;
    const cands: Raw[] = [];
    const logitMin = Math.log(minScore / (1 - minScore));
    for (let a = 0; a < 896; a++) {
      const logit = a < 512 ? s16![a]! : s8![a - 512]!;
      if (!(logit >= logitMin)) continue;
      const r = a < 512 ? r16!.subarray(a * 16, a * 16 + 16) : r8!.subarray((a - 512) * 16, (a - 512) * 16 + 16);
      const ax = anchors[2 * a]!;
      const ay = anchors[2 * a + 1]!;
      const cx = ax + r[0]!;
      const cy = ay + r[1]!;
      const hw = r[2]! / 2;
      const hh = r[3]! / 2;
      const kp = new Float64Array(2 * KEYPOINTS);
      for (let k = 0; k < KEYPOINTS; k++) {
        kp[2 * k] = mx(ax + r[4 + 2 * k]!);
        kp[2 * k + 1] = my(ay + r[5 + 2 * k]!);
      }
      cands.push({ x0: mx(cx - hw), y0: my(cy - hh), x1: mx(cx + hw), y1: my(cy + hh), score: 1 / (1 + Math.exp(-Math.max(-80, Math.min(80, logit)))), kp });
    }
    return cands;
  }

  /** Suppression, then partial-face removal, then the cap, best first. */
  function clean(raws: Raw[], mode: 'weighted' | 'hard' = opts.nms): Raw[] {
    return dropContained(suppress(raws, opts.iouThreshold, mode, Infinity), opts.containThreshold).slice(0, opts.maxFaces);
  }

  function toDetection(r: Raw, image: Pixels<3>): BlazeDetection | null {
    const x0 = Math.max(0, Math.min(image.width, Math.round(r.x0)));
    const y0 = Math.max(0, Math.min(image.height, Math.round(r.y0)));
    const x1 = Math.max(0, Math.min(image.width, Math.round(r.x1)));
    const y1 = Math.max(0, Math.min(image.height, Math.round(r.y1)));
    if (x1 - x0 < 1 || y1 - y0 < 1) return null;
    const p = (k: number): Point => [r.kp[2 * k]!, r.kp[2 * k + 1]!];
    // MediaPipe order: subject's right eye, left eye, nose tip, mouth centre, right ear, left ear.
    // Unmirrored, the subject's right is on the image's left.
    const keypoints: BlazeKeypoints = { leftEye: p(0), rightEye: p(1), nose: p(2), mouth: p(3), leftEar: p(4), rightEar: p(5) };
    return { box: [x0, y0, x1 - x0, y1 - y0], score: r.score, keypoints };
  }

  /**
   * The short-range boxes that re-frame the big faces of a full-range pass: those overlapping one
   * of them, best first, none overlapping another. Anything else (a shifted half face scoring ~0.5
   * beside the real one, seen on 7 of 100 portrait photos) is dropped.
   */
  function refine(bigOnes: Raw[], closeUps: Raw[]): Raw[] {
    const out: Raw[] = [];
    for (const c of [...closeUps].sort((x, y) => y.score - x.score)) {
      // Two faces each at least 40% of the image side cannot overlap much: an overlapping one is a part.
      if (bigOnes.some((b) => iou(b, c) > 0.3) && !out.some((o) => iou(o, c) > 0.1)) out.push(c);
    }
    return out;
  }

  /**
   * Video frames after the first: each face of an earlier frame is looked for by the short-range
   * net (a quarter of the full-range pass's cost) in the region around it, instead of searching
   * the whole frame. A face of 150 px in a 640x480 frame costs two passes in detect() (the
   * short-range net misses it whole-frame, then the full-range net finds it), one here.
   */
  async function detectNear(image: Pixels<3>, near: readonly FaceBox[]): Promise<BlazeDetection[] | null> {
    assertRgb(image);
    const shortRange = closeUp ?? (variant === 'front' ? await net() : undefined);
    if (!shortRange || near.length === 0) return null;
    const kept: Raw[] = [];
    for (const [bx, by, bw, bh] of near) {
      const side = NEAR_REGION * Math.max(bw, bh);
      const x0 = Math.max(0, Math.round(bx + bw / 2 - side / 2));
      const y0 = Math.max(0, Math.round(by + bh / 2 - side / 2));
      const x1 = Math.min(image.width, Math.round(bx + bw / 2 + side / 2));
      const y1 = Math.min(image.height, Math.round(by + bh / 2 + side / 2));
      if (x1 - x0 < 2 || y1 - y0 < 2) return null;
      const region = copyRegion(image, [x0, y0, x1 - x0, y1 - y0]);
      const was: Raw = { x0: bx, y0: by, x1: bx + bw, y1: by + bh, score: 1, kp: new Float64Array(0) };
      const longest = Math.max(region.width, region.height);
      let best: { face: Raw; overlap: number } | undefined;
      for (const c of clean(await pass(region, opts.closeUpScale, opts.minScore, shortRange))) {
        const moved = shifted(c, x0, y0);
        const overlap = iou(moved, was);
        // A small face in the region is a part of the face or another one behind it: not this face.
        if (Math.max(c.x1 - c.x0, c.y1 - c.y0) < opts.bigFace * longest || overlap < NEAR_MIN_IOU) continue;
        if (!best || overlap > best.overlap) best = { face: moved, overlap };
      }
      if (!best) return null;
      kept.push(best.face);
    }
    // Two followed faces that became one (they met, or one was a duplicate) count once.
    const found = clean(kept, 'hard').map((r) => toDetection(r, image)).filter((d): d is BlazeDetection => d !== null);
    return found.length > 0 ? found : null;
  }

  async function detect(image: Pixels<3>): Promise<BlazeDetection[]> {
    assertRgb(image);
    const { context, minScore } = opts;
    const longest = Math.max(image.width, image.height);
    const big = (r: Raw) => Math.max(r.x1 - r.x0, r.y1 - r.y0) >= opts.bigFace * longest;
    const found = (raws: Raw[]) => raws.map((r) => toDetection(r, image)).filter((d): d is BlazeDetection => d !== null);
    // Portraits, webcam frames and face photos first go to the short-range net (a quarter of the
    // full-range pass's cost): when it finds a big face, that is the answer. On 100 one-face photos
    // detection fell from 28 to 8 ms; on web-happysad, faces found 801 -> 800 and balanced
    // accuracy 0.806 -> 0.815 (the model card). A small face behind a big one can be missed.
    const closeUps = closeUp ? clean(await pass(image, opts.closeUpScale, minScore, closeUp)) : undefined;
    if (closeUps?.[0] && big(closeUps[0])) return found(closeUps);
    const main = await net();
    let all = clean(await pass(image, 1, minScore, main));
    if (context === 'always') {
      // Merge with the shrunk view by hard suppression: boxes are already blended within a pass.
      all = clean([...all, ...clean(await pass(image, opts.contextScale, minScore, main))], 'hard');
    } else if (context === 'auto' && (all.length === 0 || all.some(big))) {
      // A face too big for the full-range net's range (it returns partial, off-centre boxes) is
      // re-framed by the short-range boxes; nothing found, or a big face the short-range net missed
      // (turned, cut by the frame), is looked for again in the image shrunk onto gray.
      let again = all.length > 0 && closeUps ? refine(all.filter(big), closeUps) : [];
      if (again.length === 0) again = clean(await pass(image, opts.contextScale, minScore, main));
      if (again.length > 0) all = clean([...again, ...all.filter((r) => !big(r))], 'hard');
    }
    return found(all);
  }

  return { variant, options: opts, detect, detectNear };
}

/** A candidate found in a region whose top-left corner is at (dx, dy) of the image, in image pixels. */
function shifted(r: Raw, dx: number, dy: number): Raw {
  const kp = new Float64Array(r.kp.length);
  for (let i = 0; i < kp.length; i++) kp[i] = r.kp[i]! + (i % 2 === 0 ? dx : dy);
  return { x0: r.x0 + dx, y0: r.y0 + dy, x1: r.x1 + dx, y1: r.y1 + dy, score: r.score, kp };
}

/** A BlazeFace detector as the face step takes it (Node's FaceDetector and the page's nets alike): detections as toDetectedFace gives them. */
export function blazeFaceFinder(detector: BlazeFaceDetector, withLandmarks: boolean): Required<FaceFinder> {
  return {
    detect: async (image) => (await detector.detect(image)).map((d) => toDetectedFace(d, withLandmarks)),
    detectNear: async (image, near) => (await detector.detectNear(image, near))?.map((d) => toDetectedFace(d, withLandmarks)) ?? null,
  };
}

/** A BlazeFace detection as the face pipeline takes it: box, score and, when asked, the eyes. */
export function toDetectedFace(d: BlazeDetection, withLandmarks: boolean): DetectedFace {
  return { box: d.box, score: d.score, ...(withLandmarks ? { landmarks: { leftEye: d.keypoints.leftEye, rightEye: d.keypoints.rightEye } } : {}) };
}
