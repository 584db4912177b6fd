import { ENVOY_BUCKETS } from './histogram.js';
import type { HistogramSnapshot } from './histogram.js';
import { escapeLabel, splitTagged } from './stats-snapshot.js';
import type { StatsSnapshot } from './stats-snapshot.js';

type Kind = 'counter' | 'gauge' | 'histogram';

interface Series {
  labels: string;
  value: number | HistogramSnapshot;
}

/**
 * The Prometheus name and labels of an Envoy stat, as Envoy's /stats/prometheus writes
 * them: `envoy_` prefix, every other character mapped to `_`, and the cluster name pulled
 * out as the `envoy_cluster_name` label. Tagged series (Istio's) keep their own name.
 */
export function prometheusName(key: string): { name: string; labels: string } {
  const { name, labels } = splitTagged(key);
  if (labels !== '' || name.startsWith('istio_')) return { name: sanitize(name), labels };
  if (name.startsWith('cluster.')) {
    const last = name.lastIndexOf('.');
    if (last > 'cluster.'.length) {
      const cluster = name.slice('cluster.'.length, last);
      return { name: `envoy_cluster_${sanitize(name.slice(last + 1))}`, labels: `envoy_cluster_name="${escapeLabel(cluster)}"` };
    }
  }
  return { name: `envoy_${sanitize(name)}`, labels: '' };
}

function sanitize(name: string): string {
  return name.replace(/[^a-zA-Z0-9_:]/g, '_');
}

function withLabel(labels: string, extra: string): string {
  return labels === '' ? `{${extra}}` : `{${labels},${extra}}`;
}

function formatNumber(n: number): string {
  return Number.isFinite(n) ? String(n) : n > 0 ? '+Inf' : n < 0 ? '-Inf' : 'NaN';
}

/** Renders a snapshot in the Prometheus text exposition format (version 0.0.4). */
export function renderPrometheus(snap: StatsSnapshot): string {
  const families = new Map<string, { kind: Kind; series: Series[] }>();
  const add = (key: string, kind: Kind, value: number | HistogramSnapshot): void => {
    const { name, labels } = prometheusName(key);
    let f = families.get(name);
    if (f === undefined) families.set(name, (f = { kind, series: [] }));
    f.series.push({ labels, value });
  };
  for (const [k, v] of Object.entries(snap.counters)) add(k, 'counter', v);
  for (const [k, v] of Object.entries(snap.gauges)) add(k, 'gauge', v);
  for (const [k, v] of Object.entries(snap.histograms)) add(k, 'histogram', v);
  const out: string[] = [];
  for (const name of [...families.keys()].sort()) {
    const f = families.get(name)!;
    out.push(`# TYPE ${name} ${f.kind}`);
    f.series.sort((a, b) => (a.labels < b.labels ? -1 : a.labels > b.labels ? 1 : 0));
    for (const s of f.series) {
      if (typeof s.value === 'number') {
        out.push(`${name}${s.labels === '' ? '' : `{${s.labels}}`} ${formatNumber(s.value)}`);
        continue;
      }
      const h = s.value;
      let cumulative = 0;
      ENVOY_BUCKETS.forEach((le, i) => {
        cumulative += h.buckets[i] ?? 0;
        out.push(`${name}_bucket${withLabel(s.labels, `le="${le}"`)} ${cumulative}`);
      });
      out.push(`${name}_bucket${withLabel(s.labels, 'le="+Inf"')} ${h.count}`);
      out.push(`${name}_sum${s.labels === '' ? '' : `{${s.labels}}`} ${formatNumber(h.sum)}`);
      out.push(`${name}_count${s.labels === '' ? '' : `{${s.labels}}`} ${h.count}`);
    }
  }
  return out.join('\n') + '\n';
}
