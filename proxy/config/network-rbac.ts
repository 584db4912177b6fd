/**
 * The network filters a listener's filter chain may carry before the MetaProtocol proxy:
 * `envoy.filters.network.rbac` (istiod puts one per AuthorizationPolicy action on every
 * inbound chain, spec/istio-sidecar.md §6). Compiled here into RBAC authorizers that the
 * downstream connection runs on its first bytes. Any other filter there is refused by name.
 */
import { compileRbacFilter, networkRbacConfig } from '../../filters/rbac/index.js';
import type { RbacAuthorizer } from '../../filters/rbac/index.js';
import { RBAC_TYPE } from '../../filters/rbac/rbac-schema.js';

const NETWORK_RBAC = 'envoy.filters.network.rbac';
const TYPED_STRUCT_TYPES = new Set(['type.googleapis.com/udpa.type.v1.TypedStruct', 'type.googleapis.com/xds.type.v3.TypedStruct']);

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The RBAC config in `typedConfig` (given directly or in a TypedStruct), or undefined when it is another type. */
function rbacPayload(typedConfig: unknown): Obj | undefined {
  if (!isObj(typedConfig)) return undefined;
  const type = typedConfig['@type'];
  if (type === RBAC_TYPE) return typedConfig;
  if (typeof type === 'string' && TYPED_STRUCT_TYPES.has(type) && (typedConfig['type_url'] ?? typedConfig['typeUrl']) === RBAC_TYPE) {
    return isObj(typedConfig['value']) ? typedConfig['value'] : {};
  }
  return undefined;
}

/** True when `filter` is a network RBAC filter (by its typed_config's type, as Envoy resolves it). */
export function isNetworkRbacFilter(filter: unknown): boolean {
  return isObj(filter) && rbacPayload(filter['typed_config']) !== undefined;
}

/**
 * Compiles the filters in front of the MetaProtocol proxy (`filters`, at `path[i]`), in
 * order. Returns undefined after pushing the problems when one is not an RBAC filter or
 * its config is refused.
 */
export function compileNetworkRbac(filters: readonly { name: string; typed_config: unknown }[], path: string, errors: string[]): RbacAuthorizer[] | undefined {
  const start = errors.length;
  const out: RbacAuthorizer[] = [];
  filters.forEach((f, i) => {
    const fp = `${path}[${i}]`;
    const raw = rbacPayload(f.typed_config);
    if (raw === undefined) {
      const type = isObj(f.typed_config) ? JSON.stringify(f.typed_config['@type']) : 'none';
      errors.push(`${fp}: network filter ${f.name} (typed_config ${type}) is not supported before the MetaProtocol proxy or tcp_proxy; only ${NETWORK_RBAC} (${RBAC_TYPE}) is`);
      return;
    }
    const cfg = networkRbacConfig.parse(raw, `${fp}.typed_config`, errors);
    if (cfg === undefined) return;
    const rbac = compileRbacFilter(cfg, cfg.stat_prefix, `${fp}.typed_config`, errors);
    if (rbac !== undefined) out.push(rbac);
  });
  return errors.length > start ? undefined : out;
}
