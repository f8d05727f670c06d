/**
 * Every error a user can cause carries a stable `code` and a message that says which file, what is
 * wrong and what to do. The CLI prints `message` alone; the server returns `{code, message}`.
 */
export class HappysadError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** The dataset folder is missing, empty or laid out in a way we cannot read. */
export class DatasetError extends HappysadError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('dataset', message, options);
  }
}

/** One image could not be used: unreadable, corrupt, not an image, too small or too large. */
export class ImageError extends HappysadError {
  readonly file: string;
  readonly problem: ImageProblemKind;
  constructor(file: string, problem: ImageProblemKind, message: string, options?: { cause?: unknown }) {
    super(`image-${problem}`, message, options);
    this.file = file;
    this.problem = problem;
  }
}

export type ImageProblemKind = 'corrupt' | 'not-image' | 'unsupported' | 'too-small' | 'too-large' | 'duplicate' | 'near-duplicate' | 'unreadable';

/** A model bundle is missing, from an unknown format version, or inconsistent with itself. */
export class BundleError extends HappysadError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('bundle', message, options);
  }
}

/** An option value is out of range or malformed (bad --input, unknown arch, ...). */
export class OptionError extends HappysadError {
  constructor(message: string) {
    super('option', message);
  }
}

/** An output path would overwrite or mix with something the user made (a file, their data, another model). */
export class OutputError extends HappysadError {
  constructor(message: string) {
    super('output', message);
  }
}

/** A video could not be read: ffmpeg is missing, or the file is damaged or over the limits. */
export class VideoError extends HappysadError {
  constructor(code: 'ffmpeg-missing' | 'video-corrupt' | 'video-too-large' | 'video-unsupported', message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}
