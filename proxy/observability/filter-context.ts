import type { FilterContext, NodeInfo, SharedTokenBucket, StatsScope, TokenBucketSpec, TrafficDirection } from '../../filters/api/index.js';
import { BoundStatsScope, StatsBinding } from './filter-stats.js';
import type { StatsRegistry } from './stats-registry.js';

/** What a server gives the filters of the listeners it serves. */
export interface FilterEnvironment {
  readonly stats: StatsRegistry;
  /** False with `stats_config.stats_matcher.reject_all`. */
  readonly statsEnabled: boolean;
  readonly node: NodeInfo;
}

const NO_NODE: NodeInfo = Object.freeze({ id: '', metadata: Object.freeze({}) });

/**
 * The FilterContext of one compiled listener. The listener compiler makes it (stat prefix,
 * direction); the server that adopts the listener binds it to its stats and node before the
 * first filter instance is made.
 */
export class ListenerFilterContext implements FilterContext {
  readonly statPrefix: string;
  readonly direction: TrafficDirection;
  readonly stats: StatsScope;
  readonly rootStats: StatsScope;
  readonly #binding = new StatsBinding();
  #node: NodeInfo = NO_NODE;
  readonly #sharedBucket: ((id: string, spec: TokenBucketSpec) => SharedTokenBucket | undefined) | undefined;

  /** `sharedBucket`: the sidecar's buckets when workers serve (docs/workers.md). */
  constructor(statPrefix: string, direction: TrafficDirection, sharedBucket?: (id: string, spec: TokenBucketSpec) => SharedTokenBucket | undefined) {
    this.#sharedBucket = sharedBucket;
    this.statPrefix = statPrefix;
    this.direction = direction;
    this.stats = new BoundStatsScope(statPrefix, this.#binding);
    this.rootStats = new BoundStatsScope('', this.#binding);
  }

  get node(): NodeInfo {
    return this.#node;
  }

  sharedTokenBucket(id: string, spec: TokenBucketSpec): SharedTokenBucket | undefined {
    return this.#sharedBucket?.(id, spec);
  }

  /** Hands the filters the server's stats and node. */
  bind(env: FilterEnvironment): void {
    this.#node = env.node;
    this.#binding.bind(env.stats, env.statsEnabled);
  }

  /** The stats the filters recorded while unbound (tests of a filter on its own read them here). */
  get registry(): StatsRegistry {
    return this.#binding.registry;
  }
}

/** Envoy's traffic_direction as the filter API names it. */
export function directionOf(trafficDirection: string | undefined): TrafficDirection {
  return trafficDirection === 'INBOUND' ? 'inbound' : trafficDirection === 'OUTBOUND' ? 'outbound' : 'unspecified';
}
