/**
 * Keras' EarlyStopping on a quantity to minimise: stop after `patience` epochs without an
 * improvement larger than `minDelta`, and remember which epoch was best so its weights can be
 * restored.
 */
export class EarlyStopping {
  best = Infinity;
  bestEpoch: number | undefined;
  private wait = 0;

  constructor(readonly patience: number, readonly minDelta = 0) {}

  /** Records an epoch's monitored value; `improved` means this epoch is the new best. */
  update(epoch: number, value: number): { improved: boolean; stop: boolean } {
    if (Number.isFinite(value) && value < this.best - this.minDelta) {
      this.best = value;
      this.bestEpoch = epoch;
      this.wait = 0;
      return { improved: true, stop: false };
    }
    this.wait++;
    return { improved: false, stop: this.wait >= this.patience };
  }
}
