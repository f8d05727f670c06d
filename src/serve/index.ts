export { createServer } from './createServer.js';
export { DEFAULT_SERVE_OPTIONS, type ServeOptions } from './serveOptions.js';
export type { ServableModel } from './servableModel.js';
export type { PredictResponse } from './predictRoute.js';
export { ApiError, type ErrorBody } from './apiError.js';
