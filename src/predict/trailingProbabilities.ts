import { TrailingMean } from './trailingMean.js';

/**
 * Each class's probability averaged over the last `seconds` of a stream (one TrailingMean per
 * class): what a smoothed label is decided on, so that it follows the model's rule for every class
 * and not only the positive one's score.
 */
export class TrailingProbabilities {
  private readonly perClass: TrailingMean[];

  constructor(classCount: number, seconds: number) {
    this.perClass = Array.from({ length: classCount }, () => new TrailingMean(seconds));
  }

  /** The means with this frame's probabilities (class order) included. */
  add(time: number, probabilities: ArrayLike<number>): number[] {
    return this.perClass.map((m, k) => m.add(time, probabilities[k]!));
  }
}
