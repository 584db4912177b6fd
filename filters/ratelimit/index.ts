import type { Filter, FilterContext, FilterFactory } from '../api/index.js';
import { filterStatsGroup } from '../../proxy/observability/filter-stats.js';
import { parseRateLimitConfig } from './config.js';
import { GlobalRateLimiter } from './global-rate-limiter.js';
import { DEFAULT_BREAKER, RateLimitShared } from './service-breaker.js';

export { RATE_LIMIT_TYPE, DEFAULT_TIMEOUT_MS } from './config.js';
export { GlobalRateLimiter, MAX_BATCH } from './global-rate-limiter.js';
export { closeRlsChannels } from './rls-channel.js';

export const rateLimitFilterFactory: FilterFactory = {
  name: 'aeraki.meta_protocol.filters.ratelimit',
  create(config: unknown, context?: FilterContext): () => Filter {
    const cfg = parseRateLimitConfig(config);
    const prefix = context?.statPrefix ?? '';
    const shared = filterStatsGroup(`${prefix}ratelimit.`, () => new RateLimitShared(prefix, DEFAULT_BREAKER));
    // One limiter per filter config, shared by every exchange of the listener.
    const limiter = new GlobalRateLimiter(cfg, shared);
    return () => limiter;
  },
};
