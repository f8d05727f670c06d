import { lstat, readdir, realpath, stat } from 'node:fs/promises';
import { join } from 'node:path';

/** A folder or link that could not be followed; the walk went on without it. */
export interface WalkProblem {
  path: string;
  detail: string;
}

export interface WalkResult {
  /** Regular files (or links to them), in sorted order. */
  files: string[];
  /** Folders that could not be read and links that lead nowhere or in a circle. */
  problems: WalkProblem[];
  /** Folders passed over whole because they hold every file of `options.skipFoldersHolding`. */
  skippedFolders: string[];
  /** Entries that are not files or folders (FIFOs, sockets, devices): reading one could block forever. */
  skipped: string[];
}

/**
 * Lists the files below `dir`, recursively, in sorted order, skipping dot-files and dot-folders.
 * Symbolic links to folders are followed (a link back to an ancestor is reported, not looped
 * through). Nothing stops the walk: an unreadable folder becomes a problem and the rest is listed.
 */
export async function walkFiles(dir: string, options: { skipFoldersHolding?: string[] } = {}): Promise<WalkResult> {
  const result: WalkResult = { files: [], problems: [], skipped: [], skippedFolders: [] };
  const marker = options.skipFoldersHolding ?? [];
  const walk = async (d: string, ancestors: Set<string>): Promise<void> => {
    let entries;
    try {
      entries = await readdir(d, { withFileTypes: true });
      if (marker.length > 0 && d !== dir && marker.every((name) => entries!.some((e: { name: string }) => e.name === name))) {
        result.skippedFolders.push(d);
        return;
      }
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'error';
      result.problems.push({ path: d, detail: `cannot read folder (${code})${code === 'EACCES' || code === 'EPERM' ? ': check its permissions' : ''}; its files were left out` });
      return;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      if (e.name.startsWith('.')) continue;
      const p = join(d, e.name);
      // A name that is not UTF-8 reaches JavaScript with U+FFFD in place of its bytes, and no longer
      // opens: say so, rather than "no such file" later.
      if (e.name.includes('\uFFFD') && !(await lstat(p).catch(() => undefined))) {
        result.problems.push({ path: p, detail: 'its name is not valid UTF-8 (shown here with \uFFFD), so it cannot be opened by name; rename it (e.g. convmv -f latin1 -t utf-8 -r --notest FOLDER)' });
        continue;
      }
      if (e.isDirectory()) {
        await walk(p, new Set([...ancestors, await realpath(p).catch(() => p)]));
      } else if (e.isFile()) {
        result.files.push(p);
      } else if (e.isSymbolicLink()) {
        const target = await stat(p).catch(() => undefined);
        if (!target) {
          result.problems.push({ path: p, detail: 'broken symbolic link (its target does not exist)' });
        } else if (target.isDirectory()) {
          const real = await realpath(p);
          if (ancestors.has(real)) result.problems.push({ path: p, detail: `symbolic link loop (points back to ${real}); not followed` });
          else await walk(p, new Set([...ancestors, real]));
        } else if (target.isFile()) {
          result.files.push(p);
        } else {
          result.skipped.push(p);
        }
      } else {
        result.skipped.push(p);
      }
    }
  };
  await walk(dir, new Set([await realpath(dir).catch(() => dir)]));
  return result;
}
