// face-api's 7-class expression net, the reference bench/faceApiBaseline.ts and bench/faces.ts compare the
// default model against. It lives beside them, not in src/: nothing in the library or the CLI uses it, and
// exporting it made a comparison tool part of the public API.
import { tf } from '../src/engine/engine.js';
import { asNetInput, loadFaceNet } from '../src/faces/faceModels.js';
import { assertRgbPixels, copyRegion } from '../src/faces/geometry.js';
import type { DetectedFace } from '../src/faces/types.js';
import type { Pixels } from '../src/pixels/pixels.js';

/** face-api's output order (FACE_EXPRESSION_LABELS). */
export const FACE_EXPRESSIONS = ['neutral', 'happy', 'sad', 'angry', 'fearful', 'disgusted', 'surprised'] as const;
export type FaceExpression = (typeof FACE_EXPRESSIONS)[number];
export type FaceExpressionScores = Record<FaceExpression, number>;

export interface FaceExpressionModel {
  /**
   * Softmax over the 7 expressions for an image that is already just the face. face-api itself
   * pads it to a centred square with black, resizes bilinearly to 112x112, subtracts the RGB
   * mean (122.782, 117.001, 104.298) and divides by 255; we hand it the pixels unchanged so the
   * numbers match face-api's own pipeline.
   */
  predict(face: Pixels<3>): Promise<FaceExpressionScores>;
  /** As face-api's detectAllFaces().withFaceExpressions() does: the raw detection box, no margin. */
  predictFace(image: Pixels<3>, face: DetectedFace): Promise<FaceExpressionScores>;
}

/** A reference model for comparison runs: face-api's 7-class expression net on our engine. */
export async function createFaceExpressionModel(): Promise<FaceExpressionModel> {
  const net = await loadFaceNet('expression');

  async function predict(face: Pixels<3>): Promise<FaceExpressionScores> {
    assertRgbPixels(face, 'face');
    const input = tf.tensor3d(face.data, [face.height, face.width, 3], 'float32');
    try {
      const out = await net.predictExpressions(asNetInput(input));
      const one = Array.isArray(out) ? out[0]! : out;
      return Object.fromEntries(FACE_EXPRESSIONS.map((k) => [k, one[k]])) as FaceExpressionScores;
    } finally {
      input.dispose();
    }
  }

  async function predictFace(image: Pixels<3>, face: DetectedFace): Promise<FaceExpressionScores> {
    assertRgbPixels(image);
    return predict(copyRegion(image, face.box));
  }

  return { predict, predictFace };
}
