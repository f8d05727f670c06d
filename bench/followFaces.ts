/**
 * What following a face between whole-frame searches (predict VIDEO's --search-every, a page's
 * camera) changes on real faces: the face step with `near` (the short-range net around where the
 * face was) against a whole-frame search of the same frame, then both crops through the model.
 *
 *   node --import tsx bench/followFaces.ts [DATASET] [--photos 200] [--sizes 150,250] [--seed 2026]
 *                                          [--model DIR] [--frames FILE] [--json]
 *
 * DATASET (default ../shared/datasets/web-happysad): class folders of photos; --photos of them are
 * picked by a seeded shuffle, and each one's best face (the model's own detector settings) is made
 * into short camera-like sequences (bench/cameraShot.ts): the photo scaled so that the face box is
 * S px (--sizes), on a 640x480 gray frame at a seeded start, then 4 more frames where it moved by
 * (8, 3) px per frame ('move') or grew by 3% per frame about its centre ('zoom'). Frame 0 is searched
 * whole; frames 1-4 follow frame 0's faces, as predict VIDEO's frames follow the last frame searched,
 * and are also searched whole. Compared on the frames where following found the face, for the face
 * pasted there: box IoU, the model's label, p(happy) and every class's p, the forced-choice label
 * and its accuracy against the photo's folder; beside them, how much the whole search itself moves
 * from one frame to the next (frames 2-4 against the one before). Then a frame where the face
 * jumped out of the frame: does following let go (and the frame get searched whole), or follow
 * something else? The face step alone is timed (order alternated per frame). --frames writes one
 * JSON line per frame followed or lost, and one per face gone and still followed.
 */
import { existsSync, readdirSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { Random } from '../src/base/random.js';
import { createFaceDetector } from '../src/faces/detectFaces.js';
import { FACE_SEARCH_MAX_SIDE, facesToModelInputs, type FaceCrop, type FaceDecoded } from '../src/faces/faceStep.js';
import { boxIoU } from '../src/faces/geometry.js';
import type { FaceBox } from '../src/faces/types.js';
import { decodeRgbImage, rawToModelInput, shrinkInside } from '../src/input/decodeImage.js';
import { loadModel } from '../src/predict/classifier.js';
import type { ClassDecision } from '../src/predict/interpretOutput.js';
import type { Pixels } from '../src/pixels/pixels.js';
import { cameraShot, SHOT_FILL } from './cameraShot.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    photos: { type: 'string', default: '200' },
    sizes: { type: 'string', default: '150,250' },
    seed: { type: 'string', default: '2026' },
    model: { type: 'string' },
    frames: { type: 'string' },
    json: { type: 'boolean', default: false },
  },
});
const dataset = resolve(positionals[0] ?? '../shared/datasets/web-happysad');
const N = Number(values.photos);
const SIZES = values.sizes.split(',').map(Number);
const SEED = Number(values.seed);
if (!existsSync(dataset)) {
  console.error(`${dataset}: no such folder; give a dataset of class folders (default ../shared/datasets/web-happysad)`);
  process.exit(2);
}
if (!(Number.isInteger(N) && N > 0) || SIZES.some((s) => !(s > 0 && s <= 300)) || !Number.isInteger(SEED)) {
  console.error('--photos must be a positive integer, --sizes face sides in px up to 300 (a 640x480 frame), --seed an integer');
  process.exit(2);
}
if (values.frames && existsSync(values.frames)) {
  console.error(`${values.frames} exists; --frames never overwrites a file`);
  process.exit(2);
}

const FRAME = { width: 640, height: 480 };
const FOLLOWERS = 4;
/** A sequence: where the face is at frame t, relative to frame 0 (shift in px, scale factor). */
const SEQUENCES = {
  move: (t: number) => ({ dx: 8 * t, dy: 3 * t, scale: 1 }),
  zoom: (t: number) => ({ dx: 0, dy: 0, scale: 1.03 ** t }),
} as const;
type Sequence = keyof typeof SEQUENCES;
/** A face found in a frame is the pasted one when it overlaps where it was pasted by at least this. */
const SAME_FACE_IOU = 0.3;

const median = (xs: number[]) => quantile(xs, 0.5);
/** Nearest-rank quantile; NaN for no values. */
function quantile(xs: number[], q: number): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!;
}
const round = (x: number, d = 3) => (Number.isFinite(x) ? Number(x.toFixed(d)) : null);

