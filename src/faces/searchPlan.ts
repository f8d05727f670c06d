import { OptionError } from '../base/errors.js';

/**
 * When a frame of a video or camera is searched whole for faces, and when it only follows the
 * faces it had (FaceStepOptions.near): whole at the first frame, then once `searchEvery` seconds
 * have passed since the last whole search. `predict VIDEO` (Node) and a page's camera stream
 * (FrameStream) both decide with it.
 */
export class SearchPlan {
  private last: number | undefined;

  constructor(readonly searchEvery: number) {
    if (!(searchEvery >= 0 && Number.isFinite(searchEvery))) throw new OptionError(`searchEvery must be a number of seconds, 0 or more; got ${searchEvery}`);
  }

  /** Whether the frame at `time` (seconds) is searched whole. */
  due(time: number): boolean {
    // The tolerance keeps 0.2-second steps from landing a hair short of 1 s.
    return this.last === undefined || !(time - this.last < this.searchEvery - 1e-6);
  }

  /** The frame at `time` was searched whole (planned, or because a followed face was lost). */
  searched(time: number): void {
    this.last = time;
  }
}
