import type { TrainEvent } from '../src/train/trainOptions.js';

/**
 * Renders training events: stages, warnings and one line per epoch everywhere, and a live bar
 * within each epoch only on a terminal (in a log file it would only add lines about lines).
 */
export function createProgressRenderer(stream: NodeJS.WriteStream = process.stderr): (e: TrainEvent) => void {
  const tty = Boolean(stream.isTTY);
  const fmt = (x: number | undefined, d = 4) => (x === undefined ? '-' : x.toFixed(d));
  const eta = (s: number) => (s >= 60 ? `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s` : `${Math.round(s)}s`);
  return (e) => {
    switch (e.type) {
      case 'stage':
        stream.write(`${e.message}\n`);
        break;
      case 'warning':
        stream.write(`warning: ${e.message}\n`);
        break;
      case 'epoch-start':
        break;
      case 'batch': {
        if (!tty) break;
        const frac = e.batch / e.batches;
        const remaining = (e.seconds / e.batch) * (e.batches - e.batch);
        const text = `Epoch ${e.epoch} ${e.batch}/${e.batches} loss ${fmt(e.loss)} acc ${fmt(e.accuracy)} ETA ${eta(remaining)}`;
        const width = 24;
        const filled = Math.round(frac * width);
        stream.write(`\r[${'='.repeat(filled)}${' '.repeat(width - filled)}] ${text}\x1b[K`);
        break;
      }
      case 'epoch-end': {
        const r = e.record;
        if (tty) stream.write('\r\x1b[K');
        stream.write(`Epoch ${r.epoch}/${e.epochs}  loss ${fmt(r.loss)}  acc ${fmt(r.accuracy)}  val_loss ${fmt(r.val_loss)}  val_acc ${fmt(r.val_accuracy)}  ${r.seconds.toFixed(1)}s${e.improved ? '  * best' : ''}\n`);
        break;
      }
      case 'checkpoint':
        break;
    }
  };
}