/** The found face that is the pasted one (best overlap with where it was pasted), if any. */
function pastedFace(decoded: FaceDecoded, pasted: FaceBox): FaceCrop | undefined {
  let best: FaceCrop | undefined;
  for (const f of decoded.faces) if (boxIoU(f.box, pasted) >= SAME_FACE_IOU && (!best || boxIoU(f.box, pasted) > boxIoU(best.box, pasted))) best = f;
  return best;
}

function photosOf(root: string): string[] {
  const out: string[] = [];
  for (const cls of readdirSync(root, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name).sort()) {
    for (const f of readdirSync(join(root, cls)).sort()) if (/\.(jpe?g|png|webp)$/i.test(f)) out.push(join(root, cls, f));
  }
  return out;
}

const classifier = await loadModel(values.model, { workers: 1 });
const spec = classifier.metadata.preprocessing;
const faceSpec = spec.faces;
if (!faceSpec) {
  console.error('the model does not classify faces: nothing to follow');
  process.exit(2);
}
const classes = classifier.metadata.classes;
const happy = classes.indexOf(classifier.metadata.positiveClass);
// As FaceCropper builds it: the model's detector, score and (for alignment) eye landmarks.
const detector = await createFaceDetector({ detector: faceSpec.detector, minScore: faceSpec.minScore, landmarks: faceSpec.align });
if (!detector.detectNear) {
  console.error(`the model's detector (${faceSpec.detector}) cannot follow faces: every frame is searched whole`);
  process.exit(2);
}
const step = (frame: Pixels<3>, near?: readonly FaceBox[]) => facesToModelInputs(frame, spec, detector, { shrink: shrinkInside, toModelInput: rawToModelInput, scene: true, near });

interface FrameResult {
  photo: string; size: number; sequence: Sequence; t: number;
  /** Faces frame 0 found (all are followed; one lost means the frame is searched whole). */
  faces0: number;
  /** The photo's face side in its own pixels: how much it was blown up or shrunk. */
  sourceSide: number;
  followed: boolean;
  followMs: number; wholeMs: number;
  followBox?: FaceBox; wholeBox?: FaceBox; pastedBox: FaceBox;
  followCrop?: Pixels; wholeCrop?: Pixels;
}

/** What following did when the face had left: let go, or followed a face a whole search also finds there, or something it does not. */
type GoneOutcome = 'let go' | 'a face' | 'not a face';
const goneResults: { size: number; sequence: Sequence; outcome: GoneOutcome; photo: string }[] = [];
const grayFrame = (): Pixels<3> => ({ data: new Uint8Array(FRAME.width * FRAME.height * 3).fill(SHOT_FILL), ...FRAME, channels: 3 });

