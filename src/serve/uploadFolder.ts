import { lstat, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { processAlive } from '../base/processAlive.js';

/** What every server's upload folder is named after; the sweep touches nothing else. */
export const UPLOAD_FOLDER_PREFIX = 'happysad-serve-uploads-';
/** Inside each upload folder: which process made it, so a later server knows whether it is abandoned. */
const OWNER_FILE = 'owner.json';

interface Owner {
  pid: number;
  host: string;
}

/**
 * The server's private folder for uploaded videos (ffmpeg reads files, and needs to seek in MP4s):
 * one per server, mode 0700, named with a fixed prefix and holding the owning pid. A server killed
 * with SIGKILL cannot clean up, so each server sweeps, when it starts, the upload folders of
 * servers that are dead. Paths inside it are never shown to a client (see scrub).
 */
export class UploadFolder {
  private constructor(readonly dir: string) {}

  static async create(root = tmpdir()): Promise<UploadFolder> {
    await sweepAbandonedUploadFolders(root);
    const dir = await mkdtemp(join(root, `${UPLOAD_FOLDER_PREFIX}${process.pid}-`));
    const owner: Owner = { pid: process.pid, host: hostname() };
    await writeFile(join(dir, OWNER_FILE), JSON.stringify(owner), { mode: 0o600, flag: 'wx' });
    return new UploadFolder(dir);
  }

  /** `text` with every path inside this folder replaced by `name` (or a neutral word): server paths are nobody's business. */
  scrub(text: string, name = 'the upload'): string {
    const path = new RegExp(`(?:file:)?${escapeRegExp(this.dir)}(?:/[^\\s:;,'")]*)?`, 'g');
    return text.replace(path, name);
  }

  async remove(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }
}

/**
 * Removes upload folders left by servers that died without cleaning up. Only folders that are
 * certainly ours and abandoned: our prefix, a real folder (not a link), owned by this user, made on
 * this host, by a process that no longer exists. Returns the folders removed.
 */
export async function sweepAbandonedUploadFolders(root = tmpdir()): Promise<string[]> {
  const names = await readdir(root).catch(() => [] as string[]);
  const removed: string[] = [];
  for (const name of names) {
    if (!name.startsWith(UPLOAD_FOLDER_PREFIX)) continue;
    const dir = join(root, name);
    const s = await lstat(dir).catch(() => undefined);
    if (!s?.isDirectory() || (process.getuid && s.uid !== process.getuid())) continue;
    const owner = await readOwner(dir);
    if (!owner || owner.host !== hostname() || processAlive(owner.pid)) continue;
    await rm(dir, { recursive: true, force: true }).then(() => removed.push(dir), () => undefined);
  }
  return removed;
}

async function readOwner(dir: string): Promise<Owner | undefined> {
  try {
    const o = JSON.parse(await readFile(join(dir, OWNER_FILE), 'utf8')) as Partial<Owner>;
    return Number.isInteger(o.pid) && (o.pid as number) > 0 && typeof o.host === 'string' ? (o as Owner) : undefined;
  } catch {
    // A server killed between making the folder and writing its owner: the pid is in the name.
    const pid = Number(/^(\d+)-/.exec(dir.slice(dir.lastIndexOf(UPLOAD_FOLDER_PREFIX) + UPLOAD_FOLDER_PREFIX.length))?.[1]);
    return Number.isInteger(pid) && pid > 0 ? { pid, host: hostname() } : undefined;
  }
}


function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
