/**
 * The resource types' decode+validate in the calling shape the decoder tests were written
 * in (problems pushed to a list, the value or undefined returned), so those tests keep
 * asserting exactly what they asserted before the types moved to proxy/dynamic.
 */
import type { DecodeResult, ValidationContext, XdsResourceType } from '../../xds-client/resource-type.js';
import type { RouteConfigurationConfig } from '../../proxy/config/bootstrap-schema.js';
import { clusterType } from '../../proxy/dynamic/resource-types/cluster-type.js';
import type { ClusterResource } from '../../proxy/dynamic/resource-types/cluster-type.js';
import { listenerType } from '../../proxy/dynamic/resource-types/listener-type.js';
import type { ListenerResource } from '../../proxy/dynamic/resource-types/listener-type.js';
import { routeType } from '../../proxy/dynamic/resource-types/route-type.js';

type Obj = Record<string, unknown>;

/** decode, then validate; the value, 'ignored', or undefined with the problems in `errors`. */
export function decodeAndValidate<T>(type: XdsResourceType<T>, res: Obj, ctx: Omit<ValidationContext, 'name'>, errors: string[], warnings: string[] = []): T | 'ignored' | undefined {
  const d: DecodeResult<T> = type.decode(res);
  if (d.kind === 'ignored') return 'ignored';
  if (d.kind === 'invalid') {
    errors.push(...d.errors);
    return undefined;
  }
  const problems = type.validate(d.value, { ...ctx, name: typeof res['name'] === 'string' ? res['name'] : '' });
  if (problems.length > 0) {
    errors.push(...problems);
    return undefined;
  }
  warnings.push(...(d.warnings ?? []));
  return d.value;
}

export function decodeListener(res: Obj, errors: string[]): ListenerResource | 'not-ours' | undefined {
  const v = decodeAndValidate(listenerType, res, { subscribed: '*' }, errors);
  return v === 'ignored' ? 'not-ours' : v;
}

export function decodeCluster(res: Obj, errors: string[], warnings: string[]): ClusterResource | undefined {
  const v = decodeAndValidate(clusterType, res, { subscribed: '*' }, errors, warnings);
  return v === 'ignored' ? undefined : v;
}

/** A MetaRDS resource as the stream that asked for `expectedName` (any name when undefined) takes it. */
export function metaRouteConfigFromRds(res: Obj, expectedName: string | undefined, errors: string[]): RouteConfigurationConfig | undefined {
  const v = decodeAndValidate(routeType, res, { subscribed: expectedName === undefined ? '*' : new Set([expectedName]) }, errors);
  return v === 'ignored' ? undefined : v?.config;
}