const all = photosOf(dataset);
const picked = new Random(SEED).derive('follow-faces-photos').shuffle([...all]).slice(0, N);
const placeRng = new Random(SEED).derive('follow-faces-placement');
const results: FrameResult[] = [];
const counts = { photos: picked.length, withFace: 0, sequences: 0, lostAtStart: 0 };
const started = performance.now();
for (const [i, path] of picked.entries()) {
  const photo = await decodeRgbImage(path);
  // Searched as the face step searches a photo: bounded to FACE_SEARCH_MAX_SIDE, boxes back in its pixels.
  const searched = await shrinkInside(photo, FACE_SEARCH_MAX_SIDE);
  const best = (await detector.detect(searched))[0];
  if (!best) continue;
  counts.withFace++;
  const k = photo.width / searched.width;
  const face: FaceBox = [best.box[0] * k, best.box[1] * k, best.box[2] * k, best.box[3] * k];
  for (const size of SIZES) {
    for (const sequence of Object.keys(SEQUENCES) as Sequence[]) {
      const move = SEQUENCES[sequence];
      const last = move(FOLLOWERS);
      // A start that keeps the face and its crop margin in the frame to the last frame.
      const half = 0.6 * size * last.scale;
      const cx = half + placeRng.next() * (FRAME.width - 2 * half - last.dx);
      const cy = half + placeRng.next() * (FRAME.height - 2 * half - last.dy);
      const shots = await Promise.all(Array.from({ length: FOLLOWERS + 1 }, (_, t) => {
        const m = move(t);
        return cameraShot(photo, face, { ...FRAME, faceSide: size * m.scale, centre: [cx + m.dx, cy + m.dy] });
      }));
      const first = await step(shots[0]!.frame);
      if (!pastedFace(first, shots[0]!.face)) {
        counts.lostAtStart++;
        continue;
      }
      counts.sequences++;
      const near = first.faces.map((f) => f.box);
      for (let t = 1; t <= FOLLOWERS; t++) {
        const { frame, face: pasted } = shots[t]!;
        const timed = async (near?: readonly FaceBox[]) => {
          const t0 = performance.now();
          const decoded = await step(frame, near);
          return { decoded, ms: performance.now() - t0 };
        };
        // Alternated so that neither gains from running second on warm caches.
        let follow, whole;
        if (t % 2) {
          follow = await timed(near);
          whole = await timed();
        } else {
          whole = await timed();
          follow = await timed(near);
        }
        const f = pastedFace(follow.decoded, pasted);
        const w = pastedFace(whole.decoded, pasted);
        results.push({
          photo: relative(dataset, path), size, sequence, t, faces0: near.length, sourceSide: Math.max(face[2], face[3]),
          followed: follow.decoded.followed === true, followMs: follow.ms, wholeMs: whole.ms, pastedBox: pasted,
          followBox: f?.box, wholeBox: w?.box, followCrop: f?.image, wholeCrop: w?.image,
        });
      }
      // The face gone: the photo jumped so that the face is out of the frame by the nearer side.
      // Following should then give up (the frame is searched whole); what it follows instead stays
      // until the next whole search.
      const goneX = cx < FRAME.width / 2 ? -0.75 * size : FRAME.width + 0.75 * size;
      const gone = await cameraShot(photo, face, { ...FRAME, faceSide: size, centre: [goneX, cy] }).then((s) => s.frame, () => grayFrame());
      const after = await step(gone, near);
      let goneFollowed: GoneOutcome = 'let go';
      if (after.followed) {
        const whole = await step(gone);
        goneFollowed = after.faces.every((f) => whole.faces.some((w) => boxIoU(f.box, w.box) >= SAME_FACE_IOU)) ? 'a face' : 'not a face';
      }
      goneResults.push({ size, sequence, outcome: goneFollowed, photo: relative(dataset, path) });
    }
  }
  if (!values.json && (i + 1) % 25 === 0) process.stderr.write(`${i + 1}/${picked.length} photos, ${((performance.now() - started) / 1000).toFixed(0)} s\n`);
}

// Both crops of every frame through the model, default and forced-choice decisions.
const compared = results.filter((r) => r.followed && r.followCrop && r.wholeCrop);
const crops = compared.flatMap((r) => [r.followCrop!, r.wholeCrop!]);
const decide = async (forcedChoice: boolean): Promise<ClassDecision[]> => {
  const out: ClassDecision[] = [];
  for (let s = 0; s < crops.length; s += 64) out.push(...(await classifier.classifyDecoded(crops.slice(s, s + 64), forcedChoice ? { forcedChoice } : {})));
  return out;
};
const plain = await decide(false);
const forced = await decide(true);
// The whole search's own frame-to-frame change (t against t-1, both searched whole) on the same
// frames: how much the output moves anyway as the face moves.
const jitterPairs = results.filter((r) => r.t > 1 && r.wholeCrop).flatMap((r) => {
  const prev = results.find((p) => p.photo === r.photo && p.size === r.size && p.sequence === r.sequence && p.t === r.t - 1);
  return prev?.wholeCrop ? [{ before: prev.wholeCrop, after: r.wholeCrop!, r }] : [];
});
const jitterDecisions: ClassDecision[] = [];
for (let s = 0; s < jitterPairs.length; s += 32) jitterDecisions.push(...(await classifier.classifyDecoded(jitterPairs.slice(s, s + 32).flatMap((p) => [p.before, p.after]))));
await classifier.close();

