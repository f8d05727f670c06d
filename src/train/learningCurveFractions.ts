/** The shares of the training images train --learning-curve trains on before the full run (light: the command table reads it). */
export const LEARNING_CURVE_FRACTIONS = [0.25, 0.5, 0.75] as const;
