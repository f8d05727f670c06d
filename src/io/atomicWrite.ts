import { cp, link, mkdir, open, readdir, rename, rm } from 'node:fs/promises';
import { dirname, basename, join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';

/**
 * Writes a file so that readers see either the old content or the new, never half of it: write a
 * sibling temp file, flush it to the disk, then rename over the target (atomic on one
 * filesystem). Without the flush, a power cut soon after the rename can leave an empty file
 * under the final name on some filesystems (ext4's delayed allocation).
 */
export async function writeFileAtomic(file: string, data: string | Uint8Array, options: { durable?: boolean } = {}): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const tmp = join(dirname(file), `.${basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    const handle = await open(tmp, 'w');
    try {
      await handle.writeFile(data);
      // A cache entry can be recomputed: no need to wait for the disk (`durable: false`).
      if (options.durable !== false) await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

/**
 * Replaces a whole directory at once: `fill` writes into a fresh sibling directory, which then
 * takes the target's place. If anything fails before the swap, the old directory is untouched, so
 * an interrupted save leaves the last good model on disk.
 */
/**
 * Brings into `tmp` whatever `dir` holds that `fill` did not write (a user's notes put beside a
 * model mid-training), so that swapping the new version in loses none of it. Files are hard-linked
 * (same filesystem: the temp folder is a sibling), folders copied.
 */
async function carryOver(dir: string, tmp: string): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  const written = new Set(await readdir(tmp));
  for (const e of entries) {
    if (written.has(e.name)) continue;
    const from = join(dir, e.name);
    const to = join(tmp, e.name);
    if (e.isFile()) await link(from, to).catch(() => cp(from, to));
    else await cp(from, to, { recursive: true, verbatimSymlinks: true });
  }
}

export async function replaceDirAtomic(dir: string, fill: (tmpDir: string) => Promise<void>, options: { keepOthers?: boolean } = {}): Promise<void> {
  dir = resolve(dir); // rename('.') is EBUSY; the absolute path names the same folder
  const parent = dirname(dir);
  await mkdir(parent, { recursive: true });
  const tag = randomBytes(6).toString('hex');
  const tmp = join(parent, `.${basename(dir)}.${tag}.tmp`);
  const old = join(parent, `.${basename(dir)}.${tag}.old`);
  await mkdir(tmp, { recursive: true });
  try {
    await fill(tmp);
    if (options.keepOthers) await carryOver(dir, tmp);
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
  // Two renames: POSIX cannot rename a directory over a non-empty one. Between them the target is
  // briefly absent but both versions exist on disk; a reader retrying finds the new one.
  let hadOld = false;
  try {
    await rename(dir, old);
    hadOld = true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      await rm(tmp, { recursive: true, force: true });
      throw err;
    }
  }
  try {
    await rename(tmp, dir);
  } catch (err) {
    if (hadOld) await rename(old, dir);
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
  if (hadOld) await rm(old, { recursive: true, force: true });
}
