/** Thrown by `WorkQueue.run` when every slot is busy and the queue is full. */
export class QueueFullError extends Error {
  constructor(readonly retryAfterSeconds: number) {
    super('queue full');
  }
}

interface Waiting {
  start: () => void;
}

/**
 * At most `concurrency` jobs at once and at most `maxWaiting` more waiting, first come first
 * served. Beyond that a caller is refused at once: a request that would wait longer than anyone
 * is willing to is better answered "come back in N seconds" than left to time out, and refusing
 * early keeps memory bounded (a waiting request holds its decoded body).
 *
 * A job that is abandoned (timeout, client gone) while waiting leaves the queue; one abandoned
 * while running keeps its slot until it really ends, because the slot count must reflect the CPU
 * actually in use: a photo batch runs to its end, a video is told to stop (see ThreadedModel).
 */
export class WorkQueue {
  private running = 0;
  private readonly waiting: Waiting[] = [];
  /** Exponential moving average of job durations, for Retry-After. */
  private averageMs = 0;

  constructor(readonly concurrency: number, readonly maxWaiting: number) {
    if (!(Number.isInteger(concurrency) && concurrency >= 1)) throw new RangeError(`concurrency must be a positive integer, got ${concurrency}`);
    if (!(Number.isInteger(maxWaiting) && maxWaiting >= 0)) throw new RangeError(`queue size must be a non-negative integer, got ${maxWaiting}`);
  }

  get depth(): number {
    return this.waiting.length;
  }

  get active(): number {
    return this.running;
  }

  /** Seconds until a new job would likely start, rounded up, at least 1. */
  retryAfterSeconds(): number {
    const ahead = this.waiting.length + this.running;
    const seconds = (ahead * (this.averageMs || 1000)) / this.concurrency / 1000;
    return Math.min(120, Math.max(1, Math.ceil(seconds)));
  }

  run<T>(job: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.running >= this.concurrency && this.waiting.length >= this.maxWaiting) {
      return Promise.reject(new QueueFullError(this.retryAfterSeconds()));
    }
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => {
        const i = this.waiting.indexOf(entry);
        if (i >= 0) this.waiting.splice(i, 1);
        reject(signal!.reason);
      };
      const entry: Waiting = {
        start: () => {
          this.running++;
          const began = performance.now();
          Promise.resolve().then(job).then(resolve, reject).finally(() => {
            signal?.removeEventListener('abort', onAbort);
            const ms = performance.now() - began;
            this.averageMs = this.averageMs ? this.averageMs * 0.8 + ms * 0.2 : ms;
            this.running--;
            this.next();
          });
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      if (this.running < this.concurrency) entry.start();
      else this.waiting.push(entry);
    });
  }

  private next(): void {
    if (this.running < this.concurrency) this.waiting.shift()?.start();
  }
}
