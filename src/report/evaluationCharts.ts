import type { EvaluationReport } from '../evaluate/computeMetrics.js';
import type { ReliabilityBin } from '../evaluate/expectedCalibrationError.js';
import type { OperatingPoint, PrCurve, RocCurve } from '../evaluate/curves.js';
import { PALETTE, type ChartLayer, type ChartSpec } from './renderChart.js';

type ChartMark = Extract<ChartLayer, { mark: unknown }>['mark'];

/**
 * The evaluation report's charts, as vega-lite specs over the report's own data: whatever a chart
 * shows is in report.json too.
 */

const SQUARE = { width: 300, height: 300 };
/** A rate or probability axis: always 0 to 1, so charts of different models compare at a glance. */
const unit = (field: string, title?: string) => ({ field, type: 'quantitative' as const, scale: { domain: [0, 1], nice: false }, axis: { tickCount: 5 }, ...(title ? { title } : {}) });
/** Lines follow the curve's own order: a vertical run (equal x) must keep its direction. */
const inOrder = <T extends object>(points: T[]) => points.map((p, index) => ({ ...p, index }));
const ORDER = { order: { field: 'index', type: 'quantitative' } } as const;
const fmt = (x: number) => x.toFixed(3);

/**
 * The model's own cut on a curve: its fields are the chart's x and y fields, both 0 to 1. The
 * label goes on the side of the point that faces the plot's centre, so it stays inside the plot:
 * at (0, 0) (a cut that calls nothing positive) below-right would sit on the axis' tick labels,
 * and near x = 1 it would run out past the right edge.
 */
function operatingPointLayer(point: Record<string, number>, threshold: number): ChartLayer {
  const [x, y] = Object.values(point) as [number, number];
  const right = x <= 0.5;
  const below = y > 0.5;
  return {
    data: { values: [{ ...point, label: `threshold ${threshold.toFixed(3)}` }] },
    layer: [
      { mark: { type: 'point', shape: 'circle', filled: true, size: 90, opacity: 1, color: PALETTE.vermillion, stroke: '#ffffff', strokeWidth: 1.5 } },
      { mark: { type: 'text', align: right ? 'left' : 'right', baseline: below ? 'top' : 'bottom', dx: right ? 9 : -9, dy: below ? 6 : -6, fontSize: 11, color: PALETTE.vermillion }, encoding: { text: { field: 'label' } } },
    ],
  };
}

const CHANCE = { type: 'line', color: '#999999', strokeDash: [4, 4], strokeWidth: 1 } satisfies ChartMark;
const CURVE = { type: 'line', color: PALETTE.blue, strokeWidth: 2 } satisfies ChartMark;

/** True against false positive rate as the cut moves, with chance (the diagonal) and the model's own cut. */
export function rocSpec(roc: RocCurve, op: OperatingPoint | null, positiveClass: string): ChartSpec {
  const layer: ChartLayer[] = [
    { data: { values: [{ fpr: 0, tpr: 0 }, { fpr: 1, tpr: 1 }] }, mark: { ...CHANCE } },
    { data: { values: inOrder(roc.points) }, mark: CURVE, encoding: ORDER },
  ];
  if (op) layer.push(operatingPointLayer({ fpr: op.fpr, tpr: op.tpr }, op.threshold));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    description: `ROC curve of ${positiveClass}: area ${fmt(roc.auc)}`,
    title: { text: 'ROC curve', subtitle: `${positiveClass} as positive · AUC ${fmt(roc.auc)}` },
    ...SQUARE,
    encoding: { x: unit('fpr', 'False positive rate'), y: unit('tpr', `True positive rate (recall of ${positiveClass})`) },
    layer,
  };
}

/**
 * Precision against recall, drawn as steps (the precision of each cut holds until the next):
 * the area under these steps is the average precision. The dashed line is a classifier that
 * guesses (precision = the share of positives).
 */
