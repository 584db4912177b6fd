/**
 * The config schema of Envoy's RBAC (envoy.config.rbac.v3: RBAC, Policy, Permission,
 * Principal) and of the network RBAC filter's typed_config
 * (envoy.extensions.filters.network.rbac.v3.RBAC), with the field names of those protos.
 *
 * Two flavours share it. `network` is what `envoy.filters.network.rbac` reads: connection
 * facts only. `meta` is `meltemi.filters.rbac`, per request: a permission (or principal)
 * may also match MetaProtocol metadata with one HeaderMatcher, spelt `metadata` as the routes
 * spell it, or `header` as Envoy's HTTP RBAC does. Every other field of the protos (CEL
 * `condition`, `url_path`, `matcher`, `filter_state`, ...) is refused with its path by the
 * schema's "not supported by Meltemi" rule.
 */
import { bool, headerMatcher, int, list, object, oneOfValues, optional, record, refine, str, stringMatcher, wrappedInt } from '../../config/index.js';
import type { HeaderMatcherConfig, Schema, StringMatcherConfig } from '../../config/index.js';

/** The type URL of both filters' config. */
export const RBAC_TYPE = 'type.googleapis.com/envoy.extensions.filters.network.rbac.v3.RBAC';

export type RbacFlavour = 'network' | 'meta';

export interface CidrRangeConfig {
  address_prefix: string;
  prefix_len?: number;
}

export interface PermissionConfig {
  and_rules?: { rules: PermissionConfig[] };
  or_rules?: { rules: PermissionConfig[] };
  not_rule?: PermissionConfig;
  any?: boolean;
  destination_ip?: CidrRangeConfig;
  destination_port?: number;
  destination_port_range?: { start: number; end: number };
  requested_server_name?: StringMatcherConfig;
  header?: HeaderMatcherConfig;
  metadata?: HeaderMatcherConfig;
}

export interface PrincipalConfig {
  and_ids?: { ids: PrincipalConfig[] };
  or_ids?: { ids: PrincipalConfig[] };
  not_id?: PrincipalConfig;
  any?: boolean;
  authenticated?: { principal_name?: StringMatcherConfig };
  source_ip?: CidrRangeConfig;
  direct_remote_ip?: CidrRangeConfig;
  remote_ip?: CidrRangeConfig;
  header?: HeaderMatcherConfig;
}

export type RbacAction = 'ALLOW' | 'DENY' | 'LOG';

export interface PolicyConfig {
  permissions: PermissionConfig[];
  principals: PrincipalConfig[];
}

export interface RbacRulesConfig {
  action?: RbacAction;
  policies?: Record<string, PolicyConfig>;
}

export interface RbacFilterConfig {
  rules?: RbacRulesConfig;
  shadow_rules?: RbacRulesConfig;
  shadow_rules_stat_prefix?: string;
  stat_prefix: string;
  enforcement_type?: 'ONE_TIME_ON_FIRST_BYTE' | 'CONTINUOUS';
}

const cidrRange = object(
  { address_prefix: str({ minLength: 1 }), prefix_len: optional(wrappedInt({ min: 0, max: 128 })) },
  { proto: 'envoy.config.core.v3.CidrRange' },
);

/** `any` is a `bool` whose only valid value is true (Envoy: `const: true`). */
const anyTrue = refine(bool(), (v) => (v ? undefined : 'must be true when set (Envoy: const true)'));

/** One of the keys of a proto oneof that is required (validate.required). */
function exactlyOne<T extends object>(s: Schema<T>, what: string, keys: readonly string[]): Schema<T> {
  return refine(s, (v) => {
    const set = keys.filter((k) => (v as Record<string, unknown>)[k] !== undefined);
    if (set.length === 1) return undefined;
    return set.length === 0 ? `a ${what} needs one of ${keys.join(', ')}` : `a ${what} takes only one of ${keys.join(', ')} (found ${set.join(', ')})`;
  });
}

type Fields = Record<string, Schema<unknown>>;

