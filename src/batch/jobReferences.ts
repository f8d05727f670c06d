/**
 * What a queue worker may read on a job's behalf. A job comes from whoever can write to Redis, so
 * its references are untrusted: a path is read only when it is absolute, resolves (symlinks
 * included) under one of the worker's --root folders and is a regular file; a URL is fetched only
 * from a host the worker was given with --allow-host, redirects included, its body capped while it
 * streams. A refusal says why without reading, hashing or echoing anything of the file.
 */
import { constants } from 'node:fs';
import { open, realpath, stat, type FileHandle } from 'node:fs/promises';
import { isAbsolute, resolve, sep } from 'node:path';
import { OptionError } from '../base/errors.js';
import { formatBytes } from '../base/formatBytes.js';
import { messageOf } from '../base/messageOf.js';
import { sniffVideoFormat, type VideoFormat } from '../input/sniffVideoFormat.js';

export interface ReferencePolicy {
  /** Real absolute folders whose files may be read. */
  roots: readonly string[];
  /** Allowed URL hosts, lower case: `host` (any port) or `host:port`. */
  hosts: readonly string[];
}

export const JOB_LIMITS = {
  /** References in one job. */
  maxFiles: 1024,
  maxBatch: 256,
  /** Bytes of one file or response body. */
  maxBytes: 64 * 2 ** 20,
  /** Per file: reading it, or fetching it with its redirects. */
  timeoutMs: 30_000,
  maxRedirects: 3,
  /** Longest reference echoed back in a row. */
  maxReferenceLength: 4096,
};

export interface BatchJob {
  /** QUEUE_PROTOCOL of the producer that queued it; absent in jobs of producers from before. */
  protocol?: number;
  files: string[];
  faces: boolean;
  batch: number;
  /** Decide between two classes only (PredictOptions.forcedChoice); absent in jobs of producers from before. */
  forcedChoice?: boolean;
}

export type ReferenceError = { code: string; message: string };

/** A job's data as a worker receives it, checked; a string says what is wrong with it. */
export function validateBatchJob(data: unknown): BatchJob | string {
  if (typeof data !== 'object' || data === null) return 'the job is not an object';
  const { files, faces, batch, forcedChoice } = data as Record<string, unknown>;
  if (!Array.isArray(files) || files.length === 0) return 'the job has no "files" list';
  if (files.length > JOB_LIMITS.maxFiles) return `the job lists ${files.length} files; at most ${JOB_LIMITS.maxFiles} per job`;
  if (typeof faces !== 'boolean') return '"faces" must be true or false';
  if (!Number.isInteger(batch) || (batch as number) < 1 || (batch as number) > JOB_LIMITS.maxBatch) return `"batch" must be a whole number from 1 to ${JOB_LIMITS.maxBatch}`;
  if (forcedChoice !== undefined && typeof forcedChoice !== 'boolean') return '"forcedChoice" must be true or false';
  // Entries that are not strings still get a row each, named by position, so the batch keeps its shape.
  return { files: files.map((f, i) => (typeof f === 'string' && f.length > 0 && f.length <= JOB_LIMITS.maxReferenceLength ? f : `#${i}`)), faces, batch: batch as number, ...(forcedChoice ? { forcedChoice: true } : {}) };
}

/** A job entry validateBatchJob could not keep: named by position, and why. */
export function invalidEntry(data: unknown, i: number): ReferenceError | undefined {
  const f = (data as { files?: unknown[] }).files?.[i];
  if (typeof f === 'string' && f.length > 0 && f.length <= JOB_LIMITS.maxReferenceLength) return undefined;
  return { code: 'bad-job', message: `#${i}: the job's entry is not a file path or URL (${typeof f === 'string' ? `${f.length} characters` : typeof f}); the producer sent a malformed job` };
}

/** The worker's --root folders, as real paths; each must be a folder. */
export async function resolveRoots(dirs: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const dir of dirs) {
    const real = await realpath(dir).catch(() => undefined);
    if (!real || !(await stat(real)).isDirectory()) throw new OptionError(`--root ${dir}: not a folder; give a folder whose files this worker may read (the shared filesystem the producers' paths are on)`);
    out.push(real);
  }
  return out;
}

