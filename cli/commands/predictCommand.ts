import { availableParallelism } from 'node:os';
import { open, stat } from 'node:fs/promises';
import { walkFiles } from '../../src/io/walkFiles.js';
import { sniffImageFormat } from '../../src/data/sniffImageFormat.js';
import { OptionError } from '../../src/base/errors.js';
import { loadModel, type Prediction } from '../../src/predict/classifier.js';
import { formatTable } from '../formatTable.js';
import { parseCommand, parseNumber, parseThreads } from '../parseCommand.js';
import { resolveModelDir } from '../resolveModel.js';

export async function predictCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommand(argv, 'predict');
  if (positionals.length === 0) throw new OptionError(`predict needs at least one image file or folder (happysad help predict)`);
  if (values.json && values.csv) throw new OptionError('choose one of --json and --csv');
  const { files, ignored, unreadable } = await expandPaths(positionals);
  if (ignored.length) process.stderr.write(`ignored ${ignored.length} file(s) in the folders given that are neither named nor encoded as images, or are not regular files (e.g. ${ignored[0]})\n`);
  if (files.length === 0 && unreadable.length === 0) {
    process.stderr.write(`no image files found in ${positionals.join(', ')}${ignored.length ? ` (${ignored.length} other file(s) ignored)` : ''}; give image files or folders that hold them\n`);
    return 1;
  }
  const classifier = await loadModel(resolveModelDir(values.model), { workers: parseThreads(values.workers, 'workers') ?? availableParallelism() });
  const classes = classifier.metadata.classes;
  const batch = parseNumber(values.batch, 'batch', { integer: true, min: 1 }) ?? 32;
  const rows: Prediction[] = [];
  const emit = (preds: Prediction[]) => {
    rows.push(...preds);
    for (const p of preds) {
      if (values.json) console.log(JSON.stringify(p));
      else if (values.csv) for (const line of lines(p)) console.log([line.file, line.face, line.box, line.label, line.score, ...classes.map((c) => line.probabilities?.[c] ?? ''), line.error].map(csvCell).join(','));
    }
  };
  if (values.csv) console.log(['file', 'face', 'box', 'label', 'score', ...classes.map((c) => `p_${c}`), 'error'].map(csvCell).join(','));
  // Stream results in chunks of a few batches: a large folder shows progress and memory stays
  // flat, while within a chunk the next batch decodes as the current one is classified.
  const chunk = batch * 8;
  for (let i = 0; i < files.length; i += chunk) {
    emit(await classifier.predict(files.slice(i, i + chunk), { batch, faces: !values['no-faces'], cache: !values['no-cache'] }));
  }
  emit(unreadable);
  if (!values.json && !values.csv) {
    const r4 = (x: number | undefined) => (x === undefined ? '' : Number(x.toFixed(4)));
    const table = rows.flatMap(lines).map((l) => [l.file, l.face, l.box, l.label || '-', r4(l.score), ...classes.map((c) => r4(l.probabilities?.[c])), l.error]);
    const faceModel = classifier.expectsFaces && !values['no-faces'];
    const head = ['file', 'face', 'box', 'label', 'score', ...classes, 'error'];
    const anyError = rows.some((r) => r.error);
    const keep = head.map((h, i) => (faceModel || (i !== 1 && i !== 2)) && (h !== 'error' || anyError));
    console.log(formatTable(head.filter((_, i) => keep[i]), table.map((r) => r.filter((_, i) => keep[i]))));
  }
  await classifier.close();
  const failed = rows.filter((r) => r.error).length;
  if (failed) process.stderr.write(`${failed} of ${rows.length} file(s) could not be classified\n`);
  return failed ? 1 : 0;
}

const IMAGE_NAME = /\.(jpe?g|png|gif|webp|tiff?|avif|heic|heif|bmp|svg)$/i;

/**
 * Files as given, folders expanded recursively in sorted order (dotfiles skipped, links to
 * folders followed). Inside a folder, a file neither named nor encoded as an image (a README,
 * notes) is ignored rather than reported; a file named as an image that is not one still gets its
 * error row, and so does a folder that cannot be read. FIFOs and other special files are skipped:
 * reading one could block forever.
 */
async function expandPaths(paths: string[]): Promise<{ files: string[]; ignored: string[]; unreadable: Prediction[] }> {
  const out: string[] = [];
  const ignored: string[] = [];
  const unreadable: Prediction[] = [];
  for (const p of paths) {
    const s = await stat(p).catch(() => undefined);
    if (s?.isDirectory()) {
      const walked = await walkFiles(p);
      for (const f of walked.files) {
        if (IMAGE_NAME.test(f) || (await looksLikeImage(f))) out.push(f);
        else ignored.push(f);
      }
      ignored.push(...walked.skipped);
      for (const w of walked.problems) unreadable.push({ file: w.path, error: { code: 'unreadable', message: `${w.path}: ${w.detail}` } });
    } else if (s && !s.isFile()) {
      unreadable.push({ file: p, error: { code: 'not-a-file', message: `${p}: not a regular file (a FIFO, socket or device); give image files or folders` } });
    } else {
      out.push(p); // a missing path becomes an error row: the user sees which path was wrong
    }
  }
  return { files: out, ignored, unreadable };
}

async function looksLikeImage(file: string): Promise<boolean> {
  const fh = await open(file, 'r').catch(() => undefined);
  if (!fh) return true; // unreadable: let prediction report why
  try {
    const head = new Uint8Array(64);
    await fh.read(head, 0, 64, 0);
    return sniffImageFormat(head) !== 'unknown';
  } finally {
    await fh.close();
  }
}

/** RFC 4180: a field holding a comma, quote, CR or LF is quoted, quotes doubled. */
function csvCell(v: string | number | undefined): string {
  if (v === undefined) return '';
  const s = String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

interface Line { file: string; face: string; box: string; label: string; score?: number; probabilities?: Record<string, number>; error: string }

/** One line per face (a face model), or one per image. */
function lines(p: Prediction): Line[] {
  if (p.error) return [{ file: p.file, face: '', box: '', label: '', error: p.error.message }];
  if (p.faces?.length) return p.faces.map((f, i) => ({ file: p.file, face: String(i + 1), box: f.box.join(' '), label: f.label, score: f.score, probabilities: f.probabilities, error: '' }));
  return [{ file: p.file, face: p.face ?? '', box: '', label: p.label!, score: p.score, probabilities: p.probabilities, error: '' }];
}
