import * as hdr from 'hdr-histogram-js';
import type { Histogram } from 'hdr-histogram-js';

/**
 * Envoy's default histogram bucket bounds (ms), so Prometheus output lines up with the
 * dashboards written for Envoy and Istio.
 */
export const ENVOY_BUCKETS: readonly number[] = [0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000, 3600000];

/** The quantiles Envoy prints in /stats (p50, p90, p99 and p99.9 among them). */
export const QUANTILES: readonly number[] = [0, 25, 50, 75, 90, 95, 99, 99.5, 99.9, 100];

/**
 * A histogram as plain JSON: what a worker sends to the primary and what the merge adds up.
 * `hdr` is the HdrHistogram compressed-base64 encoding (values in microseconds).
 */
export interface HistogramSnapshot {
  /** Cumulative-free counts per bucket of `ENVOY_BUCKETS`, plus one overflow bucket. */
  buckets: number[];
  count: number;
  /** Sum of the recorded values, in the histogram's unit. */
  sum: number;
  hdr: string;
}

const MICROS_PER_MS = 1000;
/** One hour in µs: longer requests are clamped (a request timeout is far below that). */
const HIGHEST_US = 3_600_000_000;

function newHdr(): Histogram {
  return hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: HIGHEST_US, numberOfSignificantValueDigits: 3, bitBucketSize: 32, useWebAssembly: false });
}

/**
 * A latency histogram in milliseconds: an HdrHistogram (3 significant digits) for the
 * quantiles and a fixed bucket array for Prometheus. Recording is a few array writes.
 */
export class LatencyHistogram {
  readonly #hdr: Histogram = newHdr();
  readonly #buckets = new Float64Array(ENVOY_BUCKETS.length + 1);
  #count = 0;
  #sum = 0;

  /** Records one value in milliseconds (fractions kept at µs precision). */
  record(ms: number): void {
    const us = Math.round(ms * MICROS_PER_MS);
    this.#hdr.recordValue(us < 1 ? 1 : us > HIGHEST_US ? HIGHEST_US : us);
    const b = ENVOY_BUCKETS;
    let i = 0;
    while (i < b.length && ms > b[i]!) i++;
    this.#buckets[i]!++;
    this.#count++;
    this.#sum += ms;
  }

  get count(): number {
    return this.#count;
  }

  /** The value (ms) at percentile `p` (0..100), or NaN when nothing was recorded. */
  percentile(p: number): number {
    return this.#count === 0 ? Number.NaN : this.#hdr.getValueAtPercentile(p) / MICROS_PER_MS;
  }

  snapshot(): HistogramSnapshot {
    return { buckets: Array.from(this.#buckets), count: this.#count, sum: this.#sum, hdr: hdr.encodeIntoCompressedBase64(this.#hdr) };
  }
}

/** Adds histogram snapshots (from several workers) into one. */
export function mergeHistograms(parts: readonly HistogramSnapshot[]): HistogramSnapshot {
  const total = newHdr();
  const buckets = new Array<number>(ENVOY_BUCKETS.length + 1).fill(0);
  let count = 0;
  let sum = 0;
  for (const p of parts) {
    if (p.count > 0) {
      const h = hdr.decodeFromCompressedBase64(p.hdr, 32, false);
      total.add(h);
      h.destroy();
    }
    p.buckets.forEach((n, i) => (buckets[i] = (buckets[i] ?? 0) + n));
    count += p.count;
    sum += p.sum;
  }
  const out = { buckets, count, sum, hdr: hdr.encodeIntoCompressedBase64(total) };
  total.destroy();
  return out;
}

/** The quantile values (ms) of a snapshot; NaN for an empty one. */
export function snapshotQuantiles(s: HistogramSnapshot, quantiles: readonly number[] = QUANTILES): number[] {
  if (s.count === 0) return quantiles.map(() => Number.NaN);
  const h = hdr.decodeFromCompressedBase64(s.hdr, 32, false);
  const out = quantiles.map((q) => h.getValueAtPercentile(q) / MICROS_PER_MS);
  h.destroy();
  return out;
}