/** One --allow-host value: HOST or HOST:PORT, as it appears in a URL. */
export function parseAllowedHost(text: string): string {
  const host = text.trim().toLowerCase();
  let url: URL | undefined;
  try {
    url = new URL(`http://${host}`);
  } catch {
    // reported below
  }
  if (!host || !url || url.host !== host.replace(/:80$/, '') || url.pathname !== '/' || url.username) {
    throw new OptionError(`--allow-host ${text}: expected a host name or address, optionally with :PORT (e.g. images.example.org or 127.0.0.1:8080)`);
  }
  return host;
}

const isUrl = (ref: string) => /^https?:\/\//i.test(ref);

function under(path: string, roots: readonly string[]): boolean {
  return roots.some((root) => path === root || path.startsWith(root.endsWith(sep) ? root : root + sep));
}

function hostAllowed(url: URL, hosts: readonly string[]): boolean {
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  const name = url.hostname.toLowerCase();
  return hosts.some((h) => h === name || h === `${name}:${port}`);
}

/** The bytes a job entry names, or why this worker will not or cannot read them. */
export async function readReference(ref: string, policy: ReferencePolicy, limits = JOB_LIMITS): Promise<Uint8Array | ReferenceError> {
  return isUrl(ref) ? fetchReference(ref, policy, limits) : readPath(ref, policy, limits);
}

/** A path a job names, opened once it has passed every check; the caller closes it. */
async function openPath(ref: string, policy: ReferencePolicy): Promise<{ fh: FileHandle; size: number } | ReferenceError> {
  const refuse = (why: string): ReferenceError => ({ code: 'path-not-allowed', message: `${ref}: ${why}` });
  if (!isAbsolute(ref)) return refuse('a relative path; the producer must send absolute paths (happysad predict --redis does), so every worker reads the same file');
  const rootsHint = policy.roots.length ? `this worker reads only under ${policy.roots.join(', ')}` : 'this worker was started without --root, so it reads no paths';
  // Checked on the path as written first, so nothing outside the roots is even looked up.
  if (!under(resolve(ref), policy.roots)) return refuse(`outside the worker's folders (${rootsHint}; start it with --root on the folder that holds it)`);
  const real = await realpath(ref).catch((err: NodeJS.ErrnoException) => err);
  if (real instanceof Error) return real.code === 'ENOENT' ? { code: 'not-found', message: `${ref}: no such file` } : { code: 'unreadable', message: `${ref}: cannot read file (${real.code ?? real.message})` };
  if (!under(real, policy.roots)) return refuse(`a link that leads outside the worker's folders (${rootsHint})`);
  // O_NONBLOCK: opening a FIFO must not wait for a writer; the fstat below then refuses it.
  const fh = await open(real, constants.O_RDONLY | constants.O_NONBLOCK).catch((err: NodeJS.ErrnoException) => err);
  if (fh instanceof Error) return { code: 'unreadable', message: `${ref}: cannot read file (${fh.code ?? fh.message})` };
  try {
    const info = await fh.stat();
    if (!info.isFile()) {
      await fh.close();
      return { code: 'not-a-file', message: `${ref}: not a regular file (a FIFO, socket, device or folder)` };
    }
    return { fh, size: info.size };
  } catch (err) {
    await fh.close();
    return { code: 'unreadable', message: `${ref}: cannot read file (${(err as NodeJS.ErrnoException).code ?? messageOf(err)})` };
  }
}

async function readPath(ref: string, policy: ReferencePolicy, limits: typeof JOB_LIMITS): Promise<Uint8Array | ReferenceError> {
  const opened = await openPath(ref, policy);
  if (!('fh' in opened)) return opened;
  const { fh, size } = opened;
  try {
    if (size > limits.maxBytes) return { code: 'image-too-large', message: `${ref}: ${formatBytes(size)} is more than a worker reads (${formatBytes(limits.maxBytes)})` };
    const bytes = Buffer.alloc(size);
    let off = 0;
    const deadline = Date.now() + limits.timeoutMs;
    while (off < bytes.length) {
      if (Date.now() > deadline) return { code: 'timeout', message: `${ref}: reading it took more than ${limits.timeoutMs / 1000} s` };
      const { bytesRead } = await fh.read(bytes, off, bytes.length - off, off);
      if (bytesRead === 0) break;
      off += bytesRead;
    }
    return new Uint8Array(bytes.buffer, bytes.byteOffset, off);
  } catch (err) {
    return { code: 'unreadable', message: `${ref}: cannot read file (${(err as NodeJS.ErrnoException).code ?? messageOf(err)})` };
  } finally {
    await fh.close();
  }
}