export function precisionRecallSpec(pr: PrCurve, op: OperatingPoint | null, positiveClass: string): ChartSpec {
  const layer: ChartLayer[] = [
    { data: { values: [{ recall: 0, precision: pr.prevalence }, { recall: 1, precision: pr.prevalence }] }, mark: { ...CHANCE } },
    { data: { values: inOrder(pr.points) }, mark: { ...CURVE, interpolate: 'step-before' }, encoding: ORDER },
  ];
  if (op && op.precision !== null) layer.push(operatingPointLayer({ recall: op.tpr, precision: op.precision }, op.threshold));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    description: `Precision-recall curve of ${positiveClass}: average precision ${fmt(pr.averagePrecision)}`,
    title: { text: 'Precision–recall curve', subtitle: `${positiveClass} as positive · average precision ${fmt(pr.averagePrecision)}` },
    ...SQUARE,
    encoding: { x: unit('recall', `Recall of ${positiveClass}`), y: unit('precision', `Precision of ${positiveClass}`) },
    layer,
  };
}

/** Counts by true and predicted class, shaded by the share of the true class (its row), so a small class's errors show. */
export function confusionSpec(metrics: EvaluationReport): ChartSpec {
  const { labels, matrix } = metrics.confusion;
  const values = labels.flatMap((truth, i) => {
    const rowTotal = matrix[i].reduce((a, b) => a + b, 0);
    return labels.map((predicted, j) => {
      const share = rowTotal === 0 ? 0 : matrix[i][j] / rowTotal;
      return { truth, predicted, count: matrix[i][j], share, label: `${matrix[i][j]}\n${(100 * share).toFixed(1)}%` };
    });
  });
  const cell = Math.max(60, Math.min(110, Math.floor(300 / Math.max(1, labels.length))));
  const axis = (title: string) => ({ type: 'nominal', sort: labels, title, axis: { labelAngle: 0, labelFontSize: 12, labelLimit: 120 } }) as const;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    description: 'Confusion matrix: rows are true classes, columns predicted classes',
    title: { text: 'Confusion matrix', subtitle: 'cell: images · share of the true class' },
    width: cell * labels.length,
    height: cell * labels.length,
    data: { values },
    encoding: { x: { field: 'predicted', ...axis('Predicted class'), axis: { orient: 'top', labelAngle: 0, labelFontSize: 12, labelLimit: 120 } }, y: { field: 'truth', ...axis('True class') } },
    layer: [
      { mark: { type: 'rect', stroke: '#ffffff', strokeWidth: 2 }, encoding: { color: { field: 'share', type: 'quantitative', scale: { domain: [0, 1], scheme: 'blues' }, legend: null } } },
      {
        mark: { type: 'text', fontSize: 13, lineBreak: '\n', lineHeight: 17 },
        // Dark cells get light text; the cut is where the blues scheme turns dark.
        encoding: { text: { field: 'label' }, color: { condition: { test: 'datum.share > 0.55', value: '#ffffff' }, value: PALETTE.text } },
      },
    ],
  };
}

/** How scores spread for each true class, with the cut marked: overlap is where mistakes come from. */
export function scoreHistogramSpec(images: { truth: string; score: number }[], classes: string[], positiveClass: string, threshold: number, step: number): ChartSpec {
  const present = classes.filter((c) => images.some((r) => r.truth === c));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    description: `Histograms of p(${positiveClass}) per true class, decision threshold ${threshold}`,
    title: { text: `Scores by true class`, subtitle: `p(${positiveClass}) · threshold ${threshold.toFixed(3)} (dashed): at or above it is called ${positiveClass}` },
    data: { values: images.map((r) => ({ truth: r.truth, score: r.score })) },
    facet: { row: { field: 'truth', type: 'nominal', sort: present, title: null, header: { labelExpr: "'true: ' + datum.value", labelOrient: 'top', labelAngle: 0, labelAlign: 'left', labelAnchor: 'start', labelFontSize: 12, labelFontWeight: 600, labelPadding: 4 } } },
    spec: {
      width: 420,
      height: 90,
      layer: [
        {
          mark: { type: 'bar', binSpacing: 1 },
          encoding: {
            x: { field: 'score', type: 'quantitative', bin: { extent: [0, 1], step }, title: `Score: p(${positiveClass})`, scale: { domain: [0, 1] } },
            y: { aggregate: 'count', type: 'quantitative', title: 'Images', axis: { tickMinStep: 1, format: 'd', tickCount: 4 } },
            color: { field: 'truth', type: 'nominal', scale: { domain: classes }, legend: null },
          },
        },
        { mark: { type: 'rule', color: PALETTE.text, strokeDash: [5, 3], strokeWidth: 1.5 }, encoding: { x: { datum: threshold, type: 'quantitative' } } },
      ],
    },
    resolve: { scale: { y: 'independent' } },
  };
}

