import type { LbHost, LbPolicy, LoadBalancer } from './load-balancer.js';

/** A host as priority and locality balancing see it. */
export interface TieredHost extends LbHost {
  readonly priority: number;
  readonly locality: string;
  readonly localityWeight: number | undefined;
}

/** Envoy's overprovisioning factor: a level at 72% health (x1.4 = 100%) still takes all traffic. */
const OVERPROVISIONING = 1.4;

interface Locality<H extends LbHost> {
  readonly weight: number;
  readonly lb: LoadBalancer<H>;
}

interface Level<H extends LbHost> {
  /** Share of traffic, 0..1. */
  readonly load: number;
  readonly lb: LoadBalancer<H> | undefined;
  readonly localities: Locality<H>[];
  readonly localityTotal: number;
}

const healthShare = (hosts: readonly LbHost[]): number =>
  hosts.length === 0 ? 0 : Math.min(1, (OVERPROVISIONING * hosts.filter((h) => h.healthy).length) / hosts.length);

/**
 * EDS priority levels and locality weights (Envoy's semantics): priority 0 takes all
 * traffic while its overprovisioned health is 100%, the rest spills to the next levels;
 * within a level whose localities carry load_balancing_weight, a locality is drawn by
 * weight x health, then a host inside it by the cluster's policy.
 */
export class PriorityLocalityBalancer<H extends TieredHost> implements LoadBalancer<H> {
  readonly #levels: Level<H>[] = [];
  readonly #random: () => number;

  constructor(hosts: readonly H[], make: (hosts: readonly H[]) => LoadBalancer<H>, random: () => number = Math.random) {
    this.#random = random;
    const byPriority = new Map<number, H[]>();
    for (const h of hosts) (byPriority.get(h.priority) ?? byPriority.set(h.priority, []).get(h.priority)!).push(h);
    const priorities = [...byPriority.keys()].sort((a, b) => a - b);
    let left = 1;
    const raw: { hosts: H[]; load: number }[] = [];
    for (const p of priorities) {
      const levelHosts = byPriority.get(p)!;
      const load = Math.min(left, healthShare(levelHosts));
      left -= load;
      raw.push({ hosts: levelHosts, load });
    }
    // When every level is degraded, the loads are scaled up to add to 100%.
    const total = raw.reduce((s, r) => s + r.load, 0);
    for (const r of raw) {
      const load = total === 0 ? 0 : r.load / total;
      const weighted = r.hosts.some((h) => h.localityWeight !== undefined);
      if (!weighted) {
        this.#levels.push({ load, lb: make(r.hosts), localities: [], localityTotal: 0 });
        continue;
      }
      const byLocality = new Map<string, H[]>();
      for (const h of r.hosts) (byLocality.get(h.locality) ?? byLocality.set(h.locality, []).get(h.locality)!).push(h);
      const localities: Locality<H>[] = [];
      for (const lh of byLocality.values()) {
        const weight = (lh[0]!.localityWeight ?? 0) * healthShare(lh);
        if (weight > 0) localities.push({ weight, lb: make(lh) });
      }
      this.#levels.push({ load, lb: undefined, localities, localityTotal: localities.reduce((s, l) => s + l.weight, 0) });
    }
  }

  pick(hashKey: bigint | undefined): H | undefined {
    let point = this.#random();
    let level = this.#levels[this.#levels.length - 1];
    for (const l of this.#levels) {
      if (point < l.load) {
        level = l;
        break;
      }
      point -= l.load;
    }
    if (level === undefined) return undefined;
    if (level.lb !== undefined) return level.lb.pick(hashKey);
    let w = this.#random() * level.localityTotal;
    for (const loc of level.localities) {
      if (w < loc.weight) return loc.lb.pick(hashKey);
      w -= loc.weight;
    }
    return level.localities.at(-1)?.lb.pick(hashKey);
  }
}

/** True when the hosts need priority or locality handling (otherwise the plain balancer serves). */
export function needsTiers(hosts: readonly TieredHost[]): boolean {
  return hosts.some((h) => h.priority !== 0 || h.localityWeight !== undefined);
}

export type { LbPolicy };
