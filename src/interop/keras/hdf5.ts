import { mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Dataset, File, Group } from 'h5wasm/node';
import { KerasImportError } from './errors.js';

export type { Dataset, Group };
export type H5File = File;

type H5wasm = typeof import('h5wasm/node').default;
let loading: Promise<H5wasm> | undefined;

/** libhdf5 is a 4 MB WASM module: loaded on first use, not by everyone who imports happysad. */
function h5wasm(): Promise<H5wasm> {
  loading ??= import('h5wasm/node').then(async (m) => {
    await m.default.ready;
    return m.default;
  });
  return loading;
}

const SIGNATURE = Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]);

/**
 * Opens an HDF5 file for reading after checking it ourselves: libhdf5 (in WASM) answers a
 * text file, a zip or a cut-off download alike with "name not defined" and a page of
 * diagnostics on stderr, so the common mistakes are recognised before it sees the file.
 */
export async function openHdf5ForRead(path: string): Promise<H5File> {
  const where = basename(path);
  await checkLooksLikeHdf5(path, where);
  const h5 = await h5wasm();
  try {
    return new h5.File(resolve(path), 'r');
  } catch (err) {
    throw new KerasImportError(`${where}: the HDF5 library cannot open it (${firstLine(err)}); the file is damaged`, { cause: err });
  }
}

