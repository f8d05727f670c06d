/**
 * What `clean` finds beyond broken files: near-duplicate groups and shortcut attributes. Shared by
 * cleanDataset (which produces them), train (which warns), the CLI and the clean report.
 */

/** Attributes of an image that are not its expression, read from the file and a small decode. */
export interface ImageAttributes {
  format: string;
  width: number;
  height: number;
  /** width / height, after EXIF orientation. */
  aspect: number;
  /** Mean chroma (0 = gray, ~0.3+ = vivid), from a 64x64 thumbnail in sRGB, channels scaled to [0, 1]. */
  colourfulness: number;
  /**
   * colourfulness below GRAYSCALE_COLOURFULNESS and hardly any pixel coloured (see imageAttributes):
   * a gray or near-gray picture, not a colour figure on white.
   */
  grayscale: boolean;
  /** Mean luma in [0, 1]. */
  brightness: number;
  /** Standard deviation of luma in [0, 1]. */
  contrast: number;
  /** Share of the picture's area in uniform bands along its edges (letterboxing, frames), 0..1. */
  border: number;
  /** Estimated JPEG quality (1-100) from the quantisation tables; null for other formats. */
  jpegQuality: number | null;
}

/** One attribute that, alone, tells the classes apart better than chance by a clear margin. */
export interface Shortcut {
  attribute: keyof ImageAttributes | string;
  /** Cross-validated balanced accuracy of a classifier that sees only this attribute. */
  balancedAccuracy: number;
  /** Plain-language: how the classes differ, and what to do about it. */
  detail: string;
}

/** Images that are the same picture (re-encoded, resized, recompressed, mirrored, slightly cropped). */
export interface NearDuplicateGroup {
  /** Dataset-relative paths, the kept one first (see cleanDataset for the rule). */
  files: string[];
  /** Labels (class folders) of the files, same order. */
  labels: string[];
  /** Splits of the files (train/val/test; undefined for class folders), same order. */
  splits: (string | undefined)[];
  /** Every matching pair found: hash distance in bits (of 64), and whether it matched as a mirror image. */
  pairs: { a: string; b: string; distance: number; mirrored: boolean }[];
  /** Copies in more than one split: evaluation on those splits is inflated. */
  leak: boolean;
  /** Copies under more than one label: evidence for neither. */
  conflictingLabels: boolean;
}
