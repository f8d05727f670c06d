/**
 * One seeded source for every random choice (split, shuffle, init, augmentation, dropout), so the
 * same seed and data give the same model. mulberry32: tiny, fast, and good enough for shuffling and
 * noise; derive() gives independent child streams so that adding a draw in one stage does not
 * shift every later stage.
 */
export class Random {
  private state: number;

  constructor(readonly seed: number) {
    this.state = seed >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** A 31-bit integer, for seeding another generator (tfjs initialisers, dropout). */
  nextSeed(): number {
    return this.int(0x7fffffff);
  }

  /** In-place Fisher–Yates shuffle. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      [items[i], items[j]] = [items[j], items[i]];
    }
    return items;
  }

  /** A child stream named by `label`: stable whatever else has been drawn from this one. */
  derive(label: string): Random {
    let h = this.seed ^ 0x9e3779b9;
    for (let i = 0; i < label.length; i++) h = Math.imul(h ^ label.charCodeAt(i), 0x01000193);
    return new Random(h >>> 0);
  }
}
