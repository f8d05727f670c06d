/**
 * Frame times are decimals (0.2 s steps), so `time - seconds` lands a hair off the previous
 * frames' times: at 2.8 s a 1 s window kept 1.8 (2.8 − 1 = 1.7999999999999998) and averaged six
 * frames, at 2.6 s five. Times come rounded to microseconds; a tolerance far below that and far
 * above float error puts every boundary frame on the same side.
 */
const TIME_EPSILON = 1e-7;

/**
 * A moving average over the last `seconds` of a stream of (time, score): each add() returns the
 * mean of the scores with time in (t − seconds, t], the one just added included.
 */
export class TrailingMean {
  private entries: { time: number; score: number }[] = [];

  constructor(private readonly seconds: number) {}

  add(time: number, score: number): number {
    this.entries = this.entries.filter((e) => e.time > time - this.seconds + TIME_EPSILON);
    this.entries.push({ time, score });
    return this.entries.reduce((s, e) => s + e.score, 0) / this.entries.length;
  }

  /** How many scores the last mean covered. */
  get size(): number {
    return this.entries.length;
  }
}
