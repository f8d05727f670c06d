import { join } from 'node:path';
import sharp from 'sharp';
import { tf, initEngine } from '../src/engine/engine.js';
import { Random } from '../src/base/random.js';
import { defaultPreprocessSpec } from '../src/input/preprocessSpec.js';
import { BUNDLE_FORMAT, BUNDLE_FORMAT_VERSION, type BundleMetadata } from '../src/model/bundleMetadata.js';
import { saveBundle, type ModelBundle } from '../src/model/modelBundle.js';
import { tempDir } from './tempDir.js';

/** The classes of the three-state model, in output order (sorted folder names, as training makes them). */
export const THREE_CLASSES = ['happy', 'neutral', 'sad'];

/**
 * A happy / neutral / sad softmax whose answer is known from an image's mean brightness m (0..1):
 * global average pooling, then logits happy = 20m − 12, neutral = 0, sad = 8 − 20m. Bright images
 * are happy, dark ones sad, mid-grey neutral; between happy and sad alone, m > 0.5 is happy. So
 * `greyImage(0.58)` is neutral to the model and happy under forced choice, `greyImage(0.42)` sad.
 */
export async function threeClassBundle(meta: Partial<BundleMetadata> = {}): Promise<ModelBundle> {
  await initEngine();
  const model = tf.sequential({ layers: [tf.layers.globalAveragePooling2d({ inputShape: [8, 8, 1] }), tf.layers.dense({ units: 3, activation: 'softmax' })] });
  model.setWeights([tf.tensor2d([[20, 0, -20]]), tf.tensor1d([-12, 0, 8])]);
  const metadata: BundleMetadata = {
    format: BUNDLE_FORMAT, formatVersion: BUNDLE_FORMAT_VERSION, name: 'three-state', arch: 'gap-dense',
    classes: THREE_CLASSES, output: 'softmax', positiveClass: 'happy', threshold: 0.5,
    preprocessing: defaultPreprocessSpec([8, 8, 1]),
    seed: 1, training: null, dataset: null, metrics: null, versions: {}, createdAt: new Date(0).toISOString(),
    ...meta,
  };
  return { dir: '', model, metadata };
}

/** threeClassBundle saved to a folder of its own, as `--model` takes it. */
export async function threeClassModelDir(meta: Partial<BundleMetadata> = {}): Promise<string> {
  const bundle = await threeClassBundle(meta);
  const dir = join(await tempDir('happysad-3class-'), 'model');
  await saveBundle(dir, bundle.model, bundle.metadata);
  bundle.model.dispose();
  return dir;
}

/**
 * The model's p(happy), p(neutral), p(sad) for mean brightness m: what threeClassBundle answers
 * for a greyImage(m) (to within the resize's rounding).
 */
export function threeClassProbabilities(m: number): number[] {
  const z = [20 * m - 12, 0, 8 - 20 * m];
  const e = z.map((v) => Math.exp(v));
  const sum = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / sum);
}

/**
 * A 48x48 greyscale PNG of mean brightness m with seeded zero-mean texture, so that no two images
 * are copies (or near-copies, to the dataset checks) of each other whatever their brightness.
 */
export async function greyImage(m: number, seed: number): Promise<Buffer> {
  const r = new Random(seed);
  const size = 48;
  const block = 12;
  const blocks = (size / block) ** 2;
  // Blocks brighter and darker by the same amounts, in a seeded order: a picture of its own to the
  // near-duplicate check, with the mean exact.
  const half = Array.from({ length: blocks / 2 }, () => Math.round((r.next() - 0.5) * 60));
  const offsets = r.shuffle([...half, ...half.map((d) => -d)]);
  const pixels = new Uint8Array(size * size);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) pixels[y * size + x] = Math.round(m * 255) + offsets[Math.floor(y / block) * (size / block) + Math.floor(x / block)]!;
  }
  return sharp(pixels, { raw: { width: size, height: size, channels: 1 } }).png().toBuffer();
}
