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

/*
 * The counts layout of an HdrHistogram with 3 significant digits and a unit of 1: 2048
 * sub-buckets, the upper half of each power-of-two bucket after the first. Index i holds the
 * values v with bucket b = max(0, floor(log2 v) - 10) and sub-bucket v >> b, at
 * (b + 1) * 1024 + (v >> b) - 1024. hdr-histogram-js finds b with Math.log2 and Math.pow on
 * every record, which showed as 2-3% of the proxy's CPU in the dubbo 64x8 bench; Math.clz32
 * does it in one instruction below 2^31.
 */
const SUB_BUCKET_HALF_MAGNITUDE = 10;
const SUB_BUCKET_HALF = 1 << SUB_BUCKET_HALF_MAGNITUDE;
/** Counts allocated on the first record: values up to 2^17 µs (131 ms); grown on demand. */
const INITIAL_COUNTS = 8 * SUB_BUCKET_HALF;

function countsIndex(v: number): number {
  if (v < 0x80000000) {
    const b = 21 - Math.clz32(v | (2 * SUB_BUCKET_HALF - 1));
    return (b + 1) * SUB_BUCKET_HALF + (v >>> b) - SUB_BUCKET_HALF;
  }
  const b = Math.floor(Math.log2(v)) - SUB_BUCKET_HALF_MAGNITUDE;
  return (b + 1) * SUB_BUCKET_HALF + Math.floor(v / 2 ** b) - SUB_BUCKET_HALF;
}

/** The lowest value that lands at counts index `i` (the inverse of countsIndex). */
function valueAt(i: number): number {
  const b = Math.floor(i / SUB_BUCKET_HALF) - 1;
  const sub = (i % SUB_BUCKET_HALF) + SUB_BUCKET_HALF;
  return b < 0 ? sub - SUB_BUCKET_HALF : sub * 2 ** b;
}

const EMPTY_HDR = hdr.encodeIntoCompressedBase64(newHdr());

/**
 * A latency histogram in milliseconds: HdrHistogram counts (3 significant digits) for the
 * quantiles and a fixed bucket array for Prometheus. Recording is a few array writes; the
 * counts are allocated on the first record, so the histograms of clusters that see no traffic
 * (a mesh pushes hundreds) cost next to nothing, and folded into an hdr-histogram-js
 * histogram only when read.
 */
export class LatencyHistogram {
  #counts: Uint32Array | null = null;
  readonly #buckets = new Float64Array(ENVOY_BUCKETS.length + 1);
  #count = 0;
  #sum = 0;

  /** Records one value in milliseconds (fractions kept at µs precision). */
  record(ms: number): void {
    const us = Math.round(ms * MICROS_PER_MS);
    const i = countsIndex(us < 1 ? 1 : us > HIGHEST_US ? HIGHEST_US : us);
    let counts = this.#counts;
    if (counts === null || i >= counts.length) counts = this.#grow(i);
    counts[i]!++;
    const b = ENVOY_BUCKETS;
    let k = 0;
    while (k < b.length && ms > b[k]!) k++;
    this.#buckets[k]!++;
    this.#count++;
    this.#sum += ms;
  }

  #grow(index: number): Uint32Array {
    let size = this.#counts?.length ?? INITIAL_COUNTS;
    while (size <= index) size += 4 * SUB_BUCKET_HALF;
    const counts = new Uint32Array(size);
    if (this.#counts !== null) counts.set(this.#counts);
    this.#counts = counts;
    return counts;
  }

  get count(): number {
    return this.#count;
  }

  /** Adds everything `other` recorded to this histogram (a stat handle moving to its shared series). */
  absorb(other: LatencyHistogram): void {
    const theirs = other.#counts;
    if (theirs !== null) {
      let counts = this.#counts;
      if (counts === null || counts.length < theirs.length) counts = this.#grow(theirs.length - 1);
      for (let i = 0; i < theirs.length; i++) counts[i]! += theirs[i]!;
    }
    for (let k = 0; k < this.#buckets.length; k++) this.#buckets[k]! += other.#buckets[k]!;
    this.#count += other.#count;
    this.#sum += other.#sum;
  }

  /** The value (ms) at percentile `p` (0..100), or NaN when nothing was recorded. */
  percentile(p: number): number {
    return this.#count === 0 ? Number.NaN : this.#toHdr().getValueAtPercentile(p) / MICROS_PER_MS;
  }

  snapshot(): HistogramSnapshot {
    return { buckets: Array.from(this.#buckets), count: this.#count, sum: this.#sum, hdr: this.#count === 0 ? EMPTY_HDR : hdr.encodeIntoCompressedBase64(this.#toHdr()) };
  }

  #toHdr(): Histogram {
    const h = newHdr();
    const counts = this.#counts;
    if (counts !== null) {
      for (let i = 0; i < counts.length; i++) if (counts[i]! > 0) h.recordValueWithCount(valueAt(i), counts[i]!);
    }
    return h;
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
