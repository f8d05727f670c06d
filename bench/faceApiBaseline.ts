/**
 * The pretrained face-api expression model, restricted to happy vs sad, on a folder of labelled
 * face crops (e.g. FER2013's validation split): the reference the default model must beat.
 *
 *   node --import tsx bench/faceApiBaseline.ts ../shared/datasets/fer2013-happysad/validation [--json]
 *
 * Each image is taken as the whole face (FER2013 images are face crops), and the score is
 * p(happy) / (p(happy) + p(sad)) from face-api's 7-way softmax, thresholded at 0.5.
 */
import { parseArgs } from 'node:util';
import { initEngine } from '../src/engine/engine.js';
import { discoverDataset } from '../src/data/discoverDataset.js';
import { decodeRgbImage } from '../src/input/decodeImage.js';
import { createFaceExpressionModel } from './faceApiExpressionModel.js';
import { computeMetrics, formatEvaluationReport } from '../src/evaluate/computeMetrics.js';

const { values, positionals } = parseArgs({ options: { json: { type: 'boolean', default: false } }, allowPositionals: true });
if (positionals.length !== 1) {
  console.error('usage: node --import tsx bench/faceApiBaseline.ts DIR_WITH_happy_AND_sad [--json]');
  process.exit(2);
}
await initEngine();
const dataset = await discoverDataset(positionals[0]);
const classes = ['happy', 'sad'];
const files = dataset.files.filter((f) => classes.includes(f.label));
const model = await createFaceExpressionModel();
const truth: number[] = [];
const probabilities: number[] = [];
const started = performance.now();
for (const f of files) {
  const scores = await model.predict(await decodeRgbImage(f.file));
  const pHappy = scores.happy / (scores.happy + scores.sad);
  truth.push(classes.indexOf(f.label));
  probabilities.push(pHappy, 1 - pHappy);
}
const seconds = (performance.now() - started) / 1000;
const report = computeMetrics({ classes, positiveClass: 'happy', threshold: 0.5, truth, predicted: truth.map((_, i) => (probabilities[2 * i] >= 0.5 ? 0 : 1)), probabilities });
if (values.json) console.log(JSON.stringify({ case: 'face-api-expression-happy-vs-sad', dir: positionals[0], ms_per_face: (seconds * 1000) / files.length, ...report }));
else console.log(`face-api expression model, happy vs sad, on ${positionals[0]} (${files.length} images, ${((seconds * 1000) / files.length).toFixed(1)} ms per face)\n\n${formatEvaluationReport(report)}`);
