import type { StatsSnapshot } from './stats-snapshot.js';

/** Stats a filter keeps beyond the listener's own (a global rate limit's `ratelimit.*`). */
export interface FilterStatsGroup {
  collect(into: StatsSnapshot): void;
}

/**
 * Filter stats of this process, by full stat prefix. A filter rebuilt by a config update
 * under the same prefix gets the same group, so its counters survive the update as the
 * listener's do.
 */
const groups = new Map<string, FilterStatsGroup>();

/** The group registered under `prefix`, made by `make` the first time. */
export function filterStatsGroup<T extends FilterStatsGroup>(prefix: string, make: () => T): T {
  let g = groups.get(prefix);
  if (g === undefined) {
    g = make();
    groups.set(prefix, g);
  }
  return g as T;
}

/** Adds every registered filter stat to `into` (admin /stats; never on the request path). */
export function collectFilterStats(into: StatsSnapshot): void {
  for (const g of groups.values()) g.collect(into);
}
