import type { OutlierDetectionConfig } from './cluster-policy.js';

/** What the detector tracks per host. */
export interface OutlierHost {
  consecutiveErrors: number;
  ejected: boolean;
  ejections: number;
  readonly id: string;
}

/** Where a cluster reports each request's outcome: its own detector, or the sidecar's (workers). */
export interface HostOutcomes<H extends OutlierHost> {
  success(host: H): void;
  failure(host: H): void;
  /** The cluster's host set changed (EDS). */
  hostsChanged?(): void;
  close(): void;
}

/**
 * Consecutive-error outlier detection (Envoy's consecutive_5xx): a host with that many
 * failures in a row (error replies, resets, timeouts) is ejected for base_ejection_time x
 * the number of its ejections (capped by max_ejection_time), while at most
 * max_ejection_percent of the hosts are out (at least one may be). Hand-written: it is a
 * counter per host and one timer per ejection, cheaper on the hot path than a breaker
 * library's per-call promise wrapping.
 */
export class OutlierDetector<H extends OutlierHost> implements HostOutcomes<H> {
  readonly #config: OutlierDetectionConfig;
  readonly #hosts: () => readonly H[];
  readonly #onChange: () => void;
  readonly #random: () => number;
  ejectionsTotal = 0;
  #timers = new Set<NodeJS.Timeout>();

  constructor(config: OutlierDetectionConfig, hosts: () => readonly H[], onChange: () => void, random: () => number = Math.random) {
    this.#config = config;
    this.#hosts = hosts;
    this.#onChange = onChange;
    this.#random = random;
  }

  success(host: H): void {
    host.consecutiveErrors = 0;
  }

  failure(host: H): void {
    if (host.ejected) return;
    if (++host.consecutiveErrors < this.#config.consecutiveErrors) return;
    host.consecutiveErrors = 0;
    if (this.#random() * 100 >= this.#config.enforcingPercent) return;
    const hosts = this.#hosts();
    const ejected = hosts.filter((h) => h.ejected).length;
    if (ejected > 0 && ((ejected + 1) * 100) / hosts.length > this.#config.maxEjectionPercent) return;
    host.ejected = true;
    host.ejections++;
    this.ejectionsTotal++;
    const time = Math.min(this.#config.baseEjectionTimeMs * host.ejections, this.#config.maxEjectionTimeMs);
    const t = setTimeout(() => {
      this.#timers.delete(t);
      host.ejected = false;
      this.#onChange();
    }, time);
    t.unref();
    this.#timers.add(t);
    this.#onChange();
  }

  close(): void {
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
  }
}
