// Everything one generator process counts during a window: a latency histogram in
// microseconds and the outcome counters.
import { build, encodeIntoCompressedBase64, type Histogram } from 'hdr-histogram-js';
import { emptyErrors, type ErrorCounts, type LoadResult } from '../ipc.ts';

/** 60 s: anything slower is clamped here; the drain timeout ends a window well before. */
export const MAX_LATENCY_US = 60_000_000;

export function newHistogram(): Histogram {
  return build({ lowestDiscernibleValue: 1, highestTrackableValue: MAX_LATENCY_US, numberOfSignificantValueDigits: 3, autoResize: false });
}

export class Tally {
  readonly histogram = newHistogram();
  /**
   * Open loop only: how late the generator itself sent each request after its due time (timer
   * resolution, a busy event loop). It is part of the latency above; reported so that it can be
   * told apart from the target's share.
   */
  readonly sendLag = newHistogram();
  readonly errors: ErrorCounts = emptyErrors();
  completed = 0;
  sent = 0;

  /** Records one good response that was due (closed loop: sent) at `startMs`. */
  ok(startMs: number, nowMs: number): void {
    this.completed++;
    const us = Math.round((nowMs - startMs) * 1000);
    this.histogram.recordValue(us < 1 ? 1 : us > MAX_LATENCY_US ? MAX_LATENCY_US : us);
  }

  lateBy(dueMs: number, nowMs: number): void {
    const us = Math.round((nowMs - dueMs) * 1000);
    this.sendLag.recordValue(us < 0 ? 0 : us > MAX_LATENCY_US ? MAX_LATENCY_US : us);
  }

  toResult(elapsedMs: number): LoadResult {
    return {
      completed: this.completed,
      sent: this.sent,
      errors: { ...this.errors },
      elapsedMs,
      histogram: encodeIntoCompressedBase64(this.histogram),
      sendLag: encodeIntoCompressedBase64(this.sendLag),
    };
  }
}
