import { LatencyHistogram, mergeHistograms } from './histogram.js';
import type { StatsSnapshot } from './stats-snapshot.js';

/** The value of one counter or gauge, shared by every handle of its name. */
export class StatCell {
  value = 0;
}

/**
 * The stats filters keep (through the filter API), by full name, for one server. A filter
 * rebuilt by a listener update asks for the same names and gets the same cells, so its
 * counters go on as the listener's do. Read only by /stats and the worker's report.
 */
export class StatsRegistry {
  readonly #counters = new Map<string, StatCell>();
  readonly #gauges = new Map<string, StatCell>();
  readonly #histograms = new Map<string, LatencyHistogram>();

  counter(key: string): StatCell {
    let c = this.#counters.get(key);
    if (c === undefined) this.#counters.set(key, (c = new StatCell()));
    return c;
  }

  gauge(key: string): StatCell {
    let g = this.#gauges.get(key);
    if (g === undefined) this.#gauges.set(key, (g = new StatCell()));
    return g;
  }

  histogram(key: string): LatencyHistogram {
    let h = this.#histograms.get(key);
    if (h === undefined) this.#histograms.set(key, (h = new LatencyHistogram()));
    return h;
  }

  /** Adds every stat to `into` (a name already there adds up: several sources of one series). */
  collect(into: StatsSnapshot): void {
    for (const [k, c] of this.#counters) into.counters[k] = (into.counters[k] ?? 0) + c.value;
    for (const [k, g] of this.#gauges) into.gauges[k] = (into.gauges[k] ?? 0) + g.value;
    for (const [k, h] of this.#histograms) {
      const had = into.histograms[k];
      into.histograms[k] = had === undefined ? h.snapshot() : mergeHistograms([had, h.snapshot()]);
    }
  }
}
