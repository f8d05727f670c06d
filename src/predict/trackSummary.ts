import type { VideoRow } from './predictVideo.js';

/** What one person did over a video: when seen, and how happy or sad, from their rows. */
export interface TrackSummary {
  file: string;
  track: number;
  /** Seconds of the first and last sampled frame the face was in. */
  first: number;
  last: number;
  frames: number;
  /** Fraction of the track's frames with each label. */
  share: Record<string, number>;
  /** Mean and median of the score (p of the positive class). */
  meanScore: number;
  medianScore: number;
}

/** Accumulates rows as they stream in and summarises each track at the end. */
export class TrackSummaries {
  private readonly tracks = new Map<string, { file: string; track: number; first: number; last: number; labels: Map<string, number>; scores: number[] }>();

  constructor(private readonly classes: readonly string[]) {}

  add(row: VideoRow): void {
    if (row.track === undefined || row.score === undefined) return;
    const key = `${row.file}\u0000${row.track}`;
    let t = this.tracks.get(key);
    if (!t) {
      t = { file: row.file, track: row.track, first: row.time, last: row.time, labels: new Map(), scores: [] };
      this.tracks.set(key, t);
    }
    t.last = row.time;
    t.labels.set(row.label!, (t.labels.get(row.label!) ?? 0) + 1);
    t.scores.push(row.score);
  }

  summaries(): TrackSummary[] {
    return [...this.tracks.values()].map((t) => {
      const sorted = [...t.scores].sort((a, b) => a - b);
      const mid = sorted.length >> 1;
      return {
        file: t.file,
        track: t.track,
        first: t.first,
        last: t.last,
        frames: t.scores.length,
        share: Object.fromEntries(this.classes.map((c) => [c, (t.labels.get(c) ?? 0) / t.scores.length])),
        meanScore: t.scores.reduce((s, x) => s + x, 0) / t.scores.length,
        medianScore: sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2,
      };
    });
  }
}