async function checkLooksLikeHdf5(path: string, where: string): Promise<void> {
  let info;
  try {
    info = await stat(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new KerasImportError(code === 'ENOENT' ? `${path}: no such file` : `${path}: cannot read (${code})`, { cause: err });
  }
  if (info.isDirectory()) throw new KerasImportError(await describeDirectory(path));
  // A FIFO (e.g. `import <(cat model.h5)`) cannot be seeked and would block; a device never ends.
  if (!info.isFile()) throw new KerasImportError(`${path}: not a regular file (a pipe, socket or device); save the model to a file and give its path`);
  const fh = await open(path, 'r');
  try {
    const size = info.size;
    if (size === 0) throw new KerasImportError(`${where}: the file is empty`);
    const head = Buffer.alloc(Math.min(size, 512));
    await fh.read(head, 0, head.length, 0);
    // The superblock sits at 0 or after a user block of 512, 1024, 2048, ... bytes.
    let at = -1;
    for (let offset = 0; offset + SIGNATURE.length <= size; offset = offset === 0 ? 512 : offset * 2) {
      const sig = Buffer.alloc(SIGNATURE.length);
      await fh.read(sig, 0, sig.length, offset);
      if (sig.equals(SIGNATURE)) {
        at = offset;
        break;
      }
    }
    if (at < 0) throw new KerasImportError(`${where}: not an HDF5 file (${describeContent(head)}); happysad imports Keras 2 models saved with model.save("model.h5")`);
    const block = Buffer.alloc(96);
    const got = (await fh.read(block, 0, block.length, at)).bytesRead;
    const eof = declaredEnd(block.subarray(0, got));
    if (eof === 'short') throw new KerasImportError(`${where}: the file is truncated (${size} bytes, cut inside the HDF5 header); copy or download it again`);
    if (eof !== undefined && BigInt(at) + eof > BigInt(size)) {
      throw new KerasImportError(`${where}: the file is truncated (${size} bytes, its HDF5 header says ${BigInt(at) + eof}); copy or download it again`);
    }
  } finally {
    await fh.close();
  }
}

/** The end-of-file address the superblock records (relative to the superblock), if readable. */
function declaredEnd(sb: Buffer): bigint | 'short' | undefined {
  if (sb.length < 16) return 'short';
  const version = sb[8];
  let size: number;
  let eofAt: number;
  if (version === 0 || version === 1) {
    size = sb[13];
    eofAt = (version === 0 ? 24 : 28) + 2 * size;
  } else if (version === 2 || version === 3) {
    size = sb[9];
    eofAt = 12 + 2 * size;
  } else {
    return undefined;
  }
  if (size !== 4 && size !== 8) return undefined;
  if (eofAt + size > sb.length) return 'short';
  const value = size === 8 ? sb.readBigUInt64LE(eofAt) : BigInt(sb.readUInt32LE(eofAt));
  const undefinedAddress = size === 8 ? 0xffffffffffffffffn : 0xffffffffn;
  return value === undefinedAddress ? undefined : value;
}

function describeContent(head: Buffer): string {
  if (head[0] === 0x50 && head[1] === 0x4b && head[2] === 0x03 && head[3] === 0x04) {
    return 'it is a zip archive, perhaps a Keras 3 ".keras" file: in Python, load it and model.save("model.h5")';
  }
  const text = head.toString('utf8');
  const printable = [...text].every((ch) => ch === '\n' || ch === '\r' || ch === '\t' || ch >= ' ');
  if (printable) {
    const start = text.trimStart();
    if (start.startsWith('{')) {
      return start.includes('modelTopology') ? 'it is a TensorFlow.js model.json' : 'it is a JSON text file';
    }
    return `it is a text file starting "${text.slice(0, 40).replace(/\s+/g, ' ').trim()}"`;
  }
  return `it starts with bytes ${[...head.subarray(0, 8)].map((b) => b.toString(16).padStart(2, '0')).join(' ')}`;
}

async function describeDirectory(path: string): Promise<string> {
  const entries = await readdir(path).catch(() => [] as string[]);
  if (entries.includes('saved_model.pb')) return `${path}: is a TensorFlow SavedModel folder; in Python, load it and model.save("model.h5"), then import the .h5`;
  if (entries.includes('happysad.json')) return `${path}: is already a happysad model bundle; use it with --model`;
  return `${path}: is a folder; give the .h5 file itself`;
}

function firstLine(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.split('\n').find((l) => l.trim())?.trim() ?? 'unknown error';
}

/** A text attribute, whether stored as variable-length (what Keras writes) or fixed-length. */
export function readTextAttr(entity: Group | Dataset, name: string): string | undefined {
  const attr = entity.attrs[name];
  if (!attr) return undefined;
  const value = attr.value;
  if (typeof value === 'string') return value;
  if (value instanceof Uint8Array) return Buffer.from(value).toString('utf8').replace(/\0+$/, '');
  if (Array.isArray(value) && value.length === 1 && typeof value[0] === 'string') return value[0];
  return undefined;
}

/**
 * A list-of-names attribute as Keras writes it (layer_names, weight_names): a byte-string array,
 * an empty float array when the list is empty, or split into name0, name1, ... when it would not
 * fit an HDF5 object header. Returns undefined when absent, throws when it holds something else.
 */
export function readNameListAttr(entity: Group, name: string, where: string): string[] | undefined {
  const parts: unknown[] = [];
  if (entity.attrs[name]) {
    parts.push(entity.attrs[name].value);
  } else {
    for (let i = 0; entity.attrs[`${name}${i}`]; i++) parts.push(entity.attrs[`${name}${i}`].value);
    if (parts.length === 0) return undefined;
  }
  const out: string[] = [];
  for (const value of parts) {
    if (typeof value === 'string') out.push(value);
    else if (Array.isArray(value) && value.every((v) => typeof v === 'string')) out.push(...(value as string[]));
    else if (ArrayBuffer.isView(value) && (value as unknown as ArrayLike<number>).length === 0) continue;
    else throw new KerasImportError(`${where}: attribute "${name}" should list names but holds ${describeValue(value)}`);
  }
  return out;
}

function describeValue(value: unknown): string {
  if (ArrayBuffer.isView(value)) return `${value.constructor.name} numbers`;
  return typeof value;
}

export function childGroup(group: Group, name: string): Group | undefined {
  const child = group.get(name);
  return child && (child as Group).type === 'Group' ? (child as Group) : undefined;
}

export function childDataset(group: Group, path: string): Dataset | undefined {
  const child = group.get(path);
  return child && (child as Dataset).type === 'Dataset' ? (child as Dataset) : undefined;
}

/** Paths (relative to `group`) of every dataset below it. */
export function datasetPaths(group: Group, prefix = ''): string[] {
  const out: string[] = [];
  for (const key of group.keys()) {
    const child = group.get(key);
    if (!child) continue;
    if ((child as Group).type === 'Group') out.push(...datasetPaths(child as Group, `${prefix}${key}/`));
    else if ((child as Dataset).type === 'Dataset') out.push(`${prefix}${key}`);
  }
  return out;
}

/** A float dataset as float32, with its shape; other element types are refused by the caller. */
export function readFloatDataset(ds: Dataset): { shape: number[]; values: Float32Array } | { problem: string } {
  const meta = ds.metadata;
  const shape = ds.shape ?? [];
  if (meta.type !== 1) return { problem: `holds ${meta.type === 0 ? 'integers' : 'non-numeric data'}, not floats` };
  if (meta.size === 2) return { problem: 'is float16; re-save the model with float32 weights (e.g. after keras.mixed_precision.set_global_policy("float32"))' };
  if (meta.size !== 4 && meta.size !== 8) return { problem: `has ${meta.size}-byte floats` };
  const value = ds.value;
  if (value instanceof Float32Array) return { shape, values: value };
  if (value instanceof Float64Array) return { shape, values: Float32Array.from(value) };
  return { problem: 'could not be read as numbers' };
}

/**
 * Writes an HDF5 file next to its destination and renames it into place, so a reader never sees
 * half a model and a failed export leaves any previous file untouched.
 */
export async function writeHdf5Atomic(file: string, fill: (f: H5File) => void): Promise<void> {
  const h5 = await h5wasm();
  const target = resolve(file);
  await mkdir(dirname(target), { recursive: true });
  const tmp = join(dirname(target), `.${basename(target)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    // The bundled libhdf5 is 2.x; capping the format at 1.10 keeps the file readable by the older
    // libhdf5 that h5py (and so Keras) ships with.
    const f = new h5.File(tmp, 'w', { libver: ['earliest', 'v110'] });
    try {
      fill(f);
    } finally {
      f.close();
    }
    await rename(tmp, target);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

/** A list of names as Keras stores it: fixed-length byte strings, or an empty float array. */
export function writeNameListAttr(entity: Group, name: string, names: string[]): void {
  if (names.length === 0) {
    entity.create_attribute(name, new Float64Array(0), [0], '<d');
    return;
  }
  const width = Math.max(1, ...names.map((n) => Buffer.byteLength(n, 'utf8')));
  entity.create_attribute(name, names, [names.length], `S${width}`);
}
