import { readFile, writeFile } from 'node:fs/promises';

/** Writes a float32 array in NumPy's .npy format (version 1.0, little-endian, C order). */
export async function writeNpy(file: string, data: Float32Array, shape: number[]): Promise<void> {
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  // Magic (6) + version (2) + length (2) + header + newline must be a multiple of 64.
  const pad = 64 - ((10 + header.length + 1) % 64);
  header = `${header}${' '.repeat(pad % 64)}\n`;
  const head = Buffer.alloc(10);
  head.write('\x93NUMPY', 0, 'latin1');
  head[6] = 1;
  head[7] = 0;
  head.writeUInt16LE(header.length, 8);
  await writeFile(file, Buffer.concat([head, Buffer.from(header, 'latin1'), Buffer.from(data.buffer, data.byteOffset, data.byteLength)]));
}

/** Reads a little-endian float32 or float64 .npy file (what np.save writes) as numbers. */
export async function readNpy(file: string): Promise<{ data: Float64Array; shape: number[] }> {
  const buf = await readFile(file);
  if (buf.toString('latin1', 0, 6) !== '\x93NUMPY') throw new Error(`${file}: not a .npy file`);
  const major = buf[6];
  const len = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const start = major === 1 ? 10 : 12;
  const header = buf.toString('latin1', start, start + len);
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const shape = (/'shape':\s*\(([^)]*)\)/.exec(header)?.[1] ?? '').split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  if (/True/.test(/'fortran_order':\s*(\w+)/.exec(header)?.[1] ?? '')) throw new Error(`${file}: Fortran order is not supported`);
  const body = buf.subarray(start + len);
  const copy = new Uint8Array(body).buffer;
  if (descr === '<f8') return { data: new Float64Array(copy), shape };
  if (descr === '<f4') return { data: Float64Array.from(new Float32Array(copy)), shape };
  throw new Error(`${file}: dtype ${descr} is not supported`);
}
