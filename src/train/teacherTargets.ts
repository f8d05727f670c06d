import { OptionError } from '../base/errors.js';
import type { ImageSet } from '../data/loadImages.js';
import type { ImageRecord } from '../data/prepareDataset.js';
import type { PreprocessSpec } from '../input/preprocessSpec.js';
import type { ModelBundle } from '../model/modelBundle.js';
import { decisionsOnImages } from './decisionsOnImages.js';

/**
 * A teacher's class probabilities on the training images, as every host would read them (its
 * test-time flip, its calibration), in the student's class order: the soft half of distillation's
 * targets. They are computed once, on the images before augmentation: the augmentations keep an
 * expression, so the teacher's view of the plain image stands for each augmented copy, and one pass
 * over the set costs less than a teacher pass on every batch of every epoch.
 *
 * The teacher must read the same input the student trains on (size, channels, scaling, face crop),
 * or its probabilities would describe other pixels; it is refused otherwise, naming what differs.
 */
export async function teacherProbabilities(teacher: ModelBundle, set: ImageSet<ImageRecord>, student: { classes: string[]; spec: PreprocessSpec; workers: number }): Promise<Float32Array> {
  const m = teacher.metadata;
  const name = teacher.dir || m.name;
  const missing = student.classes.filter((c) => !m.classes.includes(c));
  if (missing.length) throw new OptionError(`--teacher ${name} has classes ${m.classes.join(', ')}; it cannot teach ${missing.join(', ')}. Give a teacher trained on the same classes`);
  const differs = inputDifferences(m.preprocessing, student.spec);
  if (differs.length) throw new OptionError(`--teacher ${name} reads other input than this model trains on (${differs.join('; ')}); train the student with the teacher's input, e.g. the same --arch input size and face crop`);
  const n = set.items.length;
  const K = student.classes.length;
  const decisions = await decisionsOnImages(teacher, set, student.workers);
  const order = student.classes.map((c) => m.classes.indexOf(c));
  const out = new Float32Array(n * K);
  decisions.forEach((d, i) => {
    // Renormalised over the student's classes: a teacher with more classes (angry, fearful)
    // teaches how the remaining ones share a face, as forced choice reads a pair.
    const kept = order.map((j) => d.probabilities[j]!);
    const sum = kept.reduce((a, b) => a + b, 0);
    kept.forEach((p, k) => (out[i * K + k] = sum > 0 ? p / sum : 1 / K));
  });
  return out;
}

/**
 * Training targets mixed from hard labels and a teacher: weight × teacher + (1 − weight) × labels
 * (labels already smoothed as the run asks). Softmax rows stay rows summing to 1; for one sigmoid
 * unit, `teacher` holds both classes' probabilities and the unit's target is p(positive).
 */
export function distillTargets(labels: Float32Array, teacher: Float32Array, weight: number, units: number, posIndex: number): Float32Array {
  const out = new Float32Array(labels.length);
  if (units === 1) {
    for (let i = 0; i < labels.length; i++) out[i] = weight * teacher[i * 2 + posIndex]! + (1 - weight) * labels[i]!;
  } else {
    for (let i = 0; i < labels.length; i++) out[i] = weight * teacher[i]! + (1 - weight) * labels[i]!;
  }
  return out;
}

/** What makes two preprocessing specs feed a model different numbers (test-time flip and detector thresholds aside). */
function inputDifferences(a: PreprocessSpec, b: PreprocessSpec): string[] {
  const out: string[] = [];
  const say = (what: string, x: unknown, y: unknown) => {
    if (JSON.stringify(x) !== JSON.stringify(y)) out.push(`${what}: teacher ${JSON.stringify(x)}, student ${JSON.stringify(y)}`);
  };
  say('input', [a.height, a.width, a.channels], [b.height, b.width, b.channels]);
  say('scaling', [a.scale, a.offset], [b.scale, b.offset]);
  say('resize', [a.resize, a.kernel], [b.resize, b.kernel]);
  say('face crop', a.faces ? { margin: a.faces.margin, align: a.faces.align, detector: a.faces.detector } : null, b.faces ? { margin: b.faces.margin, align: b.faces.align, detector: b.faces.detector } : null);
  return out;
}
