import { basename, join, resolve } from 'node:path';
import sharp from 'sharp';
import { decodeFullImage } from '../input/decodeImage.js';
import { DEFAULT_IMAGE_LIMITS } from '../input/imageLimits.js';
import type { PreprocessSpec } from '../input/preprocessSpec.js';
import type { CleanProblem } from '../data/cleanDataset.js';
import { countProblems, describeProblemKind, formatProblemCounts } from '../data/problemKinds.js';
import type { EvaluationReport } from '../evaluate/computeMetrics.js';
import { confidentMistakes } from '../evaluate/confidentMistakes.js';
import { evaluationWarning } from '../evaluate/learnedNothing.js';
import { operatingPoint, precisionRecallCurve, rocCurve, type OperatingPoint, type PrCurve, type RocCurve } from '../evaluate/curves.js';
import type { EvaluatedImage, EvaluateResult } from '../evaluate/evaluate.js';
import type { FaceBox } from '../faces/types.js';
import type { BundleMetadata, TemperatureCalibration } from '../model/bundleMetadata.js';
import { packageRoot } from '../base/packageRoot.js';
import { confusionSpec, precisionRecallSpec, reliabilitySpec, rocSpec, scoreHistogramSpec } from './evaluationCharts.js';
import { PALETTE, renderChartSvg, scopeSvgIds } from './renderChart.js';
import { esc, fact, reportHead, reportTime, type Thumbnail } from './reportPage.js';
import { claimReportOutput, DEFAULT_REPORT_FOLDER, REPORT_FORMAT, REPORT_HTML, REPORT_JSON, writeReportFiles, type ReportFolderOptions } from './reportOutput.js';

export interface EvaluationReportOptions extends ReportFolderOptions {
  /** How many of the most confident mistakes the gallery shows. */
  mistakes?: number;
  /** Longest side of a gallery thumbnail, in pixels. */
  thumbnailSize?: number;
  /** Width of a score histogram's bins. */
  histogramStep?: number;
}

export const DEFAULT_EVALUATION_REPORT_OPTIONS = {
  mistakes: 12,
  thumbnailSize: 128,
  histogramStep: 0.05,
  ...DEFAULT_REPORT_FOLDER,
} satisfies Required<EvaluationReportOptions>;

/** The model as the report needs it: its metadata and, when known, the folder it was read from. */
export interface ReportedModel {
  metadata: BundleMetadata;
  dir?: string;
}

/** report.json: everything report.html shows, as data (images are referenced by path, not embedded). */
export interface EvaluationReportData {
  format: typeof REPORT_FORMAT;
  formatVersion: 1;
  createdAt: string;
  generator: string;
  model: {
    name: string;
    path: string | null;
    arch: string;
    classes: string[];
    positiveClass: string;
    output: BundleMetadata['output'];
    threshold: number;
    createdAt: string;
    seed: number | null;
    /** An ensemble's members' seeds (its own seed is null). */
    memberSeeds: (number | null)[] | null;
    preprocessing: { summary: string; spec: PreprocessSpec };
    /** What it was trained on, as it recorded it. */
    trainedOn: { root: string; count: number; sha256: string } | null;
    /** The calibration its probabilities went through (null: none; absent in reports from before calibration existed). */
    calibration?: TemperatureCalibration | null;
  };
  data: {
    path: string;
    layout: EvaluateResult['dataset']['layout'];
    split: EvaluateResult['split'];
    /** Images scored, and a hash over their (path, label, split, content hash) list. */
    count: number;
    sha256: string;
    skipped: CleanProblem[];
  };
  metrics: EvaluationReport;
  /**
   * A model with a neither class (neutral) scored without --forced-choice: the forced choice
   * between its pair too, over the images of those two classes (evaluate's `forcedChoice`); null
   * when it does not apply (absent in reports from before it was shown).
   */
  forcedChoice?: EvaluationReport | null;
  /** Findings the page leads with: a model that learned nothing ('collapsed', 'at-chance'; see learnedNothing). */
  warnings: { code: string; message: string }[];
  /** Curves of `positiveClass` against the rest, from the per-image scores; null when a class they need is absent. */
  curves: { positiveClass: string; roc: RocCurve | null; precisionRecall: PrCurve | null; operatingPoint: OperatingPoint | null };
  /** Wrong labels, surest first (`margin`: distance of the score from the threshold). */
  mistakes: (EvaluatedImage & { margin: number })[];
  images: EvaluatedImage[];
}

