import type { LayersModel } from '@tensorflow/tfjs';

export interface LayerSummary {
  name: string;
  type: string;
  outputShape: (number | null)[];
  params: number;
}

export interface ModelSummary {
  name: string;
  input: number[];
  params: number;
  trainableParams: number;
  layers: LayerSummary[];
}

export function summarizeModel(model: LayersModel, name = model.name): ModelSummary {
  const layers = model.layers.map((l) => ({
    name: l.name,
    type: l.getClassName(),
    outputShape: (Array.isArray(l.outputShape[0]) ? l.outputShape[0] : l.outputShape) as (number | null)[],
    params: l.countParams(),
  }));
  const trainableParams = model.trainableWeights.reduce((n, w) => n + (w.shape as number[]).reduce((a, b) => a * b, 1), 0);
  return {
    name,
    input: (model.inputs[0].shape.slice(1) as number[]),
    params: layers.reduce((n, l) => n + l.params, 0),
    trainableParams,
    layers,
  };
}

/** The table Keras' model.summary() prints, so users of the original projects can compare. */
export function formatModelSummary(s: ModelSummary): string {
  const rows = s.layers.map((l) => [`${l.name} (${l.type})`, `(${['None', ...l.outputShape.slice(1).map(String)].join(', ')})`, l.params.toLocaleString('en-US')]);
  const head = ['Layer (type)', 'Output Shape', 'Param #'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)) + 2);
  const line = (cells: string[]) => cells.map((c, i) => (i === 2 ? c.padStart(widths[i] - 2) : c.padEnd(widths[i]))).join('');
  const rule = (ch: string) => ch.repeat(widths.reduce((a, b) => a + b, 0));
  return [
    `Model: "${s.name}"  input ${s.input.join('x')}`,
    rule('_'),
    line(head),
    rule('='),
    ...rows.flatMap((r, i) => [line(r), i < rows.length - 1 ? rule('_') : rule('=')]),
    `Total params: ${s.params.toLocaleString('en-US')}`,
    `Trainable params: ${s.trainableParams.toLocaleString('en-US')}`,
    `Non-trainable params: ${(s.params - s.trainableParams).toLocaleString('en-US')}`,
  ].join('\n');
}
