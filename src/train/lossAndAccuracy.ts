/** Mean loss and accuracy of raw outputs against targets, computed in JS (no tensors). */
export function lossAndAccuracy(output: 'sigmoid' | 'softmax', raw: Float32Array, targets: Float32Array, n: number): { loss: number; accuracy: number } {
  const eps = 1e-7;
  const clip = (v: number) => Math.min(1 - eps, Math.max(eps, v));
  let loss = 0;
  let correct = 0;
  if (output === 'sigmoid') {
    for (let i = 0; i < n; i++) {
      const p = clip(raw[i]);
      const t = targets[i];
      loss -= t * Math.log(p) + (1 - t) * Math.log(1 - p);
      if (raw[i] >= 0.5 === t >= 0.5) correct++;
    }
  } else {
    const K = raw.length / n;
    for (let i = 0; i < n; i++) {
      let best = 0;
      for (let k = 0; k < K; k++) {
        if (targets[i * K + k] > 0) loss -= targets[i * K + k] * Math.log(clip(raw[i * K + k]));
        if (raw[i * K + k] > raw[i * K + best]) best = k;
      }
      if (targets[i * K + best] >= 0.5) correct++;
    }
  }
  return { loss: n ? loss / n : NaN, accuracy: n ? correct / n : NaN };
}