/** The report's content, computed from an evaluation alone (no image is read). */
export function buildEvaluationReportData(result: EvaluateResult, model: ReportedModel, options: EvaluationReportOptions = {}, now = new Date()): EvaluationReportData {
  const o = { ...DEFAULT_EVALUATION_REPORT_OPTIONS, ...options };
  const m = model.metadata;
  const isPositive = result.rows.map((r) => r.truth === m.positiveClass);
  const scores = result.rows.map((r) => r.score);
  return {
    format: REPORT_FORMAT,
    formatVersion: 1,
    createdAt: now.toISOString(),
    generator: `happysad ${packageRoot().version}`,
    model: {
      name: m.name,
      path: model.dir ? resolve(model.dir) : null,
      arch: m.arch,
      classes: m.classes,
      positiveClass: m.positiveClass,
      output: m.output,
      threshold: m.threshold,
      createdAt: m.createdAt,
      seed: m.seed,
      memberSeeds: m.members ? m.members.map((x) => x.seed) : null,
      preprocessing: { summary: describePreprocessing(m.preprocessing), spec: m.preprocessing },
      trainedOn: m.dataset ? { root: m.dataset.root, ...m.dataset.fingerprint } : null,
      calibration: m.calibration ?? null,
    },
    data: {
      path: resolve(result.dataset.root),
      layout: result.dataset.layout,
      split: result.split,
      ...result.dataset.fingerprint,
      skipped: result.skipped,
    },
    metrics: result.report,
    forcedChoice: result.forcedChoice ?? null,
    warnings: [evaluationWarning(result, m)].filter((w) => w !== undefined),
    curves: {
      positiveClass: m.positiveClass,
      roc: rocCurve(isPositive, scores),
      precisionRecall: precisionRecallCurve(isPositive, scores),
      operatingPoint: operatingPoint(isPositive, scores, m.threshold),
    },
    mistakes: confidentMistakes(result.rows, m.threshold, o.mistakes),
    images: result.rows,
  };
}

/** The preprocessing spec in one line, as a reader checks it: what the model sees of an image. */
export function describePreprocessing(p: PreprocessSpec): string {
  const parts = [`${p.width}×${p.height} ${p.channels === 1 ? 'grayscale' : 'RGB'}`, `resize ${p.resize} (${p.kernel})`, `pixels × ${formatScale(p.scale)}${p.offset ? ` + ${p.offset}` : ''}`];
  if (p.testTimeFlip) parts.push('test-time flip');
  if (p.faces) {
    const f = p.faces;
    parts.push(`faces: ${f.detector}, margin ${f.margin}, ${f.align ? 'eyes levelled' : 'not levelled'}, min score ${f.minScore}${f.wholeImageMaxSide ? `, images ≤ ${f.wholeImageMaxSide} px taken as crops` : ''}`);
  } else {
    parts.push('whole image');
  }
  return parts.join(' · ');
}

function formatScale(scale: number): string {
  const inverse = 1 / scale;
  return Math.abs(inverse - Math.round(inverse)) < 1e-9 ? `1/${Math.round(inverse)}` : String(scale);
}

/**
 * Writes OUT/report.html (one self-contained page: charts as inline SVG, thumbnails as data: URLs,
 * no script, nothing fetched) and OUT/report.json (the same content as data). OUT must be new,
 * empty, or a report written earlier, which is replaced whole; see claimReportOutput.
 */
export async function writeEvaluationReport(result: EvaluateResult, model: ReportedModel, outDir: string, options: EvaluationReportOptions = {}): Promise<{ dir: string; html: string; json: string; replaced: boolean }> {
  const o = { ...DEFAULT_EVALUATION_REPORT_OPTIONS, ...options };
  const claim = await claimReportOutput(outDir, { inputs: [result.dataset.root, ...o.inputs], flag: o.flag });
  const data = buildEvaluationReportData(result, model, o);
  const html = await renderEvaluationReportHtml(data, { root: result.dataset.root, ...o });
  await writeReportFiles(claim, { [REPORT_HTML]: html, [REPORT_JSON]: `${JSON.stringify(data, null, 2)}\n` }, o.flag);
  return { dir: claim.dir, html: join(claim.dir, REPORT_HTML), json: join(claim.dir, REPORT_JSON), replaced: claim.replaces };
}

