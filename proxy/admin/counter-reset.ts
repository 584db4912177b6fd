/**
 * POST /reset_counters, as Envoy's: every counter reads 0 from now on; gauges and histograms
 * are untouched. Counters live in many objects across worker processes, so instead of
 * zeroing each, the admin keeps the values at the reset and shows the difference. A
 * counter that is below its value at the reset belongs to an object created since (a
 * listener replaced by LDS): it is shown as it is.
 */
import type { StatsSnapshot } from '../observability/stats-snapshot.js';

export class CounterReset {
  #baseline: Readonly<Record<string, number>> = {};

  /** Takes the current counters as the new zero. */
  reset(now: StatsSnapshot): void {
    this.#baseline = { ...now.counters };
  }

  /** The snapshot with counters counted from the last reset. */
  apply(snap: StatsSnapshot): StatsSnapshot {
    const base = this.#baseline;
    if (Object.keys(base).length === 0) return snap;
    const counters: Record<string, number> = {};
    for (const [name, v] of Object.entries(snap.counters)) {
      const b = base[name] ?? 0;
      counters[name] = v >= b ? v - b : v;
    }
    return { ...snap, counters };
  }
}
