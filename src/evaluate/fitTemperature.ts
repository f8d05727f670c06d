import type { BundleMetadata } from '../model/bundleMetadata.js';
import { temperatureScale } from '../predict/applyCalibration.js';

/** The temperatures searched: wide enough for any model worth calibrating, bounded so a fit on a few images stays sane. */
export const TEMPERATURE_RANGE = [0.05, 20] as const;

export interface TemperatureFit {
  temperature: number;
  /** Mean negative log-likelihood of the true classes, as the model is (T = 1) and at the fitted T. */
  nllBefore: number;
  nllAfter: number;
}

/** Probabilities this small count as this small in a log-likelihood: one sure mistake must not be infinite. */
const FLOOR = 1e-12;

/**
 * The temperature that minimises the mean negative log-likelihood of the true classes on labelled
 * examples (Guo et al. 2017), from the model's uncalibrated probabilities (`probabilities[i]` in
 * class order, `truth[i]` the true class index; `positive` the class of a sigmoid unit). The
 * likelihood is convex in 1/T, so it has one minimum over log T, found by golden-section search
 * on [log 0.05, log 20]: deterministic, no step size to tune.
 */
export function fitTemperature(probabilities: number[][], truth: ArrayLike<number>, output: BundleMetadata['output'], positive = 0): TemperatureFit {
  const n = truth.length;
  if (n === 0) throw new RangeError('fitTemperature: no examples to fit a temperature on');
  if (probabilities.length !== n) throw new RangeError(`fitTemperature: ${probabilities.length} probability rows for ${n} labels`);
  const nll = (temperature: number) => {
    let sum = 0;
    for (let i = 0; i < n; i++) sum -= Math.log(Math.max(FLOOR, temperatureScale(probabilities[i]!, output, temperature, positive)[truth[i]!]!));
    return sum / n;
  };
  const golden = (Math.sqrt(5) - 1) / 2;
  let a = Math.log(TEMPERATURE_RANGE[0]);
  let b = Math.log(TEMPERATURE_RANGE[1]);
  let c = b - golden * (b - a);
  let d = a + golden * (b - a);
  let fc = nll(Math.exp(c));
  let fd = nll(Math.exp(d));
  // Down to a thousandth in log T: a 0.1% change of T, far below what a validation set resolves.
  while (b - a > 1e-3) {
    if (fc <= fd) {
      b = d;
      d = c;
      fd = fc;
      c = b - golden * (b - a);
      fc = nll(Math.exp(c));
    } else {
      a = c;
      c = d;
      fc = fd;
      d = a + golden * (b - a);
      fd = nll(Math.exp(d));
    }
  }
  const nllBefore = nll(1);
  const temperature = Math.exp((a + b) / 2);
  const nllAfter = nll(temperature);
  // The search cannot do worse than leaving the model alone, but rounding at a flat optimum could.
  return nllAfter <= nllBefore ? { temperature, nllBefore, nllAfter } : { temperature: 1, nllBefore, nllAfter: nllBefore };
}
