/**
 * One run at a time per results file: `FILE.lock`, created exclusively, names the run that holds
 * it (host, pid, start) and is touched while the run lives. A second run is refused while the
 * holder lives; a lock whose holder is gone (its pid is dead on this host, or the lock was not
 * touched for LEASE_MS, as when a SLURM or Kubernetes task died on another node) is taken over,
 * so a requeued task resumes without anyone deleting files by hand.
 */
import { hostname } from 'node:os';
import { open, readFile, stat, unlink, utimes } from 'node:fs/promises';
import { HappysadError } from '../base/errors.js';
import { processAlive } from '../base/processAlive.js';

const TOUCH_MS = 10_000;
const LEASE_MS = 60_000;

interface Holder {
  host: string;
  pid: number;
  started: string;
}

export class ResultsLock {
  private readonly timer: NodeJS.Timeout;

  private constructor(readonly path: string, private readonly mine: string) {
    this.timer = setInterval(() => {
      const now = new Date();
      utimes(this.path, now, now).catch(() => {});
    }, TOUCH_MS);
    this.timer.unref();
  }

  /** Takes the lock of results file `file`; `note` hears of a stale lock taken over. */
  static async acquire(file: string, note: (line: string) => void = () => {}): Promise<ResultsLock> {
    const path = `${file}.lock`;
    const mine = JSON.stringify({ host: hostname(), pid: process.pid, started: new Date().toISOString() } satisfies Holder);
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        const fh = await open(path, 'wx', 0o644);
        await fh.writeFile(mine);
        await fh.close();
        return new ResultsLock(path, mine);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const text = await readFile(path, 'utf8').catch(() => '');
      const holder = parseHolder(text);
      const age = Date.now() - ((await stat(path).catch(() => undefined))?.mtimeMs ?? 0);
      const dead = holder ? (holder.host === hostname() ? !processAlive(holder.pid) : age > LEASE_MS) : age > LEASE_MS;
      if (!dead) {
        const who = holder ? `pid ${holder.pid} on ${holder.host}, started ${holder.started}` : 'another run';
        throw new HappysadError('results-locked', `${file} is being written by ${who}; two runs on one results file would mix their rows. Wait for it to finish, or give this run another --out file (and merge them after). If that run is surely gone, remove ${path}`);
      }
      // Taken over only if it is still the stale lock just read: two resuming runs cannot both win.
      if ((await readFile(path, 'utf8').catch(() => undefined)) !== text) continue;
      await unlink(path).catch(() => {});
      note(`${file}: the run that held it (${holder ? `pid ${holder.pid} on ${holder.host}` : 'unknown'}) is gone; taking over its lock`);
    }
    throw new HappysadError('results-locked', `${file}: could not take ${path}; another run is starting on the same file`);
  }

  /** Releases the lock, unless another run has since taken it over. */
  async release(): Promise<void> {
    clearInterval(this.timer);
    if ((await readFile(this.path, 'utf8').catch(() => undefined)) === this.mine) await unlink(this.path).catch(() => {});
  }
}

function parseHolder(text: string): Holder | undefined {
  try {
    const h = JSON.parse(text) as Holder;
    return typeof h.host === 'string' && Number.isInteger(h.pid) ? h : undefined;
  } catch {
    return undefined;
  }
}

