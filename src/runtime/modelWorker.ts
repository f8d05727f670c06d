import { parentPort } from 'node:worker_threads';
import { initEngine, tf } from '../engine/engine.js';
import { modelFromTopology } from '../engine/modelFromTopology.js';
import { toInputTensor } from './toInputTensor.js';
import { computeGradients } from './computeGradients.js';
import { predictRaw } from './predictRaw.js';
import { installSampleDropout, type DropoutContext } from './sampleDropout.js';
import { weightLayout, readWeightsInto } from './weightLayout.js';
import type { WorkerInit, WorkerReply, WorkerRequest } from './workerMessages.js';
import type { LayersModel } from '@tensorflow/tfjs';

/**
 * A replica of the model in its own thread and its own WASM engine. In training it computes the
 * gradients of one slice of each batch and hands them back through shared memory; it never updates
 * weights itself, the main thread's optimiser step is the only one, so replicas cannot drift
 * apart. In inference it runs the forward pass on the images it is sent.
 */
let init: WorkerInit;
let model: LayersModel;
let dropout: DropoutContext;

const port = parentPort!;
const reply = (m: WorkerReply) => port.postMessage(m);

port.on('message', async (m: WorkerRequest) => {
  try {
    if (m.type === 'init') {
      init = m;
      await initEngine();
      // Zeros to start with: readWeightsInto sets every weight next.
      model = await modelFromTopology(tf, JSON.parse(m.topology));
      readWeightsInto(model, new Float32Array(m.weights));
      dropout = installSampleDropout(model, m.seed);
      reply({ type: 'ready' });
    } else if (m.type === 'step') {
      readWeightsInto(model, new Float32Array(init.weights));
      dropout.step = m.step;
      dropout.offset = m.offset;
      const units = init.output === 'sigmoid' ? 1 : m.targets.length / m.n;
      const x = toInputTensor(m.pixels, m.n, init.spec);
      const y = tf.tensor2d(m.targets, [m.n, units]);
      const w = tf.tensor1d(m.sampleWeights);
      const g = computeGradients(model, x, y, w, init.output, m.batchSize);
      x.dispose();
      y.dispose();
      w.dispose();
      const out = new Float32Array(init.grads!);
      const layout = weightLayout(model);
      let at = 0;
      for (const t of g.grads) {
        out.set(t.dataSync(), at);
        at += t.size;
        t.dispose();
      }
      for (const i of layout.nonTrainable) {
        const v = model.weights[i].read();
        out.set(v.dataSync(), at);
        at += v.size;
      }
      reply({ type: 'step-done', lossSum: g.lossSum, correct: g.correct });
    } else if (m.type === 'predict') {
      if (m.syncWeights) readWeightsInto(model, new Float32Array(init.weights));
      const copy = predictRaw(model, m.pixels, m.n, init.spec, m.n);
      port.postMessage({ type: 'predict-done', output: copy } satisfies WorkerReply, [copy.buffer as ArrayBuffer]);
    } else if (m.type === 'close') {
      model?.dispose();
      port.close();
    }
  } catch (err) {
    reply({ type: 'error', message: err instanceof Error ? err.stack ?? err.message : String(err) });
  }
});
