import { lstat, readdir, readFile, realpath, stat } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { OutputError } from '../base/errors.js';
import { replaceDirAtomic, writeFileAtomic } from '../io/atomicWrite.js';
import { assertWritableFolder, isInside } from '../io/outputPaths.js';

/** Marks a folder as an evaluation report written by happysad (report.json's `format`). */
export const REPORT_FORMAT = 'happysad-evaluation-report';
/** Marks a folder as a data check report (clean --report). */
export const CLEAN_REPORT_FORMAT = 'happysad-clean-report';
/** Marks a folder as a video report (predict VIDEO --report). */
export const VIDEO_REPORT_FORMAT = 'happysad-video-report';
/** Every kind of report happysad writes; a folder holding one kind is never replaced by another. */
const REPORT_KINDS: Record<string, string> = { [REPORT_FORMAT]: 'evaluation report', [CLEAN_REPORT_FORMAT]: 'data check report', [VIDEO_REPORT_FORMAT]: 'video report' };
export const REPORT_JSON = 'report.json';
export const REPORT_HTML = 'report.html';

export interface ReportOutput {
  /** Absolute path of the report folder. */
  dir: string;
  /** An earlier report is there and will be replaced. */
  replaces: boolean;
}

/** Where a report may go, for every kind of report. */
export interface ReportFolderOptions {
  /** Folders read as input, which the report must not go into (the dataset always is one). */
  inputs?: string[];
  /** The option that named the folder, for error messages. */
  flag?: string;
}

export const DEFAULT_REPORT_FOLDER = { inputs: [] as string[], flag: '--report' } satisfies Required<ReportFolderOptions>;

/**
 * Decides whether a report may be written to `out`, before any work starts: a new or empty folder,
 * or one holding a report written earlier (regenerated from the same inputs, so replacing it loses
 * nothing; anything a user added beside it is kept). Refused: a file, a folder inside or around one
 * of the inputs, and a folder of anything else.
 */
export async function claimReportOutput(out: string, options: ReportFolderOptions & { format?: string } = {}): Promise<ReportOutput> {
  const flag = options.flag ?? '--report';
  const format = options.format ?? REPORT_FORMAT;
  if (out === '') throw new OutputError(`${flag} needs a folder name: ${flag} OUT writes OUT/${REPORT_HTML}`);
  // A link to a folder: write into the folder it names, not over the link.
  const dir = await realpath(resolve(out)).then(async (real) => ((await stat(real)).isDirectory() ? real : resolve(out)), () => resolve(out));
  for (const input of options.inputs ?? []) {
    if (await isInside(dir, input)) throw new OutputError(`${flag} ${out} is inside ${input}, which is read as input: the report would mix into your data. Choose a folder outside it, e.g. ${join(dirname(resolve(input)), `${basename(resolve(input))}-report`)}`);
    if (await isInside(input, dir)) throw new OutputError(`${flag} ${out} contains ${input}, which is read as input; choose a new folder for the report`);
  }
  // Swapping the report in renames the folder, so its parent must be writable.
  await assertWritableFolder(dirname(dir), flag, out);
  const s = await lstat(dir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw new OutputError(`${flag} ${out}: cannot inspect (${err.code}); choose another folder`);
  });
  if (!s) return { dir, replaces: false };
  const target = s.isSymbolicLink() ? await stat(dir).catch(() => undefined) : s;
  if (!target) throw new OutputError(`${flag} ${out} is a broken symbolic link; remove it or choose another folder`);
  if (!target.isDirectory()) throw new OutputError(`${flag} ${out} is a file; a report is a folder (${REPORT_HTML} and ${REPORT_JSON}): choose a new folder name`);
  const entries = await readdir(dir).catch((err: NodeJS.ErrnoException) => {
    throw new OutputError(`${flag} ${out}: cannot read folder (${err.code}); choose another folder`);
  });
  if (entries.length === 0) return { dir, replaces: false };
  if (!(await isReportDir(dir, format))) {
    // Another kind of report is regenerated from other inputs (a model, say): replacing it would lose it.
    const other = await reportFormatOf(dir);
    if (typeof other === 'string' && Object.hasOwn(REPORT_KINDS, other)) {
      const wanted = REPORT_KINDS[format] ?? format;
      throw new OutputError(`${flag} ${out} holds a happysad ${REPORT_KINDS[other]}, not ${/^[aeiou]/i.test(wanted) ? 'an' : 'a'} ${wanted}; nothing was written. Choose a new or empty folder, so that neither replaces the other`);
    }
    throw new OutputError(`${flag} ${out} is a folder that already holds ${entries.length} item(s) (e.g. ${entries.sort()[0]}) and is not a happysad report; nothing was written. Choose a new or empty folder`);
  }
  // What a user added beside the report is carried into the new one, which only works for files, folders and links.
  const special = await firstSpecialFile(dir);
  if (special) throw new OutputError(`${flag} ${out} holds ${special.path}, which is ${special.what}: it cannot be carried over into the new report, and reading it could block. Remove it, or choose a new or empty folder`);
  return { dir, replaces: true };
}

/** The first entry under `dir` that is neither a regular file, a folder nor a symbolic link, if any. */
async function firstSpecialFile(dir: string): Promise<{ path: string; what: string } | undefined> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  for (const e of entries) {
    if (e.isFile() || e.isDirectory() || e.isSymbolicLink()) continue;
    const what = e.isFIFO() ? 'a FIFO (named pipe)' : e.isSocket() ? 'a socket' : 'a device';
    return { path: relative(dir, join(e.parentPath, e.name)), what };
  }
  return undefined;
}

/** A folder happysad wrote a report of this kind into: its report.json names the format. */
export async function isReportDir(dir: string, format = REPORT_FORMAT): Promise<boolean> {
  return (await reportFormatOf(dir)) === format;
}

async function reportFormatOf(dir: string): Promise<unknown> {
  try {
    // Opening a FIFO named report.json would wait forever for a writer.
    if (!(await lstat(join(dir, REPORT_JSON))).isFile()) return undefined;
    return (JSON.parse(await readFile(join(dir, REPORT_JSON), 'utf8')) as { format?: unknown }).format;
  } catch {
    return undefined;
  }
}

/**
 * Writes the report's files into the claimed folder as one swap: a reader sees the old report or
 * the new one, never a mix, and an interrupted write leaves the old one. The claim is checked
 * again first, since the folder may have changed during the evaluation.
 */
export async function writeReportFiles(claim: ReportOutput, files: Record<string, string | Uint8Array>, flag = '--report', format = REPORT_FORMAT): Promise<void> {
  const again = await claimReportOutput(claim.dir, { flag, format });
  await replaceDirAtomic(again.dir, async (tmp) => {
    for (const [name, content] of Object.entries(files)) await writeFileAtomic(join(tmp, name), content);
  }, { keepOthers: true });
}
