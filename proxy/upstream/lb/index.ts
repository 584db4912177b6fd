import { MaglevBalancer, RingHashBalancer } from './consistent-hash-balancers.js';
import type { LbHost, LbPolicy, LoadBalancer } from './load-balancer.js';
import { LeastRequestBalancer, RandomBalancer, RoundRobinBalancer } from './simple-balancers.js';
import { PriorityLocalityBalancer, needsTiers } from './priority-balancer.js';
import type { TieredHost } from './priority-balancer.js';

export type { TieredHost } from './priority-balancer.js';

export type { LbHost, LbPolicy, LoadBalancer } from './load-balancer.js';
export { hashOfValues, xxhash64 } from './xxhash64.js';

/** A cluster's balancing policy as CDS or the bootstrap gives it. */
export interface ClusterLbConfig extends LbOptions {
  readonly policy: LbPolicy;
}

export const LB_POLICIES: readonly LbPolicy[] = ['ROUND_ROBIN', 'RANDOM', 'LEAST_REQUEST', 'RING_HASH', 'MAGLEV'];

/** True for the policies that use the route's hash policy. */
export function usesHash(policy: LbPolicy): boolean {
  return policy === 'RING_HASH' || policy === 'MAGLEV';
}

export interface LbOptions {
  ringMinSize?: number;
  ringMaxSize?: number;
  maglevTableSize?: number;
  leastRequestChoices?: number;
}

/**
 * The balancer of a cluster: `policy` over the hosts, split by EDS priority levels and
 * locality weights when the hosts carry them.
 */
export function createClusterBalancer<H extends TieredHost>(policy: LbPolicy, hosts: readonly H[], opts: LbOptions = {}): LoadBalancer<H> {
  if (!needsTiers(hosts)) return createLoadBalancer(policy, hosts, opts);
  return new PriorityLocalityBalancer(hosts, (level) => createLoadBalancer(policy, level, opts));
}

/** The balancer of `policy` for one host set (rebuilt by the cluster when hosts change). */
export function createLoadBalancer<H extends LbHost>(policy: LbPolicy, hosts: readonly H[], opts: LbOptions = {}): LoadBalancer<H> {
  switch (policy) {
    case 'ROUND_ROBIN':
      return new RoundRobinBalancer(hosts);
    case 'RANDOM':
      return new RandomBalancer(hosts);
    case 'LEAST_REQUEST':
      return new LeastRequestBalancer(hosts, opts.leastRequestChoices ?? 2);
    case 'RING_HASH':
      return new RingHashBalancer(hosts, opts.ringMinSize, opts.ringMaxSize);
    case 'MAGLEV':
      return new MaglevBalancer(hosts, opts.maglevTableSize);
  }
}