interface Compared {
  r: FrameResult; iou: number; sideRatio: number; agree: boolean; forcedAgree: boolean; dHappy: number; dMax: number;
  /** Forced-choice labels of the followed and the whole-search crop, by class name. */
  followLabel: string; wholeLabel: string;
}
/** The photo's class, from its folder, when the model has that class: what the forced choice should say. */
const truthOf = (r: FrameResult) => classes.find((c) => r.photo.split(/[\\/]/)[0] === c);
const rows: Compared[] = compared.map((r, j) => {
  const a = plain[2 * j]!;
  const b = plain[2 * j + 1]!;
  return {
    r, iou: boxIoU(r.followBox!, r.wholeBox!), sideRatio: Math.max(r.followBox![2], r.followBox![3]) / Math.max(r.wholeBox![2], r.wholeBox![3]), agree: a.labelIndex === b.labelIndex, forcedAgree: forced[2 * j]!.labelIndex === forced[2 * j + 1]!.labelIndex,
    dHappy: Math.abs(a.probabilities[happy]! - b.probabilities[happy]!), dMax: Math.max(...a.probabilities.map((p, c) => Math.abs(p - b.probabilities[c]!))),
    followLabel: classes[forced[2 * j]!.labelIndex]!, wholeLabel: classes[forced[2 * j + 1]!.labelIndex]!,
  };
});
const jitter = jitterPairs.map(({ r }, j) => {
  const a = jitterDecisions[2 * j]!;
  const b = jitterDecisions[2 * j + 1]!;
  return { r, agree: a.labelIndex === b.labelIndex, dHappy: Math.abs(a.probabilities[happy]! - b.probabilities[happy]!) };
});

const share = (xs: boolean[]) => (xs.length ? xs.filter(Boolean).length / xs.length : Number.NaN);
function summary(size: number, sequence: Sequence | 'all') {
  const mine = <T extends { r: FrameResult }>(xs: T[]) => xs.filter((x) => x.r.size === size && (sequence === 'all' || x.r.sequence === sequence));
  const frames = mine(results.map((r) => ({ r }))).map((x) => x.r);
  const c = mine(rows);
  const j = mine(jitter);
  const oneFace = frames.filter((r) => r.faces0 === 1);
  const g = goneResults.filter((x) => x.size === size && (sequence === 'all' || x.sequence === sequence));
  return {
    case: 'follow-faces', size, sequence, frames: frames.length, compared: c.length,
    followed: round(share(frames.map((r) => r.followed))),
    followed_one_face: round(share(oneFace.map((r) => r.followed))), one_face_frames: oneFace.length,
    whole_missed_pasted: frames.filter((r) => !r.wholeBox).length,
    iou_median: round(median(c.map((x) => x.iou))), iou_p5: round(quantile(c.map((x) => x.iou), 0.05)),
    side_ratio_median: round(median(c.map((x) => x.sideRatio))),
    label_agree: round(share(c.map((x) => x.agree))), forced_agree: round(share(c.map((x) => x.forcedAgree))),
    d_happy_median: round(median(c.map((x) => x.dHappy))), d_happy_p95: round(quantile(c.map((x) => x.dHappy), 0.95)), d_happy_max: round(Math.max(...c.map((x) => x.dHappy))),
    d_any_median: round(median(c.map((x) => x.dMax))), d_any_p95: round(quantile(c.map((x) => x.dMax), 0.95)), d_any_max: round(Math.max(...c.map((x) => x.dMax))),
    forced_accuracy_follow: round(share(c.filter((x) => truthOf(x.r)).map((x) => x.followLabel === truthOf(x.r)))),
    forced_accuracy_whole: round(share(c.filter((x) => truthOf(x.r)).map((x) => x.wholeLabel === truthOf(x.r)))),
    whole_step_label_agree: round(share(j.map((x) => x.agree))), whole_step_d_happy_median: round(median(j.map((x) => x.dHappy))), whole_step_d_happy_p95: round(quantile(j.map((x) => x.dHappy), 0.95)),
    gone: g.length, gone_followed: round(share(g.map((x) => x.outcome !== 'let go'))), gone_followed_not_face: round(share(g.map((x) => x.outcome === 'not a face'))),
    follow_ms: round(median(frames.map((r) => r.followMs)), 1), follow_ms_followed: round(median(frames.filter((r) => r.followed).map((r) => r.followMs)), 1),
    whole_ms: round(median(frames.map((r) => r.wholeMs)), 1),
  };
}

