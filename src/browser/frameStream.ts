import { SearchPlan } from '../faces/searchPlan.js';
import type { FaceBox } from '../faces/types.js';
import { DEFAULT_VIDEO_SEARCH_EVERY } from '../input/videoLimits.js';
import type { PredictionRow } from '../predict/predictionRow.js';
import type { BrowserPredictOptions } from './browserModel.js';
import type { ImageSource } from './decodeImageSource.js';

export interface FrameStreamOptions {
  /**
   * Seconds between whole-frame searches for faces (default 1, as `predict VIDEO`); the frames
   * between look for each face of the frame before around where it was, and a frame where one is
   * lost is searched whole. A face entering the view is found at the next whole search. 0: every frame.
   */
  searchEvery?: number;
}

export interface StreamPredictOptions extends BrowserPredictOptions {
  /** When the frame was taken, in seconds (default performance.now() / 1000). */
  time?: number;
}

/** What a FrameStream asks of its model: a frame's row, its faces looked for near `near` first. */
export type PredictNear = (source: ImageSource, options: BrowserPredictOptions, near: readonly FaceBox[] | undefined) => Promise<{ row: PredictionRow; followed: boolean }>;

/**
 * The frames of one camera or video, in order: each follows the faces of the frame before (the
 * short-range detector in the region around each face: one pass where a whole-frame search of a
 * 150 px face in 640x480 takes two), the whole frame searched every `searchEvery` seconds. Rows
 * are as model.predict() gives them. One stream per camera: two cameras need two streams.
 */
export class FrameStream {
  private readonly plan: SearchPlan;
  private near: FaceBox[] = [];

  constructor(private readonly predictNear: PredictNear, options: FrameStreamOptions = {}) {
    this.plan = new SearchPlan(options.searchEvery ?? DEFAULT_VIDEO_SEARCH_EVERY);
  }

  async predict(source: ImageSource, options: StreamPredictOptions = {}): Promise<PredictionRow> {
    const { time = performance.now() / 1000, ...rest } = options;
    const whole = this.plan.due(time) || this.near.length === 0;
    const { row, followed } = await this.predictNear(source, rest, whole ? undefined : this.near);
    if (!followed) this.plan.searched(time);
    this.near = (row.faces ?? []).map((f) => f.box);
    return row;
  }
}
