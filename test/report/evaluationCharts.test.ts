import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { OperatingPoint, PrCurve, RocCurve } from '../../src/evaluate/curves.js';
import { precisionRecallSpec, rocSpec } from '../../src/report/evaluationCharts.js';
import { renderChartSvg } from '../../src/report/renderChart.js';

const PLOT = 300; // the charts' square plot, in SVG pixels
const FONT = 11;

/**
 * Where the rendered "threshold …" label sits in the plot: its anchor (vega writes the alphabetic
 * baseline in translate()) and, from a generous 0.62 em per character, the box it covers.
 */
async function labelBox(spec: Parameters<typeof renderChartSvg>[0]): Promise<{ left: number; right: number; top: number; bottom: number }> {
  const svg = await renderChartSvg(spec);
  const m = /<text[^>]*text-anchor="(start|middle|end)"[^>]*transform="translate\(([-\d.]+),([-\d.]+)\)"[^>]*>(threshold [\d.]+)<\/text>/.exec(svg);
  assert.ok(m, 'the chart has a threshold label');
  const [, anchor, x, y, text] = m as unknown as [string, string, string, string, string];
  const width = text.length * FONT * 0.62;
  const left = anchor === 'start' ? Number(x) : anchor === 'end' ? Number(x) - width : Number(x) - width / 2;
  return { left, right: left + width, top: Number(y) - FONT * 0.8, bottom: Number(y) + FONT * 0.25 };
}

const roc = (auc: number): RocCurve => ({ points: [{ fpr: 0, tpr: 0, threshold: null }, { fpr: 0.3, tpr: 0.6, threshold: 0.4 }, { fpr: 1, tpr: 1, threshold: 0 }], auc }) as RocCurve;
const pr: PrCurve = { points: [{ recall: 0, precision: 1 }, { recall: 0.95, precision: 0.9 }, { recall: 1, precision: 0.5 }], averagePrecision: 0.9, prevalence: 0.5 } as PrCurve;
const at = (fpr: number, tpr: number, precision: number | null = null): OperatingPoint => ({ threshold: 0.5, fpr, tpr, precision }) as OperatingPoint;

test('the operating point label stays inside the plot, off the axes, wherever the point is', async () => {
  const cases: [string, Parameters<typeof renderChartSvg>[0]][] = [
    ['ROC at (0, 0): a cut that calls nothing positive', rocSpec(roc(0.65), at(0, 0), 'happy')],
    ['ROC at (1, 1): a cut that calls everything positive', rocSpec(roc(0.65), at(1, 1), 'happy')],
    ['ROC at (0.1, 0.9)', rocSpec(roc(0.65), at(0.1, 0.9), 'happy')],
    ['PR at recall 0.95, precision 0.9', precisionRecallSpec(pr, at(0.1, 0.95, 0.9), 'happy')],
    ['PR at recall 0.05, precision 0.1', precisionRecallSpec(pr, at(0.01, 0.05, 0.1), 'happy')],
  ];
  for (const [what, spec] of cases) {
    const box = await labelBox(spec);
    assert.ok(box.left >= 0 && box.right <= PLOT, `${what}: label spans x ${box.left.toFixed(0)}..${box.right.toFixed(0)}, outside 0..${PLOT}`);
    assert.ok(box.top >= 0 && box.bottom <= PLOT, `${what}: label spans y ${box.top.toFixed(0)}..${box.bottom.toFixed(0)}, outside 0..${PLOT} (the x axis' ticks are below ${PLOT})`);
  }
});
