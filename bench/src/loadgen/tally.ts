// Everything one generator process counts during a window: a latency histogram in
// microseconds and the outcome counters.
import { build, encodeIntoCompressedBase64, type Histogram } from 'hdr-histogram-js';
import { performance } from 'node:perf_hooks';
import { emptyErrors, type ErrorCounts, type LoadResult, type TimelinePoint } from '../ipc.ts';

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
  /** Latency over time: one point per interval, from a histogram that is reset each interval. */
  readonly #interval = newHistogram();
  readonly #timeline: TimelinePoint[] = [];
  readonly #intervalMs: number;
  #startMs = performance.now();
  #intervalEndMs: number;

  constructor(intervalMs: number) {
    this.#intervalMs = intervalMs;
    this.#intervalEndMs = this.#startMs + intervalMs;
  }

  /** Starts the timeline's clock; called when the window starts. */
  start(nowMs: number): void {
    this.#startMs = nowMs;
    this.#intervalEndMs = nowMs + this.#intervalMs;
    this.#interval.reset();
    this.#timeline.length = 0;
  }

  /** Records one good response that was due (closed loop: sent) at `startMs`. */
  ok(startMs: number, nowMs: number): void {
    this.completed++;
    if (nowMs >= this.#intervalEndMs) this.#closeInterval(nowMs);
    const us = Math.round((nowMs - startMs) * 1000);
    const v = us < 1 ? 1 : us > MAX_LATENCY_US ? MAX_LATENCY_US : us;
    this.histogram.recordValue(v);
    this.#interval.recordValue(v);
  }

  #closeInterval(nowMs: number): void {
    const h = this.#interval;
    this.#timeline.push({
      tMs: Math.round(this.#intervalEndMs - this.#startMs),
      completed: h.totalCount,
      p50Us: h.totalCount > 0 ? h.getValueAtPercentile(50) : 0,
      p99Us: h.totalCount > 0 ? h.getValueAtPercentile(99) : 0,
      maxUs: h.totalCount > 0 ? h.maxValue : 0,
    });
    h.reset();
    // Intervals without a single response (a stall) still get their point, with nothing in it.
    this.#intervalEndMs += this.#intervalMs;
    while (nowMs >= this.#intervalEndMs) {
      this.#timeline.push({ tMs: Math.round(this.#intervalEndMs - this.#startMs), completed: 0, p50Us: 0, p99Us: 0, maxUs: 0 });
      this.#intervalEndMs += this.#intervalMs;
    }
  }

  lateBy(dueMs: number, nowMs: number): void {
    const us = Math.round((nowMs - dueMs) * 1000);
    this.sendLag.recordValue(us < 0 ? 0 : us > MAX_LATENCY_US ? MAX_LATENCY_US : us);
  }

  toResult(elapsedMs: number): LoadResult {
    if (this.#interval.totalCount > 0) this.#closeInterval(performance.now());
    return {
      timeline: [...this.#timeline],
      completed: this.completed,
      sent: this.sent,
      errors: { ...this.errors },
      elapsedMs,
      histogram: encodeIntoCompressedBase64(this.histogram),
      sendLag: encodeIntoCompressedBase64(this.sendLag),
    };
  }
}