/** A video a job names: opened under the same rules as any path, and a video by its first bytes. */
export interface VideoReference {
  fh: FileHandle;
  format: Exclude<VideoFormat, 'unknown'>;
}

/**
 * The video a job names, open, or why this worker will not read it. Paths only: a URL is fetched
 * whole (JOB_LIMITS.maxBytes), which a video is not. Its size is not capped: ffmpeg streams it, and
 * the job's seconds and frame size bound the work. The caller closes it.
 */
export async function openVideoReference(ref: string, policy: ReferencePolicy): Promise<VideoReference | ReferenceError> {
  if (isUrl(ref)) return { code: 'url-not-allowed', message: `${ref}: a worker reads videos from paths under its --root only, not from URLs` };
  const opened = await openPath(ref, policy);
  if (!('fh' in opened)) return opened;
  const head = new Uint8Array(64);
  const { bytesRead } = await opened.fh.read(head, 0, head.length, 0).catch(() => ({ bytesRead: 0 }));
  const format = sniffVideoFormat(head.subarray(0, bytesRead));
  if (format === 'unknown') {
    await opened.fh.close();
    return { code: 'not-a-video', message: `${ref}: not an MP4, MOV, WebM, Matroska or AVI video by its first bytes` };
  }
  return { fh: opened.fh, format };
}

async function fetchReference(ref: string, policy: ReferencePolicy, limits: typeof JOB_LIMITS): Promise<Uint8Array | ReferenceError> {
  const failed = (why: string): ReferenceError => ({ code: 'fetch-failed', message: `${ref}: ${why}` });
  const signal = AbortSignal.timeout(limits.timeoutMs);
  let url: URL;
  try {
    url = new URL(ref);
  } catch {
    return failed('not a valid URL');
  }
  try {
    for (let hop = 0; ; hop++) {
      if (!hostAllowed(url, policy.hosts)) {
        const hint = policy.hosts.length ? `this worker fetches only from ${policy.hosts.join(', ')}` : 'this worker was started without --allow-host, so it fetches nothing';
        return { code: 'url-not-allowed', message: `${ref}: ${hop ? `redirected to ${url.host}, ` : ''}a host the worker may not fetch from (${hint})` };
      }
      const response = await fetch(url, { redirect: 'manual', signal });
      const location = response.headers.get('location');
      if (response.status >= 300 && response.status < 400 && location) {
        await response.body?.cancel();
        if (hop >= limits.maxRedirects) return failed(`more than ${limits.maxRedirects} redirects`);
        url = new URL(location, url);
        if (url.protocol !== 'http:' && url.protocol !== 'https:') return failed('redirected to a URL that is not http(s)');
        continue;
      }
      if (!response.ok) {
        await response.body?.cancel();
        return failed(`the server answered ${response.status}`);
      }
      return await readCapped(response, ref, limits.maxBytes);
    }
  } catch (err) {
    return failed(signal.aborted ? `no complete answer within ${limits.timeoutMs / 1000} s` : messageOf(err));
  }
}

/** The body, stopped as soon as it passes `max` bytes, whatever Content-Length said (or did not say). */
async function readCapped(response: Response, ref: string, max: number): Promise<Uint8Array | ReferenceError> {
  const tooLarge = (): ReferenceError => ({ code: 'image-too-large', message: `${ref}: more than ${formatBytes(max)}, the most a worker fetches` });
  if (Number(response.headers.get('content-length') ?? 0) > max) {
    await response.body?.cancel();
    return tooLarge();
  }
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = response.body!.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.length;
    if (total > max) {
      await reader.cancel();
      return tooLarge();
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}
