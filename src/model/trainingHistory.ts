/** One row of training history, named as Keras names them so the JSON reads familiar. */
export interface EpochRecord {
  epoch: number; // 1-based
  loss: number;
  accuracy: number;
  val_loss?: number;
  val_accuracy?: number;
  /** The learning rate this epoch trained at (a schedule changes it per epoch). */
  lr?: number;
  seconds: number;
}

export interface TrainingHistory {
  epochs: EpochRecord[];
  /** The epoch (1-based) whose weights the saved model holds; undefined before any epoch ends. */
  bestEpoch?: number;
  monitor: 'val_loss' | 'loss';
  stoppedEarly: boolean;
  /** Why training ended before `epochs`: 'early-stopping' (patience ran out) or 'callback' (onEpochEnd/onBatchEnd said stop). */
  stoppedBy?: 'early-stopping' | 'callback';
  interrupted: boolean;
}
