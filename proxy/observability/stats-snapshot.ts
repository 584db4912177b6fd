import { mergeHistograms } from './histogram.js';
import type { HistogramSnapshot } from './histogram.js';

/**
 * Every stat of one process as plain JSON, keyed by Envoy stat name. A name may carry
 * Prometheus-style tags (`istio_requests_total{reporter="destination",...}`): such series
 * are rendered with those labels and merged by the full key.
 *
 * With several workers (node:cluster), each worker sends its snapshot to the primary over
 * IPC (`process.send({ type: 'stats', snapshot })`); the primary's admin source keeps the
 * latest snapshot per worker and serves `mergeStatsSnapshots(latest)`.
 */
export interface StatsSnapshot {
  counters: Record<string, number>;
  gauges: Record<string, number>;
  histograms: Record<string, HistogramSnapshot>;
}

export function emptySnapshot(): StatsSnapshot {
  return { counters: {}, gauges: {}, histograms: {} };
}

/** Sums snapshots: counters and gauges add up, histograms merge. */
export function mergeStatsSnapshots(parts: readonly StatsSnapshot[]): StatsSnapshot {
  const out = emptySnapshot();
  const hist = new Map<string, HistogramSnapshot[]>();
  for (const p of parts) {
    for (const [k, v] of Object.entries(p.counters)) out.counters[k] = (out.counters[k] ?? 0) + v;
    for (const [k, v] of Object.entries(p.gauges)) out.gauges[k] = (out.gauges[k] ?? 0) + v;
    for (const [k, v] of Object.entries(p.histograms)) {
      const list = hist.get(k);
      if (list === undefined) hist.set(k, [v]);
      else list.push(v);
    }
  }
  for (const [k, list] of hist) out.histograms[k] = list.length === 1 ? list[0]! : mergeHistograms(list);
  return out;
}

/** `name{k="v",...}`: the key of a tagged series (label values escaped as Prometheus does). */
export function taggedName(name: string, tags: readonly (readonly [string, string])[]): string {
  return `${name}{${tags.map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(',')}}`;
}

export function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

/** Splits a key into its name and its label text (without braces; '' when untagged). */
export function splitTagged(key: string): { name: string; labels: string } {
  const i = key.indexOf('{');
  return i < 0 ? { name: key, labels: '' } : { name: key.slice(0, i), labels: key.slice(i + 1, -1) };
}
