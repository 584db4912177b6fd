/**
 * The primary's outlier detection: one detector per cluster for the whole sidecar, fed by
 * the workers' host results. Every ejection and every return is broadcast to all workers as
 * the cluster's full set of ejected hosts (idempotent; a worker that starts late gets it too).
 */
import type { OutlierDetectionConfig } from '../upstream/cluster-policy.js';
import { OutlierDetector } from '../upstream/outlier-detector.js';
import type { OutlierHost } from '../upstream/outlier-detector.js';
import type { Ejections, HostResult } from './messages.js';

interface ClusterOutliers {
  readonly configKey: string;
  readonly hosts: Map<string, OutlierHost>;
  readonly detector: OutlierDetector<OutlierHost>;
  /** The ejected set last broadcast, to send only changes. */
  lastSent: string;
}

export class PrimaryOutliers {
  readonly #clusters = new Map<string, ClusterOutliers>();
  readonly #broadcast: (msg: Ejections) => void;

  constructor(broadcast: (msg: Ejections) => void) {
    this.#broadcast = broadcast;
  }

  report(r: HostResult): void {
    const c = this.#cluster(r.cluster, r.config);
    // Hosts come and go with EDS: the detector sees the cluster's hosts as the worker does.
    for (const id of r.hosts) if (!c.hosts.has(id)) c.hosts.set(id, { id, consecutiveErrors: 0, ejected: false, ejections: 0 });
    const known = new Set(r.hosts);
    for (const id of c.hosts.keys()) if (!known.has(id)) c.hosts.delete(id);
    const host = c.hosts.get(r.host);
    if (host === undefined) return;
    if (r.ok) c.detector.success(host);
    else c.detector.failure(host);
  }

  /** Every cluster's ejected hosts, for a worker that just started. */
  states(): Ejections[] {
    return [...this.#clusters].map(([cluster, c]) => ({ type: 'meltemi.policy.ejections', cluster, ejected: ejectedOf(c) }));
  }

  /** True while the sidecar's detector has `host` of `cluster` ejected (admin /clusters). */
  isEjected(cluster: string, host: string): boolean | undefined {
    return this.#clusters.get(cluster)?.hosts.get(host)?.ejected;
  }

  close(): void {
    for (const c of this.#clusters.values()) c.detector.close();
  }

  #cluster(name: string, config: OutlierDetectionConfig): ClusterOutliers {
    const configKey = JSON.stringify(config);
    const had = this.#clusters.get(name);
    if (had !== undefined && had.configKey === configKey) return had;
    // A new outlier_detection config starts over, as the worker's cluster does.
    had?.detector.close();
    const hosts = new Map<string, OutlierHost>();
    const c: ClusterOutliers = {
      configKey,
      hosts,
      detector: new OutlierDetector(config, () => [...hosts.values()], () => this.#changed(name)),
      lastSent: had?.lastSent ?? '',
    };
    this.#clusters.set(name, c);
    if (had !== undefined) this.#changed(name);
    return c;
  }

  #changed(name: string): void {
    const c = this.#clusters.get(name);
    if (c === undefined) return;
    const ejected = ejectedOf(c);
    const key = ejected.join(',');
    if (key === c.lastSent) return;
    c.lastSent = key;
    this.#broadcast({ type: 'meltemi.policy.ejections', cluster: name, ejected });
  }
}

function ejectedOf(c: ClusterOutliers): string[] {
  return [...c.hosts.values()].filter((h) => h.ejected).map((h) => h.id);
}