function permissionSchema(flavour: RbacFlavour): Schema<PermissionConfig> {
  const fields: Fields = {
    any: optional(anyTrue),
    destination_ip: optional(cidrRange),
    destination_port: optional(int({ min: 0, max: 65535 })),
    destination_port_range: optional(object({ start: int(), end: int() }, { proto: 'envoy.type.v3.Int32Range' })),
    requested_server_name: optional(stringMatcher),
  };
  if (flavour === 'meta') {
    fields['header'] = optional(headerMatcher);
    fields['metadata'] = optional(headerMatcher);
  }
  const permission = exactlyOne(object(fields, { proto: 'envoy.config.rbac.v3.Permission' }) as Schema<PermissionConfig>, 'permission', [
    'and_rules',
    'or_rules',
    'not_rule',
    ...Object.keys(fields),
  ]);
  // The recursive members are added after the fact: object() reads its fields at parse time.
  const set = object({ rules: list(permission, { minItems: 1 }) }, { proto: 'envoy.config.rbac.v3.Permission.Set' });
  fields['and_rules'] = optional(set);
  fields['or_rules'] = optional(set);
  fields['not_rule'] = optional(permission);
  return permission;
}

function principalSchema(flavour: RbacFlavour): Schema<PrincipalConfig> {
  const fields: Fields = {
    any: optional(anyTrue),
    authenticated: optional(object({ principal_name: optional(stringMatcher) }, { proto: 'envoy.config.rbac.v3.Principal.Authenticated' })),
    source_ip: optional(cidrRange),
    direct_remote_ip: optional(cidrRange),
    remote_ip: optional(cidrRange),
  };
  if (flavour === 'meta') fields['header'] = optional(headerMatcher);
  const principal = exactlyOne(object(fields, { proto: 'envoy.config.rbac.v3.Principal' }) as Schema<PrincipalConfig>, 'principal', [
    'and_ids',
    'or_ids',
    'not_id',
    ...Object.keys(fields),
  ]);
  const set = object({ ids: list(principal, { minItems: 1 }) }, { proto: 'envoy.config.rbac.v3.Principal.Set' });
  fields['and_ids'] = optional(set);
  fields['or_ids'] = optional(set);
  fields['not_id'] = optional(principal);
  return principal;
}

function rulesSchema(flavour: RbacFlavour): Schema<RbacRulesConfig> {
  const policy = object(
    { permissions: list(permissionSchema(flavour), { minItems: 1 }), principals: list(principalSchema(flavour), { minItems: 1 }) },
    { proto: 'envoy.config.rbac.v3.Policy' },
  );
  return object({ action: optional(oneOfValues(['ALLOW', 'DENY', 'LOG'] as const)), policies: optional(record(policy)) }, { proto: 'envoy.config.rbac.v3.RBAC' });
}

/**
 * The typed_config of `envoy.filters.network.rbac` (flavour `network`) or the config of
 * `meltemi.filters.rbac` (flavour `meta`): Envoy's network RBAC message either way.
 */
export function rbacFilterSchema(flavour: RbacFlavour): Schema<RbacFilterConfig> {
  const rules = rulesSchema(flavour);
  const fields: Fields = {
    '@type': optional(refine(str(), (t) => (t === RBAC_TYPE ? undefined : `expected ${RBAC_TYPE}, got ${JSON.stringify(t)}`))),
    rules: optional(rules),
    shadow_rules: optional(rules),
    shadow_rules_stat_prefix: optional(str()),
    stat_prefix: str({ minLength: 1 }),
  };
  if (flavour === 'network') {
    // Every fact a network RBAC reads (addresses, ports, TLS peer, SNI) is fixed once the
    // first byte arrived, so re-checking each chunk could only count more, never decide
    // otherwise: CONTINUOUS is refused rather than emulated.
    fields['enforcement_type'] = optional(
      refine(oneOfValues(['ONE_TIME_ON_FIRST_BYTE', 'CONTINUOUS'] as const), (v) =>
        v === 'CONTINUOUS' ? 'CONTINUOUS is not supported by Meltemi (no connection fact it matches changes after the first byte; use ONE_TIME_ON_FIRST_BYTE)' : undefined,
      ),
    );
  }
  return object(fields, { proto: 'envoy.extensions.filters.network.rbac.v3.RBAC' }) as unknown as Schema<RbacFilterConfig>;
}

/** Exported for the generated docs/configuration.md. */
export const networkRbacConfig = rbacFilterSchema('network');
export const metaRbacConfig = rbacFilterSchema('meta');
