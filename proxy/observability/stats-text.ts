import { QUANTILES, snapshotQuantiles } from './histogram.js';
import type { StatsSnapshot } from './stats-snapshot.js';

/** Options of /stats, as Envoy's query parameters name them. */
export interface StatsQuery {
  /** `filter=<regex>`: only stats whose name matches. */
  /** A compiled RE2 filter (config/regex.ts); a RegExp fits too. */
  filter?: { test(name: string): boolean };
  /** `usedonly`: only stats that were ever written (non-zero or recorded). */
  usedOnly?: boolean;
}

function keep(name: string, used: boolean, q: StatsQuery): boolean {
  if (q.usedOnly === true && !used) return false;
  return q.filter === undefined || q.filter.test(name);
}

function quantileLabel(q: number): string {
  return `P${q}`;
}

function fmt(n: number): string {
  return Number.isNaN(n) ? 'nan' : String(Math.round(n * 1000) / 1000);
}

/**
 * Envoy's /stats text format: `name: value` lines sorted by name, then histograms as
 * `name: P0(nan,v) P25(nan,v) ... P100(nan,v)` (interval, cumulative; Meltemi keeps only
 * the cumulative value).
 */
export function renderStatsText(snap: StatsSnapshot, q: StatsQuery = {}): string {
  const lines: string[] = [];
  const values = { ...snap.counters, ...snap.gauges };
  for (const name of Object.keys(values).sort()) {
    const v = values[name]!;
    if (keep(name, v !== 0, q)) lines.push(`${name}: ${v}`);
  }
  for (const name of Object.keys(snap.histograms).sort()) {
    const h = snap.histograms[name]!;
    if (!keep(name, h.count > 0, q)) continue;
    if (h.count === 0) {
      lines.push(`${name}: No recorded values`);
      continue;
    }
    const qs = snapshotQuantiles(h);
    lines.push(`${name}: ${QUANTILES.map((p, i) => `${quantileLabel(p)}(nan,${fmt(qs[i]!)})`).join(' ')}`);
  }
  return lines.join('\n') + '\n';
}

/** Envoy's `/stats?format=json` shape. */
export function renderStatsJson(snap: StatsSnapshot, q: StatsQuery = {}): unknown {
  const values = { ...snap.counters, ...snap.gauges };
  const stats: unknown[] = Object.keys(values)
    .sort()
    .filter((n) => keep(n, values[n] !== 0, q))
    .map((name) => ({ name, value: values[name] }));
  const computed = Object.keys(snap.histograms)
    .sort()
    .filter((n) => keep(n, snap.histograms[n]!.count > 0, q))
    .map((name) => {
      const h = snap.histograms[name]!;
      const qs = snapshotQuantiles(h);
      return { name, count: h.count, sum: h.sum, values: qs.map((v) => ({ interval: null, cumulative: Number.isNaN(v) ? null : v })) };
    });
  stats.push({ histograms: { supported_quantiles: QUANTILES, computed_quantiles: computed } });
  return { stats };
}
