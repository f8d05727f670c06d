import { cleanDataset, quarantineFiles } from '../../src/data/cleanDataset.js';
import { discoverDataset } from '../../src/data/discoverDataset.js';
import { OptionError } from '../../src/base/errors.js';
import { formatTable } from '../formatTable.js';
import { parseCommand, parseImageLimits } from '../parseCommand.js';

export async function cleanCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommand(argv, 'clean');
  if (positionals.length !== 1) throw new OptionError(`clean takes one dataset folder (happysad help clean)`);
  const dataset = await discoverDataset(positionals[0]);
  const limits = parseImageLimits(values);
  const tty = process.stderr.isTTY && !values.json;
  const report = await cleanDataset(dataset, {
    limits,
    onProgress: tty ? (d, t) => { if (d % 50 === 0 || d === t) process.stderr.write(`\rchecking ${d}/${t}\x1b[K${d === t ? '\n' : ''}`); } : undefined,
  });
  const q = values.quarantine && report.problems.length ? await quarantineFiles(dataset.root, report.problems, values.quarantine) : { moved: [], failed: [] };
  const moved = q.moved;
  if (values.json) {
    console.log(JSON.stringify({ total: report.total, ok: report.ok, problems: report.problems, ...(values.quarantine ? { quarantined: moved.length, quarantine: values.quarantine, notMoved: q.failed } : {}) }));
  } else {
    const counts = new Map<string, number>();
    for (const p of report.problems) counts.set(p.problem, (counts.get(p.problem) ?? 0) + 1);
    console.log(`${dataset.root}: ${report.total} files, ${report.ok} ok, ${report.problems.length} with problems`);
    if (report.problems.length) {
      console.log('');
      console.log(formatTable(['problem', 'files'], [...counts].map(([k, v]) => [k, v])));
      console.log('');
      console.log(formatTable(['file', 'problem', 'detail'], report.problems.map((p) => [p.file, p.problem, p.detail])));
    }
    if (report.leaks.length) console.log(`\nWARNING: ${report.leaks.length} evaluation image(s) duplicate training images (train/test leak): metrics on those splits would be inflated.`);
    if (moved.length) console.log(`\nmoved ${moved.length} file(s) to ${values.quarantine}`);
    if (q.failed.length) {
      console.log(`\ncould not move ${q.failed.length} file(s); they are still in place:`);
      console.log(formatTable(['file', 'why'], q.failed.map((f) => [f.file, f.detail])));
    }
    else if (report.problems.length && !values.quarantine) console.log(`\nNothing was changed. Rerun with --quarantine QDIR to move these files aside; train skips them anyway.`);
  }
  return report.problems.length ? 1 : 0;
}
