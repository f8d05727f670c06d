/**
 * How long `happysad train DIR --from default` takes on a user's folder of ~400 photos, on this
 * machine, as a user runs it (the whole command: start-up, decoding, face detection and cropping,
 * every member's fine-tuning, averaging, tuning, calibration), and what it reaches on its held-out
 * part. The photos: a seeded, class-balanced draw of --photos from DATA's class folders, linked
 * (not copied) into a temp folder; the face-crop cache is emptied first so detection is timed too.
 *
 *   node --import tsx bench/fineTune.ts [DATA] [--photos 400] [--seed 7] [--json]
 *   (DATA default: ../shared/datasets/web-happysad)
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, symlink } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Random } from '../src/base/random.js';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { photos: { type: 'string', default: '400' }, seed: { type: 'string', default: '7' }, json: { type: 'boolean', default: false } } });
const data = resolve(positionals[0] ?? '../shared/datasets/web-happysad');
if (!existsSync(data)) {
  console.error(`${data} not found: give a folder of class folders`);
  process.exit(2);
}
const classes = readdirSync(data, { withFileTypes: true }).filter((d) => d.isDirectory() && !d.name.startsWith('.')).map((d) => d.name).sort();
const work = await mkdtemp(join(tmpdir(), 'happysad-bench-finetune-'));
try {
  const per = Math.ceil(Number(values.photos) / classes.length);
  let n = 0;
  for (const c of classes) {
    const files = new Random(Number(values.seed)).derive(c).shuffle(readdirSync(join(data, c)).filter((f) => !f.startsWith('.')).sort()).slice(0, per);
    await mkdir(join(work, 'photos', c), { recursive: true });
    for (const f of files) await symlink(join(data, c, f), join(work, 'photos', c, f));
    n += files.length;
  }
  const env = { ...process.env, HAPPYSAD_CACHE: join(work, 'cache') };
  const cli = resolve('cli/main.ts');
  const load = loadavg()[0]!;
  const t = performance.now();
  const run = spawnSync(process.execPath, ['--import', 'tsx', cli, 'train', join(work, 'photos'), '--from', 'default', '--seed', values.seed!, '--out', join(work, 'model'), '--json'], { env, encoding: 'utf8', maxBuffer: 1 << 26 });
  const seconds = (performance.now() - t) / 1000;
  if (run.status !== 0) throw new Error(`train exited with ${run.status}: ${run.stderr.slice(-2000)}`);
  const result = JSON.parse(run.stdout.trim().split('\n').at(-1)!) as { validation?: { balancedAccuracy: number; n: number }; startedFrom?: { validationBefore?: { balancedAccuracy: number; forcedChoice?: { balancedAccuracy: number } } } };
  const meta = JSON.parse(await readFile(join(work, 'model', 'happysad.json'), 'utf8')) as { members?: unknown[] };
  const row = {
    case: 'train-from-default', photos: n, members: meta.members?.length ?? 1, seconds: Math.round(seconds * 10) / 10,
    held_out: result.validation?.n, balanced_accuracy: result.validation?.balancedAccuracy,
    default_before: result.startedFrom?.validationBefore?.forcedChoice?.balancedAccuracy ?? result.startedFrom?.validationBefore?.balancedAccuracy,
    load_before: Math.round(load * 100) / 100, load_after: Math.round(loadavg()[0]! * 100) / 100,
  };
  console.log(values.json ? JSON.stringify(row) : Object.entries(row).map(([k, v]) => `${k}: ${v}`).join('\n'));
} finally {
  await rm(work, { recursive: true, force: true });
}
