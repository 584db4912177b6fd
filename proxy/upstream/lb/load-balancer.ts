/** What a load balancer needs to know of a host. */
export interface LbHost {
  readonly id: string;
  readonly healthy: boolean;
  readonly weight: number;
  /** Requests in flight on this host (for least-request). */
  activeRequests(): number;
}

/** A host picker built for one host set; rebuilt when the hosts change. */
export interface LoadBalancer<H extends LbHost> {
  /** A healthy host, or undefined when there is none. `hashKey` drives consistent hashing. */
  pick(hashKey: bigint | undefined): H | undefined;
}

export type LbPolicy = 'ROUND_ROBIN' | 'RANDOM' | 'LEAST_REQUEST' | 'RING_HASH' | 'MAGLEV';
