import { HappysadError } from '../../base/errors.js';

/** A Keras .h5 file that cannot be turned into a happysad bundle: not HDF5, not Keras, or unsupported. */
export class KerasImportError extends HappysadError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('keras-import', message, options);
  }
}

/** A bundle that cannot be written as a Keras .h5 file (a layer Keras 2 has no equivalent for). */
export class KerasExportError extends HappysadError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('keras-export', message, options);
  }
}
