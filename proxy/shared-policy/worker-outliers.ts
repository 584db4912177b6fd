/**
 * A worker's side of sidecar-wide outlier detection: its clusters report host results to
 * the primary (failures, and the first success after a failure: never a run of successes)
 * and follow the ejections the primary broadcasts. The worker's own detector is not used.
 */
import type { OutlierDetectionConfig } from '../upstream/cluster-policy.js';
import type { HostOutcomes, OutlierHost } from '../upstream/outlier-detector.js';
import type { Ejections, HostResult } from './messages.js';

const NONE: ReadonlySet<string> = new Set();

export class WorkerOutliers {
  readonly #send: (msg: HostResult) => void;
  readonly #ejected = new Map<string, ReadonlySet<string>>();
  readonly #links = new Map<string, Set<OutlierLink<OutlierHost>>>();

  constructor(send: (msg: HostResult) => void) {
    this.#send = send;
  }

  link<H extends OutlierHost>(cluster: string, config: OutlierDetectionConfig, hosts: () => readonly H[], onChange: () => void): HostOutcomes<H> {
    const l = new OutlierLink<H>(this, cluster, config, hosts, onChange);
    let set = this.#links.get(cluster);
    if (set === undefined) this.#links.set(cluster, (set = new Set()));
    set.add(l as unknown as OutlierLink<OutlierHost>);
    l.apply(this.ejected(cluster));
    return l;
  }

  /** The primary's broadcast: applies to every linked cluster of that name. */
  onEjections(msg: Ejections): void {
    const ejected = new Set(msg.ejected);
    this.#ejected.set(msg.cluster, ejected);
    for (const l of this.#links.get(msg.cluster) ?? []) l.apply(ejected);
  }

  ejected(cluster: string): ReadonlySet<string> {
    return this.#ejected.get(cluster) ?? NONE;
  }

  send(msg: HostResult): void {
    this.#send(msg);
  }

  unlink(cluster: string, l: OutlierLink<OutlierHost>): void {
    this.#links.get(cluster)?.delete(l);
  }
}

/** One cluster's link: takes the detector's place in the cluster. */
class OutlierLink<H extends OutlierHost> implements HostOutcomes<H> {
  readonly #owner: WorkerOutliers;
  readonly #cluster: string;
  readonly #config: OutlierDetectionConfig;
  readonly #hosts: () => readonly H[];
  readonly #onChange: () => void;

  constructor(owner: WorkerOutliers, cluster: string, config: OutlierDetectionConfig, hosts: () => readonly H[], onChange: () => void) {
    this.#owner = owner;
    this.#cluster = cluster;
    this.#config = config;
    this.#hosts = hosts;
    this.#onChange = onChange;
  }

  success(host: H): void {
    // consecutiveErrors here only remembers that this worker saw the host fail last.
    if (host.consecutiveErrors === 0) return;
    host.consecutiveErrors = 0;
    this.#report(host, true);
  }

  failure(host: H): void {
    if (host.ejected) return;
    host.consecutiveErrors++;
    this.#report(host, false);
  }

  hostsChanged(): void {
    this.apply(this.#owner.ejected(this.#cluster));
  }

  apply(ejected: ReadonlySet<string>): void {
    let changed = false;
    for (const h of this.#hosts()) {
      const e = ejected.has(h.id);
      if (h.ejected === e) continue;
      h.ejected = e;
      if (e) h.ejections++;
      changed = true;
    }
    if (changed) this.#onChange();
  }

  close(): void {
    this.#owner.unlink(this.#cluster, this as unknown as OutlierLink<OutlierHost>);
  }

  #report(host: H, ok: boolean): void {
    this.#owner.send({ type: 'meltemi.policy.host_result', cluster: this.#cluster, host: host.id, ok, hosts: this.#hosts().map((h) => h.id), config: this.#config });
  }
}
