/** Keras 2.x HDF5 (.h5) interop: import Keras models as happysad bundles, export bundles for Keras. */
export { importKerasModel, type KerasImportOptions, type KerasImportResult } from './importKeras.js';
export { exportKerasModel, KERAS_EXPORT_VERSION, type KerasExportResult } from './exportKeras.js';
export { KerasImportError, KerasExportError } from './errors.js';
export { SUPPORTED_LAYERS } from './kerasConfig.js';
