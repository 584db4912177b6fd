import type { Filter, FilterContext, FilterFactory } from '../api/index.js';
import { parseRateLimitConfig } from './config.js';
import { GlobalRateLimiter } from './global-rate-limiter.js';
import { DEFAULT_BREAKER, RateLimitShared } from './service-breaker.js';

export { RATE_LIMIT_TYPE, DEFAULT_TIMEOUT_MS } from './config.js';
export { GlobalRateLimiter, MAX_BATCH } from './global-rate-limiter.js';
export { closeRlsChannels } from './rls-channel.js';

/**
 * The breaker and stats of each listener's rate limit, by stat prefix: a filter rebuilt by
 * a listener update keeps them, so counters go on and an open breaker stays open.
 */
const sharedByPrefix = new Map<string, RateLimitShared>();

function sharedFor(context: FilterContext): RateLimitShared {
  let s = sharedByPrefix.get(context.statPrefix);
  if (s === undefined) sharedByPrefix.set(context.statPrefix, (s = new RateLimitShared(context.stats.scope('ratelimit'), DEFAULT_BREAKER)));
  return s;
}

export const rateLimitFilterFactory: FilterFactory = {
  name: 'aeraki.meta_protocol.filters.ratelimit',
  create(config: unknown, context: FilterContext): () => Filter {
    const cfg = parseRateLimitConfig(config);
    // One limiter per filter config, shared by every exchange of the listener. It is made
    // when the listener starts serving, so a config compiled only to be validated (xDS)
    // leaves nothing behind.
    let limiter: GlobalRateLimiter | undefined;
    return () => (limiter ??= new GlobalRateLimiter(cfg, sharedFor(context)));
  },
};
