import type { ClusterStats, ListenerStats } from '../stats.js';
import { collectSnapshot } from './collect.js';
import { collectFilterStats } from './filter-stats.js';
import { addMemoryGauges, processMemory } from './memory.js';
import type { StatsSnapshot } from './stats-snapshot.js';

/** A listener as the stats read it: its current counters and route table. */
interface ListenerStatsView {
  readonly runtime: { readonly stats: ListenerStats; readonly routes: { readonly current: { readonly routes: readonly { readonly name: string; readonly stats: object }[] } } };
}

/** What one process's stats are read from (the live objects of a MeltemiServer). */
export interface ServerStatsSources {
  /** False with `stats_config.stats_matcher.reject_all`: the snapshot is empty. */
  readonly metricsOn: boolean;
  readonly listeners: Iterable<ListenerStatsView>;
  readonly clusters: Iterable<{ readonly name: string; readonly stats: ClusterStats }>;
  /** Process-wide parts that add their own series (Istio's, overload actions). */
  readonly parts: readonly { collect(into: StatsSnapshot): void }[];
  /** Extra `name: value` lines (the xDS client's counters). */
  readonly extraLines: readonly string[];
}

/**
 * Every stat of this process as JSON (what a worker sends to the primary; the admin
 * renders it): listeners and their routes, clusters, process-wide parts, memory, filters.
 */
export function collectServerStats(src: ServerStatsSources): StatsSnapshot {
  if (!src.metricsOn) return { counters: {}, gauges: {}, histograms: {} };
  const listeners = [...src.listeners].map((l) => ({ stats: l.runtime.stats, routes: l.runtime.routes.current.routes }));
  return collectSnapshot({
    listeners,
    clusters: src.clusters,
    collectExtra: (into) => {
      for (const p of src.parts) p.collect(into);
      addMemoryGauges(into, processMemory());
      collectFilterStats(into);
    },
    extraLines: src.extraLines,
  });
}
