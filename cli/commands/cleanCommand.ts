import { checkQuarantineFolder, cleanDataset, quarantineFiles } from '../../src/data/cleanDataset.js';
import { discoverDataset } from '../../src/data/discoverDataset.js';
import { OptionError } from '../../src/base/errors.js';
import { writeCleanReport } from '../../src/report/cleanReport.js';
import { CLEAN_REPORT_FORMAT, claimReportOutput } from '../../src/report/reportOutput.js';
import { countProblems, describeProblemKind, formatProblemCounts, problemKind } from '../../src/data/problemKinds.js';
import { formatTable } from '../formatTable.js';
import { parseCommand, parseImageLimits } from '../parseCommand.js';

/** What train and evaluate do with each kind, so that clean's count and theirs add up. */
const TRAIN_SKIPS = 'train and evaluate leave out the corrupt and invalid files, exact duplicates and leaks by themselves; near-duplicates they use, except a copy of a training image in evaluation (a leak).';

export async function cleanCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommand(argv, 'clean');
  if (positionals.length !== 1) throw new OptionError(`clean takes one dataset folder (happysad help clean)`);
  // A refused --report or --quarantine folder costs the user nothing: checked before the files are read.
  if (values.quarantine !== undefined) await checkQuarantineFolder(positionals[0]!, values.quarantine);
  if (values.report !== undefined) await claimReportOutput(values.report, { inputs: [positionals[0]!], format: CLEAN_REPORT_FORMAT });
  const dataset = await discoverDataset(positionals[0]!);
  const limits = parseImageLimits(values);
  const tty = process.stderr.isTTY && !values.json;
  const report = await cleanDataset(dataset, {
    limits,
    audit: true,
    onProgress: tty ? (d, t) => { if (d % 50 === 0 || d === t) process.stderr.write(`\rchecking ${d}/${t}\x1b[K${d === t ? '\n' : ''}`); } : undefined,
  });
  const q = values.quarantine && report.problems.length ? await quarantineFiles(dataset.root, report.problems, values.quarantine) : { moved: [], failed: [] };
  const moved = q.moved;
  const written = values.report ? await writeCleanReport({ root: dataset.root, total: report.total, ok: report.ok, problems: report.problems, nearDuplicates: report.nearDuplicates, attributes: report.attributes, shortcuts: report.shortcuts }, values.report) : undefined;
  if (values.json) {
    console.log(JSON.stringify({ total: report.total, ok: report.ok, counts: countProblems(report.problems), problems: report.problems.map((p) => ({ ...p, kind: problemKind(p) })), nearDuplicates: report.nearDuplicates, shortcuts: report.shortcuts, ...(written ? { report: written.html } : {}), ...(values.quarantine ? { quarantined: moved.length, quarantine: values.quarantine, notMoved: q.failed } : {}) }));
  } else {
    const counts = countProblems(report.problems);
    console.log(`${dataset.root}: ${report.total} files, ${report.ok} ok, ${report.problems.length} with problems${report.problems.length ? `: ${formatProblemCounts(counts)}` : ''}`);
    if (report.problems.length) {
      console.log('');
      console.log(formatTable(['file', 'problem', 'detail'], report.problems.map((p) => [p.file, describeProblemKind(p), p.detail])));
    }
    if (report.nearDuplicates.length) {
      const copies = report.nearDuplicates.reduce((n, g) => n + g.files.length - 1, 0);
      console.log(`\n${report.nearDuplicates.length} picture(s) appear more than once (re-encoded, resized, mirrored or cropped copies; ${copies} extra file(s)). One of each is kept: the earliest split, then the most pixels, then the first path.`);
    }
    if (report.shortcuts.length) {
      console.log(`\nSHORTCUTS: ${report.shortcuts.length} attribute(s) other than the expression tell the classes apart; a model can learn them instead of faces:`);
      for (const s of report.shortcuts) console.log(`  - ${s.attribute} (an attribute-only classifier scores ${s.balancedAccuracy.toFixed(2)} balanced accuracy, cross-validated): ${s.detail}`);
    }
    const conflicting = report.nearDuplicates.filter((g) => g.conflictingLabels);
    if (conflicting.length) console.log(`\nWARNING: ${conflicting.length} picture(s) appear under more than one class (conflicting labels): every copy is left out of training.`);
    if (report.leaks.length) console.log(`\nWARNING: ${report.leaks.length} evaluation image(s) are copies (exact or near) of training images (train/test leak): metrics on those splits would be inflated; train leaves them out of evaluation.`);
    if (written) console.log(`\nreport: ${written.html}`);
    if (moved.length) console.log(`\nmoved ${moved.length} file(s) to ${values.quarantine}`);
    if (q.failed.length) {
      console.log(`\ncould not move ${q.failed.length} file(s); they are still in place:`);
      console.log(formatTable(['file', 'why'], q.failed.map((f) => [f.file, f.detail])));
    }
    else if (report.problems.length && !values.quarantine) console.log(`\nNothing was changed. Rerun with --quarantine QDIR to move these files aside. ${TRAIN_SKIPS}${dataset.layout === 'class-folders' && counts['near-duplicate'] ? ' For class folders the validation split is drawn by train, so which near-duplicates leak is known only then: train names them.' : ''}`);
  }
  return report.problems.length || report.shortcuts.length ? 1 : 0;
}
