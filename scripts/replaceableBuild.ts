import { readdir } from 'node:fs/promises';

/**
 * Throws unless `out` may be replaced by a build: absent, an empty folder, or a folder holding
 * `marker` (an earlier build of the same kind). A file in its place is refused too: replacing it
 * would delete it.
 */
export async function assertReplaceableBuild(out: string, marker: string, what: string): Promise<void> {
  let existing: string[];
  try {
    existing = await readdir(out);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return;
    if (code === 'ENOTDIR') throw new Error(`${out} is a file, not a folder; choose an empty or new folder for the ${what} (nothing was changed)`);
    throw err;
  }
  if (existing.length > 0 && !existing.includes(marker)) {
    throw new Error(`${out} already holds files that are not a ${what}; choose an empty or new folder (nothing was changed)`);
  }
}
