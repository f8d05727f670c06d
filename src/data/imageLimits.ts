/** Bounds on what an input image may be; shared by clean, train, predict and serve. */
export interface ImageLimits {
  /** Smallest accepted side in pixels; below it an image carries too little to classify. */
  minSide: number;
  /** Largest accepted width x height, checked from the header before decoding (decompression bombs). */
  maxPixels: number;
}

export const DEFAULT_IMAGE_LIMITS: ImageLimits = {
  minSide: 32,
  maxPixels: 64_000_000,
};
