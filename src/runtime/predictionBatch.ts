/**
 * Images per forward pass when a caller gives none. One constant for the forward pass, the
 * classifier, evaluate, the job queue, the server and the CLI's --batch help, so they cannot
 * disagree. Training's batch size (DEFAULT_TRAIN_OPTIONS.batch) is a separate setting: it changes
 * what is learnt, this only how many images share a pass. Kept in a file of its own so the CLI's
 * command table can show it without loading the engine.
 */
export const DEFAULT_PREDICTION_BATCH = 32;
