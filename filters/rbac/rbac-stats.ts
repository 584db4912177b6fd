/**
 * The counters of one RBAC filter, named as Envoy names them (filters/common/rbac
 * generateStats): `<stat_prefix>rbac.allowed` and `.denied` for the enforced rules,
 * `<stat_prefix>rbac.<shadow_rules_stat_prefix>shadow_allowed` and `shadow_denied` for the
 * shadow rules. A prefix without a trailing dot gets one, as Envoy's statPrefixJoin does.
 */
export class RbacStats {
  allowed = 0;
  denied = 0;
  shadow_allowed = 0;
  shadow_denied = 0;
  readonly #names: readonly [string, string, string, string];

  constructor(statPrefix: string, shadowPrefix: string) {
    const base = statPrefixJoin(statPrefix, 'rbac.');
    const shadow = statPrefixJoin(base, shadowPrefix);
    this.#names = [`${base}allowed`, `${base}denied`, `${shadow}shadow_allowed`, `${shadow}shadow_denied`];
  }

  /** Adds the four counters to `counters` under their full names. */
  collect(counters: Record<string, number>): void {
    const [a, d, sa, sd] = this.#names;
    counters[a] = (counters[a] ?? 0) + this.allowed;
    counters[d] = (counters[d] ?? 0) + this.denied;
    counters[sa] = (counters[sa] ?? 0) + this.shadow_allowed;
    counters[sd] = (counters[sd] ?? 0) + this.shadow_denied;
  }
}

/** Envoy's statPrefixJoin: `a` and `b` with exactly one dot between them. */
export function statPrefixJoin(a: string, b: string): string {
  if (a === '') return b;
  return a.endsWith('.') ? a + b : `${a}.${b}`;
}

/**
 * RBAC stats of this process by full name. A filter rebuilt by a config update under the
 * same names gets the same counters, so they survive the update as the listener's do.
 */
const registry = new Map<string, RbacStats>();

export function rbacStats(statPrefix: string, shadowPrefix: string): RbacStats {
  const key = `${statPrefix}\u0000${shadowPrefix}`;
  let s = registry.get(key);
  if (s === undefined) {
    s = new RbacStats(statPrefix, shadowPrefix);
    registry.set(key, s);
  }
  return s;
}

/** Every RBAC counter of this process (admin /stats; never on the request path). */
export function collectRbacStats(counters: Record<string, number>): void {
  for (const s of registry.values()) s.collect(counters);
}
