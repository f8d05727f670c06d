import type { TrainEvent } from '../src/train/trainOptions.js';

/**
 * Renders training events: a live bar per epoch on a terminal, and plain lines (one every ~10%
 * of an epoch) when output is a file or CI log, where carriage returns would make a mess.
 */
export function createProgressRenderer(stream: NodeJS.WriteStream = process.stderr): (e: TrainEvent) => void {
  const tty = Boolean(stream.isTTY);
  let lastPlain = 0;
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
        lastPlain = 0;
        break;
      case 'batch': {
        const frac = e.batch / e.batches;
        const remaining = (e.seconds / e.batch) * (e.batches - e.batch);
        const text = `Epoch ${e.epoch} ${e.batch}/${e.batches} loss ${fmt(e.loss)} acc ${fmt(e.accuracy)} ETA ${eta(remaining)}`;
        if (tty) {
          const width = 24;
          const filled = Math.round(frac * width);
          stream.write(`\r[${'='.repeat(filled)}${' '.repeat(width - filled)}] ${text}\x1b[K`);
        } else if (frac - lastPlain >= 0.1 || e.batch === e.batches) {
          lastPlain = frac;
          stream.write(`  ${text}\n`);
        }
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
