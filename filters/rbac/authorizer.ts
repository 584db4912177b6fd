import { compileRbacRules } from './engine.js';
import type { RbacEngine, RbacRequest } from './engine.js';
import type { RbacFilterConfig } from './rbac-schema.js';
import { rbacStats } from './rbac-stats.js';
import type { RbacStats } from './rbac-stats.js';

/**
 * One RBAC filter's rules and shadow rules, and its counters: what both the network filter
 * and the MetaProtocol filter run. The shadow rules are evaluated first and only counted;
 * the enforced rules decide. A filter without `rules` lets everything through uncounted, as
 * Envoy's does.
 */
export class RbacAuthorizer {
  readonly engine: RbacEngine | undefined;
  readonly shadow: RbacEngine | undefined;
  readonly stats: RbacStats;
  /** The parsed config it was built from (compared to tell a changed listener from an unchanged one). */
  readonly config: RbacFilterConfig;

  constructor(config: RbacFilterConfig, engine: RbacEngine | undefined, shadow: RbacEngine | undefined, stats: RbacStats) {
    this.config = config;
    this.engine = engine;
    this.shadow = shadow;
    this.stats = stats;
  }

  /** Counts and returns the decision: true to let the request (or connection) through. */
  check(r: RbacRequest): boolean {
    const stats = this.stats;
    if (this.shadow !== undefined) {
      if (this.shadow.evaluate(r).allowed) stats.shadow_allowed++;
      else stats.shadow_denied++;
    }
    if (this.engine === undefined) return true;
    if (this.engine.evaluate(r).allowed) {
      stats.allowed++;
      return true;
    }
    stats.denied++;
    return false;
  }
}

/**
 * Compiles a parsed filter config; `statPrefix` is the full prefix its counters go under
 * (the filter's own `stat_prefix`, after the listener's for a MetaProtocol filter).
 */
export function compileRbacFilter(cfg: RbacFilterConfig, statPrefix: string, path: string, errors: string[]): RbacAuthorizer | undefined {
  const start = errors.length;
  const engine = cfg.rules === undefined ? undefined : compileRbacRules(cfg.rules, `${path}.rules`, errors);
  const shadow = cfg.shadow_rules === undefined ? undefined : compileRbacRules(cfg.shadow_rules, `${path}.shadow_rules`, errors);
  if (errors.length > start) return undefined;
  return new RbacAuthorizer(cfg, engine, shadow, rbacStats(statPrefix, cfg.shadow_rules_stat_prefix ?? ''));
}
