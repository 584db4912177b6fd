import type { Metadata } from '../../codecs/api/index.js';
import { bool, compileHeaderMatcher, ConfigError, duration, list, object, oneOfValues, optional, routeMatch, str } from '../../config/index.js';

/** The type URL Aeraki puts on the filter's `config` Any. */
export const RATE_LIMIT_TYPE = 'type.googleapis.com/aeraki.meta_protocol_proxy.filters.ratelimit.v1alpha.RateLimit';

/** Envoy's default deadline for a rate-limit call (the proto documents 20 ms). */
export const DEFAULT_TIMEOUT_MS = 20;

const rateLimitService = object({
  grpc_service: object({
    // Only envoy_grpc: the service is a cluster of this proxy, resolved per call.
    envoy_grpc: object({ cluster_name: str({ minLength: 1 }), authority: optional(str()) }),
  }),
  transport_api_version: optional(oneOfValues(['AUTO', 'V3'])),
});

/** aeraki.meta_protocol_proxy.filters.ratelimit.v1alpha.RateLimit, proto JSON (snake or lowerCamel keys). */
const rateLimit = object({
  '@type': optional(str()),
  match: optional(routeMatch),
  domain: str({ minLength: 1 }),
  timeout: optional(duration()),
  failure_mode_deny: optional(bool()),
  rate_limit_service: rateLimitService,
  descriptors: list(object({ property: str({ minLength: 1 }), descriptor_key: str({ minLength: 1 }) }), { minItems: 1 }),
});

/** One descriptor: the RLS entry key, and the metadata key its value is read from. */
export interface DescriptorSource {
  readonly key: string;
  readonly property: string;
}

/** The filter's config, validated. */
export interface RateLimitConfig {
  readonly domain: string;
  readonly timeoutMs: number;
  readonly failureModeDeny: boolean;
  readonly clusterName: string;
  readonly descriptors: readonly DescriptorSource[];
  /** Whether a request is subject to the limit (the `match`; absent or empty: every request). */
  readonly matches: ((md: Metadata) => boolean) | undefined;
}

/** Validates the filter config; throws a ConfigError naming every bad field. */
export function parseRateLimitConfig(config: unknown): RateLimitConfig {
  const errors: string[] = [];
  const cfg = rateLimit.parse(config, 'config', errors);
  if (cfg !== undefined && cfg['@type'] !== undefined && cfg['@type'] !== RATE_LIMIT_TYPE) {
    errors.push(`config.@type: expected ${RATE_LIMIT_TYPE}, got ${JSON.stringify(cfg['@type'])}`);
  }
  if (cfg === undefined || errors.length > 0) throw new ConfigError(errors, 'ratelimit config');
  const matchers = (cfg.match?.metadata ?? []).map(compileHeaderMatcher);
  return {
    domain: cfg.domain,
    // Aeraki writes `timeout: 0s` when the MetaRouter sets no requestTimeout: that means the default.
    timeoutMs: cfg.timeout === undefined || cfg.timeout === 0 ? DEFAULT_TIMEOUT_MS : cfg.timeout,
    failureModeDeny: cfg.failure_mode_deny === true,
    clusterName: cfg.rate_limit_service.grpc_service.envoy_grpc.cluster_name,
    descriptors: cfg.descriptors.map((d) => ({ key: d.descriptor_key, property: d.property })),
    matches: matchers.length === 0 ? undefined : allOf(matchers),
  };
}

/** All matchers hold (a loop, so the per-request check allocates nothing). */
function allOf(matchers: readonly ((md: Metadata) => boolean)[]): (md: Metadata) => boolean {
  return (md) => {
    for (let i = 0; i < matchers.length; i++) if (!matchers[i]!(md)) return false;
    return true;
  };
}
