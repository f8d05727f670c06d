import { HappysadError } from '../base/errors.js';
import { formatBytes } from '../base/formatBytes.js';

/** What every failed request answers: `{ "error": { "code", "message" } }`, plus `results` for a batch that failed as a whole. */
export interface ErrorBody {
  error: { code: string; message: string };
  results?: unknown[];
}

/**
 * An error the server answers on purpose. The code is the contract with clients (they branch on
 * it); the status follows from the code so that the same problem always gets the same status.
 */
export class ApiError extends HappysadError {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly results?: unknown[];

  constructor(code: string, message: string, options: { headers?: Record<string, string>; results?: unknown[]; cause?: unknown } = {}) {
    super(code, message, { cause: options.cause });
    this.status = statusForCode(code);
    this.headers = options.headers ?? {};
    this.results = options.results;
  }

  get body(): ErrorBody {
    return { error: { code: this.code, message: this.message }, ...(this.results ? { results: this.results } : {}) };
  }
}

const STATUS: Record<string, number> = {
  'bad-request': 400,
  'bad-multipart': 400,
  'bad-url': 400,
  'no-image': 400,
  forbidden: 403,
  'not-found': 404,
  'method-not-allowed': 405,
  'request-timeout': 408,
  'body-too-large': 413,
  'too-many-files': 413,
  'image-too-large': 413,
  'image-not-image': 415,
  'image-unsupported': 415,
  'image-corrupt': 422,
  'image-too-small': 422,
  'image-unreadable': 422,
  decode: 422,
  'video-too-large': 413,
  'video-unsupported': 415,
  'video-corrupt': 422,
  'ffmpeg-missing': 501,
  'rate-limited': 429,
  'headers-too-large': 431,
  internal: 500,
  'queue-full': 503,
  timeout: 503,
  'shutting-down': 503,
};

export function statusForCode(code: string): number {
  return STATUS[code] ?? (code.startsWith('image-') ? 422 : 500);
}

/**
 * Turns anything thrown while handling a request into an ApiError. Fastify's and the multipart
 * parser's own errors carry FST_* codes that mean nothing to a client, so they are renamed here;
 * anything unexpected becomes `internal` without its message, which may hold paths or internals.
 */
export function toApiError(err: unknown, bodyLimit?: number): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof HappysadError) return new ApiError(err.code in STATUS || err.code.startsWith('image-') ? err.code : 'bad-request', err.message, { cause: err });
  const e = err as { code?: string; statusCode?: number; message?: string } | undefined;
  const code = typeof e?.code === 'string' ? e.code : '';
  const message = typeof e?.message === 'string' ? e.message : String(err);
  switch (code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
    case 'FST_REQ_FILE_TOO_LARGE':
      return new ApiError('body-too-large', `request body is larger than this server's limit${bodyLimit ? ` of ${formatBytes(bodyLimit)}` : ''}; send a smaller image (the operator can raise --body-limit)`, { cause: err });
    case 'FST_FILES_LIMIT':
    case 'FST_PARTS_LIMIT':
    case 'FST_FIELDS_LIMIT':
      return new ApiError('too-many-files', 'too many files or fields in one multipart request; send fewer at a time', { cause: err });
    case 'FST_INVALID_MULTIPART_CONTENT_TYPE':
    case 'FST_MP_PREMATURE_CLOSE':
    case 'FST_PROTO_VIOLATION':
    case 'FST_INVALID_JSON_FIELD_ERROR':
      return new ApiError('bad-multipart', `malformed multipart body: ${message}`, { cause: err });
    case 'FST_ERR_BAD_URL':
      return new ApiError('bad-url', 'the request URL is not valid (bad percent-encoding?)', { cause: err });
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new ApiError('bad-request', 'Content-Length does not match the body that was sent', { cause: err });
  }
  if (e?.statusCode === 429) return new ApiError('rate-limited', message, { cause: err });
  // @fastify/send refuses paths that climb out of the page's folder with a bare 403.
  if (e?.statusCode === 403) return new ApiError('forbidden', 'that path is not served: it leaves the page\'s folder or is malformed', { cause: err });
  // busboy reports a cut-off or garbled multipart stream as a plain Error.
  if (/multipart|boundary|Unexpected end of form|Malformed part header/i.test(message)) return new ApiError('bad-multipart', `malformed multipart body: ${message}`, { cause: err });
  if (typeof e?.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) return new ApiError('bad-request', message, { cause: err });
  return new ApiError('internal', 'the server failed while handling this request; it has been logged', { cause: err });
}
