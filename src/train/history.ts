/** One row of training history, named as Keras names them so the JSON reads familiar. */
export interface EpochRecord {
  epoch: number; // 1-based
  loss: number;
  accuracy: number;
  val_loss?: number;
  val_accuracy?: number;
  seconds: number;
}

export interface TrainingHistory {
  epochs: EpochRecord[];
  /** The epoch (1-based) whose weights the saved model holds; undefined before any epoch ends. */
  bestEpoch?: number;
  monitor: 'val_loss' | 'loss';
  stoppedEarly: boolean;
  interrupted: boolean;
}