/**
 * The reliability diagram: for each bin of top-label confidence, the share of its images that were
 * right (bars) against the diagonal a calibrated model would follow, the bin's mean confidence
 * marked and the gap to it shaded; below, how many images each bin holds, since a bar of three images says little.
 */
export function reliabilitySpec(bins: ReliabilityBin[], ece: number): ChartSpec {
  const values = bins.map((b) => ({ ...b, middle: (b.lower + b.upper) / 2 }));
  const x = { field: 'lower', type: 'quantitative' as const, scale: { domain: [0, 1], nice: false }, axis: { tickCount: 5 } };
  const x2 = { field: 'upper' };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    description: `Reliability diagram: accuracy against confidence in ${bins.length} non-empty bins; expected calibration error ${fmt(ece)}`,
    title: { text: 'Reliability', subtitle: [`ECE ${fmt(ece)} (0 = calibrated) · bars: share right per confidence bin`, 'red line: the bin\'s mean confidence, shaded: the gap · dashed: calibrated'] },
    vconcat: [
      {
        ...SQUARE,
        layer: [
          { data: { values: [{ x: 0, y: 0 }, { x: 1, y: 1 }] }, mark: { ...CHANCE }, encoding: { x: unit('x'), y: unit('y') } },
          {
            data: { values },
            layer: [
              { mark: { type: 'bar', color: PALETTE.blue, opacity: 0.85, stroke: '#ffffff', strokeWidth: 1 }, encoding: { x: { ...x, title: null }, x2, y: unit('accuracy', 'Accuracy (share right)'), y2: { datum: 0 } } },
              { mark: { type: 'bar', color: PALETTE.vermillion, opacity: 0.3 }, encoding: { x: { ...x, title: null }, x2, y: { field: 'accuracy', type: 'quantitative' }, y2: { field: 'confidence' } } },
              // Where the bar would reach if the bin were calibrated: its images' mean confidence.
              { mark: { type: 'rule', color: PALETTE.vermillion, strokeWidth: 2.5 }, encoding: { x: { ...x, title: null }, x2, y: { field: 'confidence', type: 'quantitative' } } },
            ],
          },
        ],
      },
      {
        width: SQUARE.width,
        height: 70,
        data: { values },
        layer: [
          { mark: { type: 'bar', color: PALETTE.grey, opacity: 0.6, stroke: '#ffffff', strokeWidth: 1 }, encoding: { x: { ...x, title: 'Confidence (largest class probability)' }, x2, y: { field: 'count', type: 'quantitative', title: 'Images', axis: { tickCount: 2, format: 'd' } }, y2: { datum: 0 } } },
          // The count over each bar: a bin of a handful of images is visible here however tall the others are.
          { mark: { type: 'text', fontSize: 9, baseline: 'bottom', dy: -2, color: PALETTE.text }, encoding: { x: { field: 'middle', type: 'quantitative' }, y: { field: 'count', type: 'quantitative' }, text: { field: 'count', type: 'quantitative', format: '.2~s' } } },
        ],
      },
    ],
  };
}
