/**
 * MetaRDS RouteConfigurations (spec/metaprotocol.md §6.6, the client side of Aeraki's
 * `metaProtocolRoute2HttpRoute`): Aeraki carries each meta route table in an HTTP
 * RouteConfiguration with one virtual host. Each is translated to the meta route model and
 * compiled to its RouteTable once, here; the applier swaps that table in. Removals are
 * ignored, as Aeraki's client does: a table stays until no listener names it.
 */
import type { DecodeResult, ValidationContext, XdsResourceType } from '../../../xds-client/resource-type.js';
import { sameContent } from '../../../xds-client/resource-equality.js';
import { checkEnumValues } from '../../../xds-client/enum-check.js';
import { ROUTE_TYPE } from '../../../xds-client/type-urls.js';
import { routeConfiguration } from '../../config/bootstrap-schema.js';
import type { RouteConfigurationConfig } from '../../config/bootstrap-schema.js';
import { RouteTable } from '../../route/route-table.js';
import { arr, isObj, nameOf } from './plain-object.js';
import type { Obj } from './plain-object.js';

/** A meta route table from MetaRDS. */
export interface RouteResource {
  readonly name: string;
  /** The meta route model: plain data, for workers (IPC) and /config_dump. */
  readonly config: RouteConfigurationConfig;
  /** Compiled once; shared by every listener naming it. */
  readonly table: RouteTable;
}


/** A UInt32Value weight; proto3 leaves a zero wrapper empty (`{}`), which still means 0. */
function weightOf(w: unknown): unknown {
  if (w === undefined) return 0;
  return isObj(w) ? Number(w['value'] ?? 0) : w;
}

function keyValues(headersToAdd: unknown): { key: string; value: string }[] {
  return arr(headersToAdd).flatMap((h) => {
    const header = isObj(h) && isObj(h['header']) ? h['header'] : undefined;
    return header !== undefined && typeof header['key'] === 'string' ? [{ key: header['key'], value: typeof header['value'] === 'string' ? header['value'] : '' }] : [];
  });
}

function translateAction(action: Obj): Obj {
  const out: Obj = {};
  if (typeof action['cluster'] === 'string') out['cluster'] = action['cluster'];
  const wc = action['weighted_clusters'];
  if (isObj(wc)) {
    // Only name and weight are used; total_weight is ignored (§6.2).
    out['weighted_clusters'] = { clusters: arr(wc['clusters']).map((c) => (isObj(c) ? { name: c['name'], weight: weightOf(c['weight']) } : c)) };
  }
  const hash = arr(action['hash_policy']);
  // Policies other than header become "" (Aeraki's client does the same).
  if (hash.length > 0) out['hash_policy'] = hash.map((p) => (isObj(p) && isObj(p['header']) && typeof p['header']['header_name'] === 'string' ? p['header']['header_name'] : ''));
  const mirrors = arr(action['request_mirror_policies']);
  if (mirrors.length > 0) {
    out['request_mirror_policies'] = mirrors.map((m) => {
      const mo = isObj(m) ? m : {};
      const rf = isObj(mo['runtime_fraction']) ? mo['runtime_fraction'] : undefined;
      // Only default_value is kept; a policy without runtime_fraction is 0% on the client (§6.6).
      const dv = rf !== undefined && isObj(rf['default_value']) ? rf['default_value'] : { numerator: 0 };
      return { cluster: mo['cluster'], runtime_fraction: { default_value: dv } };
    });
  }
  if (action['timeout'] !== undefined) out['timeout'] = action['timeout'];
  return out;
}

/**
 * Translates and validates one MetaRDS resource. Returns the meta route table config, or
 * pushes the problems to `errors` (each becomes part of the NACK's error_detail).
 */
export function metaRouteConfigFromRds(resource: Obj, errors: string[]): RouteConfigurationConfig | undefined {
  return translateRds(resource, errors)?.config;
}

function translateRds(resource: Obj, errors: string[]): RouteResource | undefined {
  const name = nameOf(resource);
  const start = errors.length;
  checkEnumValues('envoy.config.route.v3.RouteConfiguration', resource, `route config ${name}`, errors);
  if (errors.length > start) return undefined;
  const vhosts = arr(resource['virtual_hosts']);
  if (vhosts.length !== 1 || !isObj(vhosts[0])) {
    errors.push(`route config ${name}: a MetaRDS route config has exactly one virtual host (got ${vhosts.length})`);
    return undefined;
  }
  const routes = arr(vhosts[0]['routes']);
  if (routes.length === 0) {
    errors.push(`route config ${name}: the virtual host has no routes`);
    return undefined;
  }
  const metaRoutes = routes.map((r, i) => {
    const ro = isObj(r) ? r : {};
    const match = isObj(ro['match']) ? ro['match'] : {};
    const action = isObj(ro['route']) ? ro['route'] : undefined;
    if (action === undefined) errors.push(`route config ${name}: routes[${i}]: only route actions are supported (no redirect/direct_response)`);
    const out: Obj = {
      // The path matcher (prefix "/") Aeraki adds is ignored; headers are metadata matchers.
      match: { metadata: arr(match['headers']) },
      route: translateAction(action ?? {}),
    };
    if (typeof ro['name'] === 'string' && ro['name'] !== '') out['name'] = ro['name'];
    const reqMut = keyValues(ro['request_headers_to_add']);
    if (reqMut.length > 0) out['request_mutation'] = reqMut;
    const respMut = keyValues(ro['response_headers_to_add']);
    if (respMut.length > 0) out['response_mutation'] = respMut;
    return out;
  });
  if (errors.length > start) return undefined;
  const config = routeConfiguration.parse({ name, routes: metaRoutes }, `route config ${name}`, errors);
  if (config === undefined || errors.length > start) return undefined;
  try {
    return { name, config, table: new RouteTable(config) };
  } catch (err) {
    errors.push(`route config ${name}: ${(err as Error).message}`);
    return undefined;
  }
}

/** Decodes a MetaRDS RouteConfiguration proto into its compiled table. */
export function decodeRoutes(resource: Obj): DecodeResult<RouteResource> {
  const errors: string[] = [];
  const value = translateRds(resource, errors);
  return value === undefined ? { kind: 'invalid', errors } : { kind: 'ok', value };
}

/** Envoy's RDS check: a route config must be one this stream asked for. */
export function validateRouteName(value: RouteResource, ctx: ValidationContext): readonly string[] {
  if (ctx.subscribed === '*' || ctx.subscribed.has(value.name)) return [];
  return [`Unexpected RDS configuration (expecting ${[...ctx.subscribed].join(' or ')}): ${value.name}`];
}

export const routeType: XdsResourceType<RouteResource> = {
  typeUrl: ROUTE_TYPE,
  shortName: 'rds',
  acceptance: 'all-or-nothing',
  ignoresRemovals: true,
  decode: decodeRoutes,
  validate: validateRouteName,
  equal: (a, b) => sameContent(a.config, b.config),
};
