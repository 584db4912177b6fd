import type { ClusterStats, ListenerStats } from '../stats.js';
import { emptySnapshot } from './stats-snapshot.js';
import type { StatsSnapshot } from './stats-snapshot.js';

/** The live objects a snapshot is read from. */
export interface StatsSources {
  readonly listeners: Iterable<{ readonly stats: ListenerStats; readonly routes: readonly { readonly name: string; readonly stats: object }[] }>;
  readonly clusters: Iterable<{ readonly name: string; readonly stats: ClusterStats }>;
  /** Adds process-wide series (Istio's). */
  collectExtra?(into: StatsSnapshot): void;
  /** Extra `name: value` lines from other parts (xDS client counters). */
  readonly extraLines?: readonly string[];
}

/**
 * Reads every stat of this process into a JSON-able snapshot (what a worker sends to the
 * primary). Cheap enough for an admin request; never on the request path.
 */
export function collectSnapshot(src: StatsSources): StatsSnapshot {
  const snap = emptySnapshot();
  for (const l of src.listeners) {
    l.stats.collect(snap);
    for (const r of l.routes) {
      for (const [k, v] of Object.entries(r.stats)) if (typeof v === 'number') snap.counters[`${l.stats.prefix}route.${r.name}.${k}`] = v;
    }
  }
  for (const c of src.clusters) c.stats.collect(c.name, snap);
  src.collectExtra?.(snap);
  for (const line of src.extraLines ?? []) {
    const i = line.lastIndexOf(': ');
    const v = Number(line.slice(i + 2));
    if (i > 0 && Number.isFinite(v)) snap.counters[line.slice(0, i)] = v;
  }
  return snap;
}