const load = loadavg().map((x) => x.toFixed(2)).join(' ');
const table = SIZES.flatMap((size) => (['move', 'zoom', 'all'] as const).map((s) => summary(size, s)));
if (values.frames) {
  const lines = rows.map(({ r, ...x }) => JSON.stringify({ photo: r.photo, size: r.size, sequence: r.sequence, t: r.t, faces0: r.faces0, source_side: Math.round(r.sourceSide), follow_box: r.followBox, whole_box: r.wholeBox, ...x }));
  const lost = results.filter((r) => !r.followed).map((r) => JSON.stringify({ photo: r.photo, size: r.size, sequence: r.sequence, t: r.t, faces0: r.faces0, source_side: Math.round(r.sourceSide), lost: true, whole_box: r.wholeBox, pasted_box: r.pastedBox.map((v) => Math.round(v)) }));
  const stuck = goneResults.filter((x) => x.outcome !== 'let go').map((x) => JSON.stringify({ ...x, gone: true }));
  await writeFile(values.frames, `${[...lines, ...lost, ...stuck].join('\n')}\n`, { flag: 'wx' });
}
if (values.json) {
  for (const row of table) console.log(JSON.stringify({ ...row, photos: counts.photos, photos_with_face: counts.withFace, seed: SEED, load }));
} else {
  console.log(`\nfollowing faces vs searching the whole frame: ${counts.withFace} of ${counts.photos} photos with a face (seed ${SEED}), ${counts.sequences} sequences of 1 searched + ${FOLLOWERS} followed 640x480 frames (${counts.lostAtStart} dropped: the pasted face not found in frame 0); load ${load}`);
  const fmt = (x: number | null, pct = false) => (x === null ? '-' : pct ? `${(100 * x).toFixed(1)}%` : String(x));
  const lines: [string, (r: ReturnType<typeof summary>) => string][] = [
    ['frames followed (a)', (r) => `${fmt(r.followed, true)} of ${r.frames}`],
    ['  with one face in frame 0', (r) => `${fmt(r.followed_one_face, true)} of ${r.one_face_frames}`],
    ['box IoU median / p5 (b)', (r) => `${fmt(r.iou_median)} / ${fmt(r.iou_p5)}`],
    ['box side follow/whole, median', (r) => fmt(r.side_ratio_median)],
    ['label agreement (c)', (r) => fmt(r.label_agree, true)],
    ['|Δp(happy)| med/p95/max (d)', (r) => `${fmt(r.d_happy_median)} / ${fmt(r.d_happy_p95)} / ${fmt(r.d_happy_max)}`],
    ['max |Δp| med/p95/max (d)', (r) => `${fmt(r.d_any_median)} / ${fmt(r.d_any_p95)} / ${fmt(r.d_any_max)}`],
    ['forced-choice agreement (e)', (r) => fmt(r.forced_agree, true)],
    ['forced-choice accuracy: follow/whole', (r) => `${fmt(r.forced_accuracy_follow, true)} / ${fmt(r.forced_accuracy_whole, true)}`],
    ['whole t vs t-1: label agr.', (r) => fmt(r.whole_step_label_agree, true)],
    ['whole t vs t-1: |Δp(happy)| med/p95', (r) => `${fmt(r.whole_step_d_happy_median)} / ${fmt(r.whole_step_d_happy_p95)}`],
    ['face gone: followed anyway (g)', (r) => `${fmt(r.gone_followed, true)} of ${r.gone}`],
    ['  onto no face a whole search finds', (r) => fmt(r.gone_followed_not_face, true)],
    ['face step ms: follow / whole (f)', (r) => `${fmt(r.follow_ms)} / ${fmt(r.whole_ms)}`],
    ['  follow, followed frames only', (r) => fmt(r.follow_ms_followed)],
  ];
  for (const size of SIZES) {
    const cols = table.filter((r) => r.size === size);
    console.log(`\nface ${size} px (compared on followed frames: ${cols.map((c) => `${c.sequence} ${c.compared}`).join(', ')})`);
    console.log(`| ${'measure'.padEnd(36)} | ${cols.map((c) => c.sequence.padEnd(22)).join(' | ')} |`);
    console.log(`| ${'-'.repeat(36)} | ${cols.map(() => '-'.repeat(22)).join(' | ')} |`);
    for (const [name, f] of lines) console.log(`| ${name.padEnd(36)} | ${cols.map((c) => f(c).padEnd(22)).join(' | ')} |`);
  }
}
