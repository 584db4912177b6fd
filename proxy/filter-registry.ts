import type { FilterFactory } from '../filters/api/index.js';
import { faultFilterFactory } from '../filters/fault/index.js';
import { istioStatsFilterFactory } from '../filters/istio-stats/index.js';
import { metadataExchangeFilterFactory } from '../filters/metadata-exchange/index.js';
import { localRateLimitFilterFactory } from '../filters/local-ratelimit/index.js';
import { rateLimitFilterFactory } from '../filters/ratelimit/index.js';
import { rbacFilterFactory } from '../filters/rbac/index.js';
import { routerFilterFactory } from '../filters/router/index.js';

/** Built-in filters by registry name (Aeraki's names where they exist). */
const builtins = new Map<string, FilterFactory>(
  [routerFilterFactory, localRateLimitFilterFactory, rateLimitFilterFactory, faultFilterFactory, istioStatsFilterFactory, metadataExchangeFilterFactory, rbacFilterFactory].map((f) => [f.name, f]),
);

export function registerFilter(factory: FilterFactory): void {
  builtins.set(factory.name, factory);
}

export function findFilter(name: string): FilterFactory | undefined {
  return builtins.get(name);
}

export function filterNames(): string[] {
  return [...builtins.keys()];
}