/** The page: charts rendered from the data's specs, thumbnails read from the dataset at `root`. */
export async function renderEvaluationReportHtml(data: EvaluationReportData, options: { root: string; thumbnailSize?: number; histogramStep?: number }): Promise<string> {
  const o = { ...DEFAULT_EVALUATION_REPORT_OPTIONS, ...options };
  const { model, metrics, curves } = data;
  const chart = async (id: string, spec: Parameters<typeof renderChartSvg>[0]) => `<figure class="chart" id="${id}">${scopeSvgIds(await renderChartSvg(spec), id)}</figure>`;
  // With one class alone there is nothing to rank: precision is 1 (or 0) at every recall.
  const pr = curves.roc ? curves.precisionRecall : null;
  const charts = {
    roc: curves.roc ? await chart('roc-curve', rocSpec(curves.roc, curves.operatingPoint, curves.positiveClass)) : '',
    pr: pr ? await chart('pr-curve', precisionRecallSpec(pr, curves.operatingPoint, curves.positiveClass)) : '',
    confusion: await chart('confusion-matrix', confusionSpec(metrics)),
    histogram: await chart('score-histograms', scoreHistogramSpec(data.images, model.classes, model.positiveClass, model.threshold, o.histogramStep)),
    // Reports written before calibration was measured carry no bins: they render without it.
    reliability: metrics.reliability && metrics.ece !== undefined ? await chart('reliability-diagram', reliabilitySpec(metrics.reliability, metrics.ece)) : '',
  };
  const forced = data.forcedChoice ?? null;
  const forcedConfusion = forced ? await chart('forced-choice-confusion-matrix', confusionSpec(forced)) : '';
  const thumbs = await Promise.all(data.mistakes.map((r) => thumbnail(join(o.root, r.file), r.box, model.preprocessing.spec, o.thumbnailSize)));
  const title = `${model.name} on ${basename(data.data.path)}`;
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
  const tiles: [string, string][] = [
    ...(forced ? [[`Forced choice (${forced.classes.join(' / ')}) balanced accuracy`, pct(forced.balancedAccuracy)] as [string, string]] : []),
    ['Accuracy', pct(metrics.accuracy)],
    ['Balanced accuracy', pct(metrics.balancedAccuracy)],
    ['ROC AUC', metrics.auc === null ? 'n/a' : metrics.auc.toFixed(3)],
    ['Average precision', pr ? pr.averagePrecision.toFixed(3) : 'n/a'],
    ...(metrics.ece === undefined ? [] : [['Calibration error (ECE)', metrics.ece.toFixed(3)] as [string, string]]),
    ['Images', String(metrics.n)],
  ];
  const splitText = data.data.split === 'all' ? 'all images' : `${data.data.split} split`;
  const seeds = model.memberSeeds ? `${model.memberSeeds.map((s) => (s === null ? '?' : String(s))).join(', ')} (ensemble members)` : model.seed === null ? 'not recorded' : String(model.seed);
  const missing = model.classes.filter((c) => !data.images.some((r) => r.truth === c));
  const curvesNote = curves.roc
    ? ''
    : `<p class="note">ROC and precision–recall curves need images of ${esc(model.positiveClass)} and of another class; this data has none of ${esc(missing.join(', '))}.</p>`;

  return `${reportHead(`Evaluation: ${title}`, ALERT_STYLE)}
<header>
<h1>Evaluation: ${esc(title)}</h1>
<p class="sub">${esc(splitText)} · ${metrics.n} images · threshold ${model.threshold.toFixed(3)} on p(${esc(model.positiveClass)}) · ${esc(reportTime(data.createdAt))}</p>
<dl class="tiles">${tiles.map(([k, v]) => `<div><dt>${esc(k)}</dt><dd>${esc(v)}</dd></div>`).join('')}</dl>
${data.warnings.map((w) => `<p class="alert" id="warning-${esc(w.code)}" role="alert"><b>Warning:</b> ${esc(w.message)}</p>`).join('\n')}
</header>
<main>
<section id="fingerprints" class="cards">
<div class="card" id="model">
<h2>Model</h2>
<dl class="facts">
${fact('Name', model.name)}
${model.path ? fact('Folder', model.path, 'mono') : ''}
${fact('Architecture', model.arch)}
${fact('Classes', `${model.classes.join(', ')} (positive: ${model.positiveClass}, ${model.output})`)}
${fact('Threshold', `${model.threshold.toFixed(4)} on p(${model.positiveClass})`)}
${fact('Created', model.createdAt)}
${fact('Seed', seeds)}
${fact('Preprocessing', model.preprocessing.summary)}
${model.calibration ? fact('Calibration', `temperature ${model.calibration.temperature.toFixed(3)}, fitted on ${model.calibration.n} images of ${model.calibration.fittedOn} (ECE there ${model.calibration.eceBefore.toFixed(3)} → ${model.calibration.eceAfter.toFixed(3)})`) : model.calibration === null ? fact('Calibration', 'none: the network\'s own probabilities') : ''}
${model.trainedOn ? fact('Trained on', `${model.trainedOn.root}: ${model.trainedOn.count} images, sha256 ${model.trainedOn.sha256.slice(0, 16)}…`) : ''}
</dl>
</div>
<div class="card" id="data">
<h2>Data</h2>
<dl class="facts">
${fact('Folder', data.data.path, 'mono')}
${fact('Layout', data.data.layout === 'split' ? 'train/val/test folders' : 'class folders')}
${fact('Scored', `${splitText}: ${data.data.count} images (${model.classes.map((c) => `${c} ${metrics.perClass[c]?.support ?? 0}`).join(', ')})`)}
${fact('Fingerprint', `sha256 ${data.data.sha256}`, 'mono')}
${fact('Skipped', data.data.skipped.length ? `${data.data.skipped.length} file(s): ${formatProblemCounts(countProblems(data.data.skipped))}, listed below` : 'none')}
</dl>
</div>
</section>
<section id="ranking">
<h2>How well the scores rank images</h2>
${curvesNote}
<div class="charts">${charts.roc}${charts.pr}</div>
</section>
<section id="decisions">
<h2>Decisions at the threshold</h2>
<div class="charts">${charts.confusion}
${perClassTable(metrics, 'per-class', 'Per class')}
</div>
<div class="charts">${charts.histogram}</div>
</section>
${forced ? `<section id="forced-choice">
<h2>Forced choice: ${esc(forced.classes.join(' or '))} only</h2>
<p class="note">What <code>--forced-choice</code> would answer: each ${esc(forced.classes.join(' or '))} image decided between those two classes alone (the other classes' probabilities set to 0), at the model's forced-choice threshold. Above, a face called ${esc(model.classes.filter((c) => !forced.classes.includes(c)).join(' or '))} counts as wrong; here it cannot be. Balanced accuracy ${pct(forced.balancedAccuracy)}, ROC AUC ${forced.auc === null ? 'n/a' : forced.auc.toFixed(3)}${forced.ece === undefined ? '' : `, ECE ${forced.ece.toFixed(3)}`}, ${forced.n} images.</p>
<div class="charts">${forcedConfusion}
${perClassTable(forced, 'forced-choice-per-class', 'Per class, forced choice')}
</div>
</section>` : ''}
${charts.reliability ? `<section id="calibration">
<h2>Do the probabilities mean what they say?</h2>
<p class="note">Images grouped by the model's confidence (its largest class probability): in a calibrated model, of the images it is 80% sure about, 80% are right, and the bars follow the diagonal. The expected calibration error is the bars' mean distance from their bins' mean confidence (the shaded gaps), weighted by their images.</p>
<div class="charts">${charts.reliability}</div>
</section>` : ''}
<section id="mistakes">
<h2>Most confident mistakes</h2>
${data.mistakes.length === 0
    ? '<p class="note">None: every image was labelled correctly.</p>'
    : `<p class="note">The ${data.mistakes.length} wrongly labelled images whose score lies furthest from the threshold${data.mistakes.some((r) => r.box) ? '; the box is the face the model classified' : ''}.</p>
<div class="gallery">
${data.mistakes.map((r, i) => mistakeFigure(r, thumbs[i], model.positiveClass, Boolean(model.preprocessing.spec.faces))).join('\n')}
</div>`}
</section>
${data.data.skipped.length ? `<section id="skipped"><h2>Skipped files</h2><details><summary>${data.data.skipped.length} file(s) could not be used</summary><ul>${data.data.skipped.map((p) => `<li><code>${esc(p.file)}</code>: ${esc(describeProblemKind(p))}${p.detail ? ` (${esc(p.detail)})` : ''}</li>`).join('')}</ul></details></section>` : ''}
</main>
<footer>Written by ${esc(data.generator)}. <code>report.json</code> beside this page holds the same content as data, every image's score included.</footer>
</body>
</html>
`;
}

function perClassTable(metrics: EvaluationReport, id: string, caption: string): string {
  const rows = metrics.classes.map((c) => { const k = metrics.perClass[c]!; return `<tr><th scope="row">${esc(c)}</th><td>${k.precision.toFixed(3)}</td><td>${k.recall.toFixed(3)}</td><td>${k.f1.toFixed(3)}</td><td>${k.support}</td></tr>`; });
  return `<div class="table-wrap"><table id="${id}">
<caption>${esc(caption)}</caption>
<thead><tr><th scope="col">class</th><th scope="col">precision</th><th scope="col">recall</th><th scope="col">F1</th><th scope="col">support</th></tr></thead>
<tbody>
${rows.join('\n')}
</tbody>
</table></div>`;
}

/** The first screen's warning: as loud as the figures beside it. */
const ALERT_STYLE = `
.alert { border: 1px solid var(--wrong); border-left: 4px solid var(--wrong); border-radius: 8px; background: #fff4f0; padding: 10px 16px; margin: 12px 0 8px; }
.alert b { color: var(--wrong); }
`;

function mistakeFigure(r: EvaluatedImage & { margin: number }, thumb: Thumbnail | null, positiveClass: string, faceModel: boolean): string {
  const alt = `${r.file}: true ${r.truth}, predicted ${r.label}`;
  const image = thumb ? `<img src="${thumb.src}" width="${thumb.width}" height="${thumb.height}" alt="${esc(alt)}">` : `<div class="missing" role="img" aria-label="${esc(alt)}">image unavailable</div>`;
  return `<figure class="mistake">${image}<figcaption><span class="file" title="${esc(r.file)}">${esc(basename(r.file))}</span><span>true <b>${esc(r.truth)}</b> → <b class="wrong">${esc(r.label)}</b></span><span>p(${esc(positiveClass)}) ${r.score.toFixed(3)}</span>${faceModel && !r.box ? '<span class="whole">whole image classified</span>' : ''}</figcaption></figure>`;
}

/**
 * A small JPEG of an original image, with the classified face boxed. The box is in the pixels the
 * detector saw (decodeFullImage: EXIF-rotated, capped size), so the image is decoded that same way
 * before shrinking. Best effort: a file gone or changed since the evaluation gives no thumbnail.
 */
async function thumbnail(file: string, box: FaceBox | undefined, spec: PreprocessSpec, size: number): Promise<Thumbnail | null> {
  try {
    const full = await decodeFullImage(file, spec, DEFAULT_IMAGE_LIMITS);
    const k = size / Math.max(full.width, full.height);
    const width = Math.max(1, Math.round(full.width * k));
    const height = Math.max(1, Math.round(full.height * k));
    let img = sharp(full.data, { raw: { width: full.width, height: full.height, channels: 3 } }).resize(width, height);
    if (box) {
      const [x, y, w, h] = box.map((v) => v * k);
      // A dark outline under the bright stroke keeps the box visible on light and dark photos alike.
      const rect = (stroke: string, strokeWidth: number) => `<rect x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${w.toFixed(1)}" height="${h.toFixed(1)}" fill="none" stroke="${stroke}" stroke-width="${strokeWidth}"/>`;
      const overlay = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">${rect('#000000', 4)}${rect(PALETTE.orange, 2)}</svg>`;
      img = img.composite([{ input: Buffer.from(overlay), left: 0, top: 0 }]);
    }
    const jpeg = await img.jpeg({ quality: 82 }).toBuffer();
    return { src: `data:image/jpeg;base64,${jpeg.toString('base64')}`, width, height };
  } catch {
    return null;
  }
}
