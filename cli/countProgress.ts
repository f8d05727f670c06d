/**
 * A file counter for long runs: count, rate and ETA, redrawn in place when stderr is a terminal.
 * Written nowhere else: in a log file or a pipe it would only add lines about lines.
 */
export function createCountProgress(total: number, what = 'files', stream: NodeJS.WriteStream = process.stderr): { update(done: number): void; finish(): void } {
  const tty = Boolean(stream.isTTY);
  const started = performance.now();
  let lastDraw = 0;
  const time = (s: number) => (!Number.isFinite(s) ? '?' : s >= 3600 ? `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m` : s >= 60 ? `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s` : `${Math.round(s)}s`);
  const text = (done: number) => {
    const seconds = (performance.now() - started) / 1000;
    const rate = done / Math.max(seconds, 1e-3);
    return `${done}/${total} ${what}  ${rate.toFixed(1)}/s  ETA ${time((total - done) / rate)}`;
  };
  return {
    update(done) {
      if (total === 0 || !tty) return;
      const now = performance.now();
      if (now - lastDraw < 100 && done < total) return;
      lastDraw = now;
      const width = 24;
      const filled = Math.round((done / total) * width);
      stream.write(`\r[${'='.repeat(filled)}${' '.repeat(width - filled)}] ${text(done)}\x1b[K`);
    },
    finish() {
      if (tty && total > 0) stream.write('\r\x1b[K');
    },
  };
}
