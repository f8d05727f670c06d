import { decideClass, FaceTracker, TrailingMean, type DecisionRule, type FacePrediction, type InterpretOptions, type PredictionRow } from '../src/browser/index.js';

/** A face as the camera view shows it: its track id, and probabilities averaged over its recent frames. */
export interface SteadyFace extends FacePrediction {
  track: number;
}

export type SteadyRow<R extends PredictionRow> = Omit<R, 'faces'> & { faces?: SteadyFace[] };

/**
 * Steadies camera labels so they do not flicker: each face is followed from frame to frame by the
 * library's FaceTracker (as `predict --every` follows faces in a video), shows the mean of each
 * class's probability over the last `seconds` (the library's TrailingMean), and is labelled by the
 * model's own rule on those means (decideClass: its threshold, or the most probable class).
 */
export class LabelSmoother {
  private readonly tracker: FaceTracker;
  /** Per track: one trailing mean per class, and when the track was last seen. */
  private readonly means = new Map<number, { perClass: TrailingMean[]; lastSeen: number }>();

  constructor(
    private readonly rule: DecisionRule,
    private readonly seconds: number,
    private readonly maxGapSeconds = 1,
    /** As the rows were predicted: with forcedChoice, the steadied label stays between the pair too. */
    private readonly interpret: InterpretOptions = {},
  ) {
    this.tracker = new FaceTracker({ maxGapSeconds });
  }

  /** The row with each face's track id and steadied probabilities and label; `time` in seconds. */
  smooth<R extends PredictionRow>(row: R, time: number): SteadyRow<R> {
    if (!row.faces?.length) return row as SteadyRow<R>;
    const ids = this.tracker.assign(time, row.faces.map((f) => f.box));
    // A track gone longer than the tracker keeps it will never be continued: forget its means.
    for (const [id, m] of this.means) if (time - m.lastSeen > this.maxGapSeconds) this.means.delete(id);
    const { classes } = this.rule;
    const faces = row.faces.map((face, i): SteadyFace => {
      const track = ids[i]!;
      const m = this.means.get(track) ?? { perClass: classes.map(() => new TrailingMean(this.seconds)), lastSeen: time };
      m.lastSeen = time;
      this.means.set(track, m);
      const mean = classes.map((c, k) => m.perClass[k]!.add(time, face.probabilities[c] ?? 0));
      const label = classes[decideClass(mean, this.rule, this.interpret)]!;
      const probabilities = Object.fromEntries(classes.map((c, k) => [c, mean[k]!]));
      return { ...face, track, label, score: probabilities[this.rule.positiveClass]!, probabilities };
    });
    return { ...row, faces };
  }
}
