import type { FaceBox } from '../faces/types.js';
import { boxIoU } from '../faces/geometry.js';

export interface FaceTrackerOptions {
  /** A track not seen for longer than this many seconds ends; a face seen again after that gets a new id. Default 1. */
  maxGapSeconds?: number;
  /** Boxes overlapping at least this much (IoU) continue a track. Default 0.3. */
  minIou?: number;
}

interface Track {
  id: number;
  box: FaceBox;
  lastSeen: number;
}

/** How well box b continues track box a: overlap, or for a face that moved further, nearness of the centres. */
function affinity(a: FaceBox, b: FaceBox, minIou: number): number {
  const o = boxIoU(a, b);
  if (o >= minIou) return 1 + o;
  // Between samples 0.2 s apart a face crossing the frame can move more than its width: accept a
  // centre within one box side, at similar size, ranked below any real overlap.
  const dx = a[0] + a[2] / 2 - (b[0] + b[2] / 2);
  const dy = a[1] + a[3] / 2 - (b[1] + b[3] / 2);
  const side = Math.max(a[2], a[3], b[2], b[3]);
  const sizeRatio = Math.max(a[2], b[2]) / Math.max(1, Math.min(a[2], b[2]));
  const distance = Math.hypot(dx, dy) / side;
  return distance < 1 && sizeRatio < 1.6 ? 1 - distance : 0;
}

/**
 * Keeps one id per person while they are in view, from the boxes of successive sampled frames:
 * each box continues the best-matching live track (greedy, best pairs first), or starts a new one.
 * Identity is not recognised: a face that leaves for longer than maxGapSeconds and comes back,
 * or two people who cross, may change ids.
 */
export class FaceTracker {
  private tracks: Track[] = [];
  private nextId = 1;
  private readonly maxGap: number;
  private readonly minIou: number;

  constructor(options: FaceTrackerOptions = {}) {
    this.maxGap = options.maxGapSeconds ?? 1;
    this.minIou = options.minIou ?? 0.3;
  }

  /** Track ids for the boxes of the frame at `time`, in the boxes' order. */
  assign(time: number, boxes: FaceBox[]): number[] {
    this.tracks = this.tracks.filter((t) => time - t.lastSeen <= this.maxGap);
    const pairs: { t: number; b: number; score: number }[] = [];
    this.tracks.forEach((track, t) => boxes.forEach((box, b) => {
      const score = affinity(track.box, box, this.minIou);
      if (score > 0) pairs.push({ t, b, score });
    }));
    pairs.sort((x, y) => y.score - x.score);
    const ids: number[] = new Array(boxes.length).fill(0);
    const usedTracks = new Set<number>();
    for (const { t, b } of pairs) {
      if (usedTracks.has(t) || ids[b]) continue;
      usedTracks.add(t);
      ids[b] = this.tracks[t]!.id;
      this.tracks[t]!.box = boxes[b]!;
      this.tracks[t]!.lastSeen = time;
    }
    boxes.forEach((box, b) => {
      if (ids[b]) return;
      ids[b] = this.nextId++;
      this.tracks.push({ id: ids[b], box, lastSeen: time });
    });
    return ids;
  }
}
